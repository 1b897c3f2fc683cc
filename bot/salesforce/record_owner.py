"""The Salesforce owner of a record, as a person: read in one query, or in two when the owner
may be a queue."""

from __future__ import annotations

from typing import Any

from bot.salesforce.client import USER_FIELDS, SalesforceClient, SalesforceError
from bot.salesforce.ids import QUEUE_PREFIX

OWNER_FIELDS = ("OwnerId", "Owner.Email", "Owner.IsActive", "Owner.ManagerId")
# sObjects whose OwnerId can only be a User (never a queue), so Owner.ManagerId exists
USER_OWNED = frozenset({"Account", "Contact", "Opportunity"})


def read_owner(sf: SalesforceClient, sobject: str, record_id: str) -> dict[str, Any] | str:
    """OwnerId and the owner's Email, IsActive and ManagerId (as `Owner.<field>`), or why not.

    Where the owner is always a User, one query reads it all. Elsewhere (Lead, Case, custom
    objects) Owner is polymorphic (a User or a queue) and has no ManagerId, so the owner's id is
    read first, then the User (SOQL and SOSL Reference, "Understanding Relationship Fields and
    Polymorphic Fields"; Object Reference, "Name").
    """
    try:
        if sobject in USER_OWNED:
            rows = sf.read_fields(sobject, [record_id], OWNER_FIELDS)
            found = next(iter(rows.values()), None)
            return found or f"{sobject} {record_id} was not found in Salesforce"
        rows = sf.read_fields(sobject, [record_id], ("OwnerId",))
        row = next(iter(rows.values()), None)
        if row is None:
            return f"{sobject} {record_id} was not found in Salesforce"
        owner_id = str(row["OwnerId"])
        if owner_id.startswith(QUEUE_PREFIX):
            return f"{sobject} {record_id} is owned by queue {owner_id}, not by a person"
        user = sf.get_user(owner_id)
    except (SalesforceError, ValueError) as error:
        return f"could not read the owner of {sobject} {record_id}: {error}"
    if user is None:
        return f"record owner {owner_id} of {sobject} {record_id} was not found in Salesforce"
    return {"OwnerId": owner_id} | {f"Owner.{name}": user.get(name) for name in USER_FIELDS}
