"""The stand-in's describe() answers and what its write path does with field metadata.

- `GET /services/data/vXX.X/sobjects/{SObject}/describe` (REST API Developer Guide, "Get Field
  and Other Metadata for an Object": https://developer.salesforce.com/docs/atlas.en-us.api_rest.
  meta/api_rest/dome_sobject_describe.htm) answers the object's properties and a `fields` list
  with name, type, length, precision, scale, picklistValues, restrictedPicklist, updateable,
  createable, nillable and referenceTo (field shape: SOAP API Developer Guide,
  "DescribeSObjectResult": https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/
  sforce_api_calls_describesobject_result.htm).
- A field hidden from the integration user by field-level security is not in describe at all and
  is "No such column" in SOQL and in writes: to that user it does not exist.
- Writes: a text value over the field's length fails that record with STRING_TOO_LONG ("data
  value too large ... (max length=N)"; SOAP API Developer Guide, "AllowFieldTruncationHeader":
  since API 15.0 too-long values fail with STRING_TOO_LONG instead of being truncated,
  https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/
  sforce_api_header_allowfieldtruncation.htm); a value outside a
  restricted picklist fails it with INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST ("bad value for
  restricted picklist field"); null in a required field fails it with REQUIRED_FIELD_MISSING.
  All are per-record errors in an sObject Collections answer.
- Currency and percent values are stored at the field's scale. Salesforce's own help (article
  000385689, "Round Off Decimal Values of Currency Fields") says the API keeps extra decimals of
  custom currency fields, while orgs commonly round them in a trigger or flow: `round_on_write`
  models the rounding org, which is the case Airlock must not mistake for a conflict.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from bot.sandbox.salesforce_schema import NAME_FIELD, FieldSpec, field_label

ROUNDED_TYPES = frozenset({"currency", "percent", "double"})
TEXT_TYPES = frozenset(
    {"string", "textarea", "email", "url", "phone", "combobox", "picklist", "multipicklist"}
)


class FieldValueError(Exception):
    """A record the org refuses because of one field's value (answered per record)."""

    def __init__(self, code: str, message: str, field: str) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


def field_answer(sobject: str, name: str, spec: FieldSpec) -> dict[str, Any]:
    """One entry of describe()'s `fields`, as the REST API spells it."""
    picklist = [
        {"active": True, "defaultValue": False, "label": value, "validFor": None, "value": value}
        for value in spec.picklist
    ]
    return {
        "name": name,
        "label": field_label(sobject, name),
        "nameField": name == NAME_FIELD.get(sobject, "Name"),
        "type": spec.type,
        "length": spec.length,
        "precision": spec.precision,
        "scale": spec.scale,
        "digits": spec.precision if spec.type == "int" else 0,
        "picklistValues": picklist,
        "restrictedPicklist": spec.restricted,
        "updateable": spec.updateable,
        "createable": spec.createable,
        "nillable": spec.nillable,
        "custom": name.endswith("__c"),
        "referenceTo": list(spec.reference_to),
        "soapType": _SOAP_TYPES.get(spec.type, "xsd:string"),
    }


def describe_answer(
    sobject: str, key_prefix: str | None, fields: Mapping[str, FieldSpec], version: str
) -> dict[str, Any]:
    """The sObject Describe body for the fields the integration user can see."""
    base = f"/services/data/v{version}/sobjects/{sobject}"
    return {
        "name": sobject,
        "label": sobject,
        "keyPrefix": key_prefix,
        "custom": sobject.endswith("__c"),
        "createable": True,
        "updateable": True,
        "queryable": True,
        "fields": [field_answer(sobject, name, spec) for name, spec in sorted(fields.items())],
        "urls": {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"},
    }


def check_values(fields: Mapping[str, Any], specs: Mapping[str, FieldSpec]) -> None:
    """Raise FieldValueError for the first value the org refuses (null, length, picklist)."""
    for name, value in fields.items():
        spec = specs.get(name)
        if spec is None:
            continue
        if value is None and not spec.nillable and spec.type != "boolean":
            raise FieldValueError(
                "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{name}]", name
            )
        if value is None:
            continue
        if spec.type in TEXT_TYPES and spec.length and len(str(value)) > spec.length:
            message = f"{name}: data value too large: {str(value)[:80]} (max length={spec.length})"
            raise FieldValueError("STRING_TOO_LONG", message, name)
        if spec.type == "picklist" and spec.restricted and value not in spec.picklist:
            message = f"{name}: bad value for restricted picklist field: {value}"
            raise FieldValueError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", message, name)


def rounded(fields: Mapping[str, Any], specs: Mapping[str, FieldSpec]) -> dict[str, Any]:
    """The values as stored: currency, percent and double fields rounded to their scale."""
    stored = dict(fields)
    for name, value in fields.items():
        spec = specs.get(name)
        if spec is None or spec.type not in ROUNDED_TYPES or isinstance(value, bool):
            continue
        if isinstance(value, int | float | str):
            try:
                exact = Decimal(str(value)).quantize(Decimal(1).scaleb(-spec.scale), ROUND_HALF_UP)
            except InvalidOperation:
                continue  # not a number: the type check of the write path answers for it
            stored[name] = float(exact) if spec.scale else int(exact)
    return stored


_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "double": "xsd:double",
    "int": "xsd:int",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}
