"""Bind each audit event to AIRLOCK_AUDIT_KEY as it is written: one HMAC-SHA256 per event.

A hash chain alone can be recomputed by anyone who can write the database, and a signed
checkpoint only covers what it has seen (up to a minute behind). A MAC over each event's chain
hash, under a key the database does not hold, closes that gap: rewriting even the newest event
and recomputing its chain leaves a MAC that no longer matches, and `airlock audit verify` names it.
"""

from __future__ import annotations

import hmac
from typing import Any

# Where a transaction carries the key (bot.db.Database puts it on each write's `info`).
INFO = "airlock_audit_key"


def mac(key: str, chain_hash: str) -> str:
    """The MAC binding one event's chain hash (which covers its content and order) to the key."""
    return hmac.digest(key.encode(), chain_hash.encode(), "sha256").hex()  # one-shot, in C


def seal(info: dict[Any, Any], rows: list[dict[str, Any]]) -> None:
    """Add the MAC to event rows about to be inserted, when the transaction holds the key."""
    key = info.get(INFO)
    for row in rows:
        row["mac"] = mac(key, row["hash"]) if key else None


def matches(key: str, chain_hash: str, stored: str) -> bool:
    """Whether a stored MAC is the key's MAC of the chain hash (constant-time)."""
    return hmac.compare_digest(mac(key, chain_hash), stored)
