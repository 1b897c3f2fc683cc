"""Field metadata of the sandbox org: types, lengths, scale and the default picklists of an org.

Types, lengths, precision and scale follow Salesforce's Field Reference
(https://developer.salesforce.com/docs/platform/field-reference/references/field-reference/
salesforce-field-reference-opportunity.html and its Account, Contact, Lead, Case, Task and User
pages). Picklist values are the defaults a new Salesforce org ships with (Setup > Object Manager >
field > Values). Which picklists are restricted: the ones bound to system value sets (Stage,
Forecast Category, Lead/Case/Task Status, Task Priority); the others accept any value through the
API, as an unrestricted picklist does ("restrictedPicklist" in the describe answer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldSpec:
    """One field as the integration user's describe() shows it."""

    type: str
    length: int = 0
    precision: int = 0
    scale: int = 0
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    updateable: bool = True
    createable: bool = True
    nillable: bool = True
    reference_to: tuple[str, ...] = ()


def _text(length: int, kind: str = "string") -> FieldSpec:
    return FieldSpec(kind, length=length)


def _pick(values: str, restricted: bool = False, length: int = 255) -> FieldSpec:
    return FieldSpec("picklist", length, picklist=tuple(values.split("|")), restricted=restricted)


def _ref(*targets: str) -> FieldSpec:
    return FieldSpec("reference", 18, reference_to=targets)


def _read_only(kind: str, length: int = 0, nillable: bool = False) -> FieldSpec:
    return FieldSpec(kind, length, nillable=nillable, updateable=False, createable=False)


_SYSTEM: dict[str, FieldSpec] = {
    "Id": _read_only("id", 18),
    "CreatedDate": _read_only("datetime"),
    "LastModifiedDate": _read_only("datetime"),
    "LastModifiedById": _read_only("reference", 18),
    "SystemModstamp": _read_only("datetime"),
}
_COMPOUND_NAME = _read_only("string", 121, nillable=True)  # Contact/Lead/User Name: First + Last

STAGES = (
    "Prospecting|Qualification|Needs Analysis|Value Proposition|Id. Decision Makers|"
    "Perception Analysis|Proposal/Price Quote|Negotiation/Review|Closed Won|Closed Lost"
)
# Default probability of each default stage (Setup > Opportunity > Stage picklist values).
STAGE_PROBABILITY = dict(
    zip(STAGES.split("|"), (10, 10, 20, 50, 60, 70, 75, 90, 100, 0), strict=True)
)
INDUSTRIES = (
    "Agriculture|Apparel|Banking|Biotechnology|Chemicals|Communications|Construction|Consulting|"
    "Education|Electronics|Energy|Engineering|Entertainment|Environmental|Finance|"
    "Food & Beverage|Government|Healthcare|Hospitality|Insurance|Machinery|Manufacturing|Media|"
    "Not For Profit|Recreation|Retail|Shipping|Technology|Telecommunications|Transportation|"
    "Utilities|Other"
)
LEAD_SOURCES = "Web|Phone Inquiry|Partner Referral|Purchased List|Other"
RATINGS = "Hot|Warm|Cold"
TIME_ZONES = (
    "America/Los_Angeles|America/Denver|America/Chicago|America/New_York|Europe/London|"
    "Europe/Paris|Asia/Kolkata|Asia/Tokyo|Australia/Sydney|GMT"
)

