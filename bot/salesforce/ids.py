"""Salesforce record ids: the 15-character form and its 18-character case-safe form are one id.

Salesforce answers with 18-character ids but accepts both forms in every call, and people paste
15-character ids from URLs and reports. The 18-character form appends three characters that
encode which of the first 15 are upper case, so it survives case-insensitive tools; that is also
how a lower-cased 18-character id is read back. Algorithm: "ID Field Type", SOAP API Developer
Guide, https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/field_types.htm#i1435616
"""

from __future__ import annotations

import re
from functools import lru_cache

_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-5]{3})?")  # the suffix: _SUFFIX_ALPHABET, any case
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
QUEUE_PREFIX = "00G"  # Group: an owner that is a queue, not a person
USER_PREFIX = "005"


def _suffix(base: str) -> str:
    # each 5-character chunk: bit i set when its i-th character is an upper-case letter
    letters = []
    for start in range(0, 15, 5):
        chunk = base[start : start + 5]
        bits = sum(1 << i for i, char in enumerate(chunk) if "A" <= char <= "Z")
        letters.append(_SUFFIX_ALPHABET[bits])
    return "".join(letters)


@lru_cache(maxsize=65_536)
def to_18(record_id: str) -> str:
    """The canonical 18-character id of a 15- or 18-character id (ValueError for anything else).

    An 18-character id is read case-insensitively: its suffix restores the case of the first 15.
    """
    if not _ID.fullmatch(record_id):
        raise ValueError(
            f"not a Salesforce id (15 or 18 letters and digits; the last three of 18 are letters"
            f" or 0-5): {record_id!r}"
        )
    if len(record_id) == 15:
        return record_id + _suffix(record_id)
    suffix = record_id[15:].upper()
    base = list(record_id[:15].lower())
    for chunk, letter in enumerate(suffix):
        bits = _SUFFIX_ALPHABET.index(letter)
        for i in range(5):
            if bits & (1 << i):
                base[chunk * 5 + i] = base[chunk * 5 + i].upper()
    return "".join(base) + suffix


def id_key(record_id: str | None) -> str:
    """A comparable key for an id: its 18-character form, or the text as given if not an id."""
    if not record_id:
        return ""
    try:
        return to_18(record_id)
    except ValueError:
        return record_id


def same_id(left: str | None, right: str | None) -> bool:
    """Whether two ids name the same record (15 or 18 characters, any case for 18)."""
    return bool(left) and id_key(left) == id_key(right)
