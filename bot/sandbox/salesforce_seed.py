"""Schema and deterministic seed data of the sandbox Salesforce org (shared with the Slack side)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bot.sandbox.salesforce_schema import METADATA, STAGE_PROBABILITY, FieldSpec

EMAIL_DOMAIN = "sandbox.airlock.dev"
SEED_TIMESTAMP = "2026-11-01T09:00:00.000+0000"
KEY_PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "Task": "00T",
    "User": "005",
    "Lead": "00Q",
    "Case": "500",
    "Group": "00G",  # a queue, when Type is "Queue"
}
__all__ = ["STAGE_PROBABILITY", "FieldSpec"]

FIELDS: dict[str, frozenset[str]] = {sobject: frozenset(f) for sobject, f in METADATA.items()}
# Long text areas cannot appear in a real WHERE clause; reconciling on Task.Description fails there.
UNFILTERABLE_FIELDS: dict[str, frozenset[str]] = {
    "Account": frozenset({"Description"}),
    "Opportunity": frozenset({"Description"}),
    "Task": frozenset({"Description"}),
}
_OWNER = ("OwnerId", "User")
_ACCOUNT = ("AccountId", "Account")
_ANY_OWNER = ("OwnerId", "Name")
# relationship name -> (lookup field, target sObject); one level deep, as Airlock queries them
RELATIONSHIPS: dict[str, dict[str, tuple[str, str]]] = {
    "User": {"Manager": ("ManagerId", "User")},
    "Account": {"Owner": _OWNER},
    "Opportunity": {"Owner": _OWNER, "Account": _ACCOUNT},
    "Contact": {"Owner": _OWNER, "Account": _ACCOUNT},
    "Task": {"Owner": _OWNER},
    # A Lead or Case may be owned by a User or a queue: Owner points at the polymorphic Name
    # object, which has no ManagerId (Object Reference, "Name"; SOQL and SOSL Reference,
    # "Understanding Relationship Fields and Polymorphic Fields").
    "Lead": {"Owner": _ANY_OWNER},
    "Case": {"Owner": _ANY_OWNER, "Account": _ACCOUNT},
}
# What SOQL may read through a polymorphic owner (a subset of the Name object's fields).
NAME_FIELDS = frozenset(
    ("Id", "Name", "FirstName", "LastName", "Email", "IsActive", "Type", "Username", "Title")
)
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def make_id(sobject: str, number: int) -> str:
    """Return the 18-character Salesforce-style id of the n-th record of an sObject."""
    base = f"{KEY_PREFIXES[sobject]}Ai{number:010d}"
    suffix = ""
    # Salesforce's case-safe suffix: each 5-character chunk's uppercase positions as one letter
    for start in range(0, 15, 5):
        chunk = base[start : start + 5]
        bits = sum(1 << index for index, char in enumerate(chunk) if char.isupper())
        suffix += _CHECKSUM_ALPHABET[bits]
    return base + suffix


@dataclass(frozen=True)
class SeedPerson:
    """A seeded sales person; the Slack stand-in can be seeded with the same emails."""

    name: str
    email: str
    role: Literal["rep", "manager", "admin"]
    manager_email: str | None
    tz: str
    slack_id: str
    title: str
    salesforce_id: str


def _person(
    number: int,
    full_name: str,
    role: Literal["rep", "manager", "admin"],
    manager: str | None,
    tz: str,
    title: str,
) -> SeedPerson:
    first = full_name.split()[0]
    return SeedPerson(
        name=full_name,
        email=f"{first.lower()}.{role}@{EMAIL_DOMAIN}",
        role=role,
        manager_email=f"{manager.lower()}.manager@{EMAIL_DOMAIN}" if manager else None,
        tz=tz,
        slack_id=f"U0{first.upper()}",
        title=title,
        salesforce_id=make_id("User", number),
    )


SEED_PEOPLE: list[SeedPerson] = [
    _person(1, "Olivia Park", "admin", None, "America/Chicago", "RevOps Lead"),
    _person(2, "Sam Ortiz", "manager", None, "America/New_York", "Sales Manager, East"),
    _person(3, "Nina Kowalski", "manager", None, "America/Los_Angeles", "Sales Manager, West"),
    _person(4, "Maya Chen", "rep", "Sam", "America/New_York", "Account Executive"),
    _person(5, "Leo Grant", "rep", "Sam", "Europe/London", "Account Executive"),
    _person(6, "Priya Raman", "rep", "Nina", "Asia/Kolkata", "Account Executive"),
]
_BY_FIRST = {person.name.split()[0]: person for person in SEED_PEOPLE}

# name, industry, owner, annual revenue
_ACCOUNTS = [
    ("Acme Corp", "Manufacturing", "Maya", 120_000_000),
    ("Globex", "Energy", "Maya", 540_000_000),
    ("Initech", "Technology", "Maya", 38_000_000),
    ("Umbrella Health", "Healthcare", "Leo", 910_000_000),
    ("Stark Industries", "Manufacturing", "Leo", 2_300_000_000),
    ("Wayne Enterprises", "Finance", "Leo", 1_750_000_000),
    ("Hooli", "Technology", "Priya", 460_000_000),
    ("Vandelay Industries", "Retail", "Priya", 12_500_000),
    ("Soylent Foods", "Food & Beverage", "Priya", 86_000_000),
    ("Tyrell Systems", "Technology", "Sam", 300_000_000),
]
# account index, deal, stage, amount, close date, next step
_OPPORTUNITIES = [
    (0, "Renewal 2027", "Proposal/Price Quote", 84_000, "2026-12-15", "Send redlined MSA"),
    (0, "Plant Expansion", "Qualification", 150_000, "2027-03-31", "Discovery call with ops"),
    (1, "Grid Analytics", "Needs Analysis", 220_000, "2027-02-28", "Technical deep dive"),
    (1, "Renewal 2027", "Negotiation/Review", 310_000, "2026-12-20", "Legal review of terms"),
    (2, "TPS Automation", "Prospecting", 25_000, "2027-04-30", "Intro email to VP Eng"),
    (3, "Clinical Data Platform", "Proposal/Price Quote", 480_000, "2027-01-31", "Pricing call"),
    (3, "Pilot Extension", "Closed Won", 60_000, "2026-10-30", None),
    (4, "Arc Reactor Telemetry", "Negotiation/Review", 1_200_000, "2026-12-31", "CFO sign-off"),
    (5, "Security Suite", "Needs Analysis", 390_000, "2027-02-15", "Security questionnaire"),
    (5, "Treasury Add-on", "Closed Lost", 75_000, "2026-09-30", None),
    (6, "Platform Migration", "Qualification", 640_000, "2027-05-31", "Map stakeholders"),
    (7, "Import Tracking", "Prospecting", 18_000, "2027-03-15", "Find an economic buyer"),
    (8, "Supply Chain Visibility", "Proposal/Price Quote", 140_000, "2027-01-15", "Send quote"),
    (9, "Replicant QA", "Negotiation/Review", 270_000, "2026-12-10", "Procurement review"),
    (9, "Expansion 2027", "Qualification", 95_000, "2027-06-30", "Usage review"),
]
# first name, last name, title, account index
_CONTACTS = [
    ("Wile", "Coyote", "VP Operations", 0),
    ("Hank", "Scorpio", "CFO", 1),
    ("Bill", "Lumbergh", "Director of Engineering", 2),
    ("Alice", "Abernathy", "Chief Medical Officer", 3),
    ("Pepper", "Potts", "CEO", 4),
]

# first name, last name, company, status, owner
_LEADS = [
    ("Ellen", "Ripley", "Weyland Logistics", "Open - Not Contacted", "Maya"),
    ("Marty", "McFly", "Hill Valley Motors", "Working - Contacted", "Leo"),
]
# subject, status, priority, account index, owner
_CASES = [
    ("Telemetry export fails nightly", "New", "High", 4, "Leo"),
    ("Invoice shows the old price", "Working", "Medium", 0, "Maya"),
]


def _stamped(sobject: str, number: int, fields: dict[str, Any]) -> dict[str, Any]:
    system = {"CreatedDate": SEED_TIMESTAMP, "LastModifiedDate": SEED_TIMESTAMP}
    system["LastModifiedById"] = SEED_PEOPLE[0].salesforce_id  # loaded by the integration user
    system |= auto_number(sobject, number)
    return {"Id": make_id(sobject, number), **fields, **system, "SystemModstamp": SEED_TIMESTAMP}


def auto_number(sobject: str, number: int) -> dict[str, Any]:
    """Fields Salesforce numbers itself on insert: a Case's CaseNumber (e.g. 00001026)."""
    return {"CaseNumber": f"{number:08d}"} if sobject == "Case" else {}