METADATA: dict[str, dict[str, FieldSpec]] = {
    "User": {
        "Name": _COMPOUND_NAME,
        "Email": _text(128, "email"),
        "Username": _text(80),
        "IsActive": FieldSpec("boolean", nillable=False),
        "ManagerId": _ref("User"),
        "Title": _text(80),
        "TimeZoneSidKey": _pick(TIME_ZONES, restricted=True, length=40),
    },
    "Account": {
        "Name": FieldSpec("string", 255, nillable=False),
        "Industry": _pick(INDUSTRIES),
        "Type": _pick(
            "Prospect|Customer - Direct|Customer - Channel|Channel Partner / Reseller|"
            "Installation Partner|Technology Partner|Other"
        ),
        "Rating": _pick(RATINGS),
        "OwnerId": _ref("User"),
        "AnnualRevenue": FieldSpec("currency", precision=18, scale=0),
        "Website": _text(255, "url"),
        "Description": _text(32000, "textarea"),
    },
    "Opportunity": {
        "Name": FieldSpec("string", 120, nillable=False),
        "AccountId": _ref("Account"),
        "OwnerId": _ref("User"),
        "StageName": _pick(STAGES, restricted=True),
        "ForecastCategoryName": _pick("Omitted|Pipeline|Best Case|Commit|Closed", restricted=True),
        "Type": _pick(
            "Existing Customer - Upgrade|Existing Customer - Replacement|"
            "Existing Customer - Downgrade|New Customer"
        ),
        "LeadSource": _pick(LEAD_SOURCES),
        "Amount": FieldSpec("currency", precision=18, scale=2),
        "CloseDate": FieldSpec("date"),
        "NextStep": _text(255),
        "Probability": FieldSpec("percent", precision=3, scale=0),
        "Description": _text(32000, "textarea"),
    },
    "Contact": {
        "FirstName": _text(40),
        "LastName": FieldSpec("string", 80, nillable=False),
        "Name": _COMPOUND_NAME,
        "Email": _text(80, "email"),
        "Title": _text(128),
        "AccountId": _ref("Account"),
        "OwnerId": _ref("User"),
    },
    "Lead": {
        "FirstName": _text(40),
        "LastName": FieldSpec("string", 80, nillable=False),
        "Name": _COMPOUND_NAME,
        "Company": FieldSpec("string", 255, nillable=False),
        "Email": _text(80, "email"),
        "Title": _text(128),
        "Status": _pick(
            "Open - Not Contacted|Working - Contacted|Closed - Converted|Closed - Not Converted",
            restricted=True,
        ),
        "Rating": _pick(RATINGS),
        "LeadSource": _pick(LEAD_SOURCES),
        "Industry": _pick(INDUSTRIES),
        "AnnualRevenue": FieldSpec("currency", precision=18, scale=0),
        "NumberOfEmployees": FieldSpec("int", precision=8),
        "OwnerId": _ref("Group", "User"),  # polymorphic: a user or a queue
    },
    "Case": {
        "CaseNumber": _read_only("string", 30),  # auto-number, the Case's name field
        "Subject": _text(255),
        "Description": _text(32000, "textarea"),
        "Status": _pick("New|Working|Escalated|Closed", restricted=True),
        "Priority": _pick("High|Medium|Low"),
        "Origin": _pick("Phone|Email|Web"),
        "Type": _pick("Mechanical|Electrical|Electronic|Structural|Other"),
        "Reason": _pick(
            "Installation|Equipment Complexity|Performance|Breakdown|Equipment Design|Feedback|"
            "Other"
        ),
        "AccountId": _ref("Account"),
        "ContactId": _ref("Contact"),
        "OwnerId": _ref("Group", "User"),
    },
    "Task": {
        "Subject": _text(255, "combobox"),
        "Description": _text(32000, "textarea"),
        "Status": _pick(
            "Not Started|In Progress|Completed|Waiting on someone else|Deferred",
            restricted=True,
            length=40,
        ),
        "Priority": _pick("High|Normal|Low", restricted=True, length=40),
        "ActivityDate": FieldSpec("date"),
        "OwnerId": _ref("Group", "User"),
        "WhatId": _ref("Account", "Opportunity", "Case"),
        "WhoId": _ref("Contact", "Lead"),
    },
    # a queue owns Leads and Cases as a user does (Object Reference, "Group")
    "Group": {
        "Name": FieldSpec("string", 40, nillable=False),
        "DeveloperName": _text(80),
        "Type": _pick("Queue|Regular", restricted=True, length=40),
        "Email": _text(255, "email"),
    },
}
for _fields in METADATA.values():
    _fields.update(_SYSTEM)
CUSTOM_TEXT = FieldSpec("string", 255)  # what add_field declares unless told otherwise

# The field describe() marks `nameField: true`: what Salesforce shows as the record's name. Most
# objects have Name; a Case is named by its CaseNumber (auto-number) and a Task by its Subject
# (Object Reference, "Case" and "Task": https://developer.salesforce.com/docs/atlas.en-us.
# object_reference.meta/object_reference/sforce_api_objects_case.htm).
NAME_FIELD = {"Case": "CaseNumber", "Task": "Subject"}
# Field labels that are not the API name split into words ("NextStep" -> "Next Step",
# "AccountId" -> "Account ID"), from Salesforce's Field Reference (Opportunity, Account, Case,
# Task pages; https://developer.salesforce.com/docs/platform/field-reference/references/
# field-reference/salesforce-field-reference-opportunity.html).
LABELS = {
    ("Opportunity", "StageName"): "Stage",
    ("Opportunity", "Probability"): "Probability (%)",
    ("Opportunity", "Type"): "Opportunity Type",
    ("Opportunity", "ForecastCategoryName"): "Forecast Category",
    ("Account", "Type"): "Account Type",
    ("Account", "Name"): "Account Name",
    ("Task", "ActivityDate"): "Due Date Only",
    ("Task", "Description"): "Comments",
    ("Task", "WhatId"): "Related To ID",
    ("Task", "WhoId"): "Name ID",
    ("Case", "CaseNumber"): "Case Number",
    ("User", "TimeZoneSidKey"): "Time Zone",
}


def field_label(sobject: str, name: str) -> str:
    """The field's label as describe() answers it."""
    if (sobject, name) in LABELS:
        return LABELS[(sobject, name)]
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name.removesuffix("__c").replace("_", " "))
    return words[:-2] + "ID" if words.endswith(" Id") else words
