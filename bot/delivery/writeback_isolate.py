"""One wave's Salesforce calls, isolated per item: a field or value Salesforce refuses for the
whole request fails only the items that carry it; the others are read and written once.

Salesforce answers some faults of ONE record for the WHOLE request:
- SOQL: a selected field that does not exist for the integration user (not deployed, renamed,
  hidden by field-level security) is `INVALID_FIELD` (HTTP 400) naming the first such column,
  "No such column 'X' on entity 'Opportunity'". The field is dropped and the query repeated;
  only the items changing X fail.
- sObject Collections: a body Salesforce cannot deserialize (a date that is not a date, an
  unknown field) is HTTP 400 before any record is saved ("If the request isn't well formed, the
  API returns a 400 Bad Request", REST API Developer Guide, "Update Records Using sObject
  Collections"). A refusal naming a field fails the records carrying it; one naming a value
  sends the records without that value together and splits the others; otherwise the request is
  split in halves until the records at fault stand alone. Nothing was applied, so the healthy
  records are sent again exactly once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from bot.delivery.writeback_outcome import WriteJob, unreadable, unreadable_value
from bot.delivery.writeback_tasks import provenance_fields
from bot.salesforce.client import SalesforceClient, SalesforceError
from bot.salesforce.ids import id_key

Call = Callable[..., Any]  # _Delivery._call: stops calling after a limit or auth error
_NO_SUCH_COLUMN = re.compile(r"No such column '([^']+)' on (?:entity|sobject of type) '?(\w+)")


def refused_request(error: SalesforceError) -> bool:
    """A 400 for the whole request that retrying cannot fix (not a lock, limit or outage)."""
    return error.kind == "fatal" and error.status == 400


def missing_column(error: SalesforceError, names: list[str]) -> str | None:
    """The selected or sent field Salesforce says does not exist, as Airlock spelled it."""
    match = _NO_SUCH_COLUMN.search(error.message or "")
    if error.error_code != "INVALID_FIELD" or match is None:
        return None
    # SOQL names are case-insensitive: the message echoes the query's spelling, or not
    return next((name for name in names if name.lower() == match[1].lower()), None)


def _reason(error: SalesforceError) -> str:
    match = _NO_SUCH_COLUMN.search(error.message or "")
    text = match[0].rstrip(".") if match else (error.message or str(error))
    return f"{error.error_code}: {text}" if error.error_code else text


def read_current(
    call: Call, client: SalesforceClient, sobject: str, jobs: list[WriteJob]
) -> dict[str, dict[str, Any]]:
    """Current values by 18-character record id; items whose read cannot succeed are settled."""
    jobs = [job for job in jobs if not job.settled]
    if not jobs:
        return {}
    names = sorted({name for job in jobs for name in job.send})
    ids = [id_key(job.item.record_id) for job in jobs]  # the canonical 18-character form
    try:
        current = call(client.read_fields, sobject, ids, names)
    except SalesforceError as error:
        return _read_refused(call, client, sobject, jobs, names, error)
    return {id_key(record_id): values for record_id, values in current.items()}


def _read_refused(
    call: Call,
    client: SalesforceClient,
    sobject: str,
    jobs: list[WriteJob],
    names: list[str],
    error: SalesforceError,
) -> dict[str, dict[str, Any]]:
    bad = missing_column(error, names) if refused_request(error) else None
    if bad is not None:
        reason = (
            f"{sobject}.{bad} cannot be read by Airlock's Salesforce user (not in this org, or "
            f"hidden by field-level security); nothing of this item was written. {_reason(error)}"
        )
        for job in jobs:
            if bad in job.send:
                job.fail(reason)
        return read_current(call, client, sobject, jobs)
    if refused_request(error) and len(jobs) > 1:
        half = len(jobs) // 2
        found = read_current(call, client, sobject, jobs[:half])
        return found | read_current(call, client, sobject, jobs[half:])
    for job in jobs:
        job.setback(error)
    return {}


def _record(job: WriteJob) -> dict[str, Any]:
    changes = {name: change["value"] for name, change in job.send.items()}
    return {"Id": id_key(job.item.record_id)} | changes | provenance_fields(job.item, job.spec)


def write_records(
    call: Call,
    client: SalesforceClient,
    sobject: str,
    jobs: list[WriteJob],
    on_invalid_field: Callable[[], None] = lambda: None,
) -> None:
    """PATCH the jobs' records in one sObject Collections call; split only around refusals."""
    if not jobs:
        return
    records = [_record(job) for job in jobs]
    try:
        answers = call(client.update_records, sobject, records)
    except SalesforceError as error:
        _write_refused(call, client, sobject, jobs, records, error, on_invalid_field)
        return
    for job, answer in zip(jobs, answers, strict=True):
        if answer.success:
            job.send = {}
        else:
            if answer.error_code == "INVALID_FIELD":
                on_invalid_field()
            job.setback(
                SalesforceError(
                    answer.kind or "fatal", answer.message or "", None, answer.error_code
                )
            )


def _write_refused(
    call: Call,
    client: SalesforceClient,
    sobject: str,
    jobs: list[WriteJob],
    records: list[dict[str, Any]],
    error: SalesforceError,
    on_invalid_field: Callable[[], None],
) -> None:
    if not refused_request(error):
        for job in jobs:
            job.setback(error)
        return
    bad = missing_column(error, sorted({name for record in records for name in record}))
    carrying = [job for job, record in zip(jobs, records, strict=True) if bad in record]
    if bad is not None and carrying:
        for job in carrying:
            job.fail(f"{sobject}.{bad} cannot be written: {_reason(error)}")
        rest = [job for job in jobs if job not in carrying]
        write_records(call, client, sobject, rest, on_invalid_field)
        return
    if len(jobs) == 1:
        jobs[0].fail(_value_reason(error, records[0]))
        return
    value = unreadable_value(error)
    suspects = [job for job, record in zip(jobs, records, strict=True) if _sends(record, value)]
    if suspects and len(suspects) < len(jobs):
        # the records not sending the value Salesforce could not read go out together; only
        # the suspects are split further (the same text may be fine in a text field)
        rest = [job for job in jobs if job not in suspects]
        write_records(call, client, sobject, rest, on_invalid_field)
        write_records(call, client, sobject, suspects, on_invalid_field)
        return
    half = len(jobs) // 2
    write_records(call, client, sobject, jobs[:half], on_invalid_field)
    write_records(call, client, sobject, jobs[half:], on_invalid_field)


def _sends(record: Mapping[str, Any], value: str | None) -> bool:
    return value is not None and any(str(v) == value for k, v in record.items() if k != "Id")


def _value_reason(error: SalesforceError, record: Mapping[str, Any]) -> str:
    """Salesforce's message, led by the field whose value it could not read."""
    detail = f"{error.error_code}: {error.message}" if error.error_code else error.message
    named = unreadable(error, record)
    return f"{named} {detail}" if named else detail or str(error)