def _users() -> list[dict[str, Any]]:
    managers = {person.email: person.salesforce_id for person in SEED_PEOPLE}
    return [
        _stamped(
            "User",
            number,
            {
                **{"Name": person.name, "Email": person.email, "Username": person.email},
                **{"IsActive": True, "Title": person.title, "TimeZoneSidKey": person.tz},
                "ManagerId": managers.get(person.manager_email or ""),
            },
        )
        for number, person in enumerate(SEED_PEOPLE, start=1)
    ]


def _accounts() -> list[dict[str, Any]]:
    return [
        _stamped(
            "Account",
            number,
            {
                **{"Name": name, "Industry": industry, "AnnualRevenue": float(revenue)},
                **{"OwnerId": _BY_FIRST[owner].salesforce_id, "Website": None, "Description": None},
            },
        )
        for number, (name, industry, owner, revenue) in enumerate(_ACCOUNTS, start=1)
    ]


def _opportunities(accounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    records = []
    for number, (account, deal, stage, amount, close, step) in enumerate(_OPPORTUNITIES, start=1):
        owner = accounts[account]
        fields = {
            **{"Name": f"{owner['Name']} - {deal}", "AccountId": owner["Id"]},
            **{"OwnerId": owner["OwnerId"], "StageName": stage, "Amount": float(amount)},
            **{"CloseDate": close, "NextStep": step, "Probability": STAGE_PROBABILITY[stage]},
            "Description": None,
        }
        records.append(_stamped("Opportunity", number, fields))
    return records


def _contacts(accounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    records = []
    for number, (first, last, title, account) in enumerate(_CONTACTS, start=1):
        domain = accounts[account]["Name"].split()[0].lower()
        fields = {
            **{"FirstName": first, "LastName": last, "Name": f"{first} {last}", "Title": title},
            **{"Email": f"{first.lower()}.{last.lower()}@{domain}.example"},
            **{"AccountId": accounts[account]["Id"], "OwnerId": accounts[account]["OwnerId"]},
        }
        records.append(_stamped("Contact", number, fields))
    return records


def _leads() -> list[dict[str, Any]]:
    records = []
    for number, (first, last, company, status, owner) in enumerate(_LEADS, start=1):
        fields = {
            **{"FirstName": first, "LastName": last, "Name": f"{first} {last}"},
            **{"Company": company, "Status": status, "LeadSource": "Web"},
            "OwnerId": _BY_FIRST[owner].salesforce_id,
        }
        records.append(_stamped("Lead", number, fields))
    return records


def _cases(accounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    records = []
    for number, (subject, status, priority, account, owner) in enumerate(_CASES, start=1):
        fields = {
            **{"Subject": subject, "Status": status, "Priority": priority, "Origin": "Email"},
            **{"AccountId": accounts[account]["Id"], "OwnerId": _BY_FIRST[owner].salesforce_id},
        }
        records.append(_stamped("Case", number, fields))
    return records


def _queued(accounts: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """A queue, and a Lead and a Case it owns (Lead and Case owners may be queues)."""
    queue = _stamped("Group", 1, {"Name": "Inbound Leads", "DeveloperName": "Inbound_Leads"})
    queue |= {"Type": "Queue", "Email": None}
    lead = {"FirstName": "Alan", "LastName": "Turing", "Name": "Alan Turing"}
    lead |= {"Company": "Bletchley Labs", "Status": "Open - Not Contacted", "LeadSource": "Web"}
    case = {"Subject": "Invoice shows wrong tax", "Status": "New", "Priority": "Medium"}
    case |= {"Origin": "Web", "AccountId": accounts[1]["Id"]}
    owned = {"OwnerId": queue["Id"]}
    lead_number, case_number = len(_LEADS) + 1, len(_CASES) + 1
    return {
        "Group": [queue],
        "Lead": [_stamped("Lead", lead_number, lead | owned)],
        "Case": [_stamped("Case", case_number, case | owned)],
    }


def build_seed() -> dict[str, dict[str, dict[str, Any]]]:
    """Return fresh seed records: sObject -> id -> fields (the same every call)."""
    accounts = _accounts()
    tables = {
        "User": _users(),
        "Account": accounts,
        "Opportunity": _opportunities(accounts),
        "Contact": _contacts(accounts),
        "Task": [],
        "Lead": _leads(),
        "Case": _cases(accounts),
    }
    for sobject, rows in _queued(accounts).items():
        tables[sobject] = tables.get(sobject, []) + rows
    return {sobject: {row["Id"]: row for row in rows} for sobject, rows in tables.items()}
