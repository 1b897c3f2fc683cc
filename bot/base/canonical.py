"""Canonical JSON and its hash: the same data always serialises to the same bytes."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(data: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept as is."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_hex(text: str) -> str:
    """Hex SHA-256 of a string's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_hash(data: Any) -> str:
    """Hex SHA-256 of the canonical JSON of `data`."""
    return sha256_hex(canonical_json(data))
