"""Sample agent submissions on the seeded sandbox org: the sandbox page, the demo and the tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Body = dict[str, Any]

OPP_ID = "006Ai0000000001IAA"  # seeded: Acme Corp - Renewal 2027, owned by Maya
PLANT_OPP_ID = "006Ai0000000002IAA"  # Acme Corp - Plant Expansion, Maya, 150k
GLOBEX_OPP_ID = "006Ai0000000004IAA"  # Globex - Renewal 2027, Maya, next step "Legal review..."
UMBRELLA_OPP_ID = "006Ai0000000006IAA"  # Umbrella Health - Clinical Data Platform, Leo
SOYLENT_OPP_ID = "006Ai0000000013IAA"  # Soylent Foods - Supply Chain Visibility, Priya


def source(n: int = 1) -> list[Body]:
    """`n` sources with URLs."""
    return [
        {
            "title": f"Gong call {i}",
            "url": f"https://gong.example/call/{i}",
            "excerpt": "we discussed redlines",
        }
        for i in range(1, n + 1)
    ]


def opportunity(record_id: str) -> Body:
    """The `record` of an intake body for a seeded opportunity."""
    return {"sobject": "Opportunity", "id": record_id}


def field_update(**over: Any) -> Body:
    """An opp-hygiene stage change that should reach the rep."""
    body: Body = {
        "workflow": "opp-hygiene",
        "kind": "field_update",
        "title": "Move Acme renewal to Negotiation",
        "summary": "Pricing call held.",
        "reasons": ["Call on 2026-11-20 discussed redlines"],
        "sources": source(),
        "confidence": 0.82,
        "record": opportunity(OPP_ID),
        "changes": [
            {
                "field": "StageName",
                "value": "Negotiation/Review",
                "observed": "Proposal/Price Quote",
            }
        ],
    }
    return body | over


def brief(**over: Any) -> Body:
    """A read-only account brief."""
    body: Body = {
        "workflow": "account-brief",
        "kind": "brief",
        "title": "Acme account brief",
        "summary": "Acme is a 2,000-person logistics company.",
        "sources": source(2),
        "confidence": 0.9,
    }
    return body | over


def summary(**over: Any) -> Body:
    """A call summary cleanup (draft level)."""
    body: Body = {
        "workflow": "call-summary-cleanup",
        "kind": "summary",
        "title": "Acme call summary",
        "summary": "Decisions: legal review. Objection: price.",
        "sources": source(),
        "confidence": 0.8,
        "reasons": ["transcript"],
    }
    return body | over


def recommendation(**over: Any) -> Body:
    """A next-play recommendation."""
    body = summary(
        kind="recommendation",
        title="Send the security pack",
        reasons=["Security review was raised twice"],
    )
    return body | over


def task(**over: Any) -> Body:
    """A follow-up task on an opportunity."""
    body: Body = {
        "workflow": "opp-hygiene",
        "kind": "task",
        "title": "Follow up on redlines",
        "reasons": ["Legal asked for a reply by Friday"],
        "sources": source(),
        "confidence": 0.9,
        "record": opportunity(OPP_ID),
        "task": {
            "subject": "Reply to legal redlines",
            "due_date": "2026-11-28",
            "description": "Send the marked-up MSA.",
        },
    }
    return body | over


def message_draft(**over: Any) -> Body:
    """An outreach draft to a non-executive."""
    body: Body = {
        "workflow": "exec-outreach",
        "kind": "message_draft",
        "title": "Intro to Dana",
        "reasons": ["Dana downloaded the ROI guide"],
        "sources": source(),
        "confidence": 0.8,
        "message": {
            "to": "Dana Ops <dana@acme.example>",
            "subject": "Your ROI guide",
            "body": "Hi Dana, happy to walk through the guide.",
        },
    }
    return body | over


def decision(**over: Any) -> Body:
    """A renewal-risk escalation."""
    body: Body = {
        "workflow": "renewal-risk",
        "kind": "decision",
        "title": "Escalate Acme renewal",
        "summary": "Usage down 40% in 60 days.",
        "reasons": ["Usage down", "Champion left"],
        "sources": source(2),
        "confidence": 0.7,
    }
    return body | over


EVERY_KIND: dict[str, Callable[..., Body]] = {
    "brief": brief,
    "summary": summary,
    "recommendation": recommendation,
    "task": task,
    "field_update": field_update,
    "message_draft": message_draft,
    "decision": decision,
}


@dataclass(frozen=True)
class Sample:
    """One submission the sandbox page offers, and whose DMs its card lands in (and why)."""

    name: str
    label: str
    reviewer: str | None
    why: str
    build: Callable[[], Body]


def _next_step() -> Body:
    change = {"field": "NextStep", "value": "Security review with CISO", "observed": "Pricing call"}
    return field_update(
        title="Update Umbrella next step",
        summary="The pricing call moved to after the security review.",
        reasons=["CISO joined the last call and asked for a review first"],
        record=opportunity(UMBRELLA_OPP_ID),
        changes=[change],
    )


def _close_date() -> Body:
    change = {"field": "CloseDate", "value": "2027-02-28", "observed": "2027-01-15"}
    return field_update(
        title="Push Soylent close date to February",
        summary="Budget approval slipped a quarter.",
        reasons=["Champion said the budget committee meets in February"],
        record=opportunity(SOYLENT_OPP_ID),
        changes=[change],
    )


def _amount() -> Body:
    return field_update(
        title="Raise Acme plant expansion to 180k",
        summary="Two more lines were added to the scope.",
        reasons=["Ops director confirmed lines 4 and 5 on the call"],
        record=opportunity(PLANT_OPP_ID),
        changes=[{"field": "Amount", "value": 180000, "observed": 150000}],
    )


def _renewal_risk() -> Body:
    return decision(record=opportunity(OPP_ID))


SAMPLES: dict[str, Sample] = {
    s.name: s
    for s in (
        Sample("stage", "Stage change on Acme renewal", "U0MAYA", "rep", field_update),
        Sample("task", "Follow-up task on Acme renewal", "U0MAYA", "rep", task),
        Sample("next-step", "Next step on Umbrella platform", "U0LEO", "rep", _next_step),
        Sample("close-date", "Close date on Soylent", "U0NINA", "forecast field", _close_date),
        Sample("amount", "Amount on Acme plant expansion", "U0SAM", "forecast field", _amount),
        Sample(
            "renewal-risk", "Renewal-risk escalation", "U0SAM", "customer decision", _renewal_risk
        ),
        Sample("email", "Outreach email draft", "U0OLIVIA", "no record: owner", message_draft),
        Sample("summary", "Call summary cleanup", "U0OLIVIA", "no record: owner", summary),
        Sample("brief", "Account brief (read-only)", None, "auto-accepted", brief),
    )
}
