"""Salesforce record ids: the key prefix (first three characters) names the sObject.

Prefixes of standard objects are fixed across orgs (Salesforce Help, "Look up an object type by
its record ID key prefix", article 000385203: Account 001, Contact 003, User 005, Opportunity 006,
Lead 00Q, Task 00T; Case is 500). Ids are 15 characters (case-sensitive) or 18 (with a checksum
suffix); the prefix is case-sensitive too (00Q is Lead, 00q is not).
"""

from __future__ import annotations

PREFIXES: dict[str, str] = {
    "Account": "001",
    "Contact": "003",
    "User": "005",
    "Opportunity": "006",
    "Lead": "00Q",
    "Task": "00T",
    "Case": "500",
}
_BY_PREFIX = {prefix: sobject for sobject, prefix in PREFIXES.items()}


def prefix_problem(sobject: str, record_id: str) -> str | None:
    """Why `record_id` cannot be a record of `sobject`, or None when it can (or we cannot tell)."""
    prefix = record_id[:3]
    owner = _BY_PREFIX.get(prefix)
    if owner == sobject:
        return None
    if owner is not None:
        return (
            f"record id {record_id}: {prefix} is {_a(owner)} id, not {_a(sobject)} id; "
            "send the id of the record you mean, or its real sobject"
        )
    expected = PREFIXES.get(sobject)
    if expected is not None:
        return f"record id {record_id}: {_a(sobject)} id starts with {expected}"
    return None  # a custom or less common object: its prefix is org-specific


def _a(sobject: str) -> str:
    # "a User", "an Account": U is the only vowel letter said with a consonant here
    return f"{'an' if sobject[0] in 'AEIO' else 'a'} {sobject}"
