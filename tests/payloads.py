"""Valid intake bodies for every kind, for tests and benchmarks."""

from __future__ import annotations

from typing import Any

OPP_ID = "006000000000001AAA"


def source(n: int = 1) -> list[dict[str, Any]]:
    """`n` sources with URLs."""
    return [
        {
            "title": f"Gong call {i}",
            "url": f"https://gong.example/call/{i}",
            "excerpt": "we discussed redlines",
        }
        for i in range(1, n + 1)
    ]


def field_update(**over: Any) -> dict[str, Any]:
    """An opp-hygiene stage change that should reach the rep."""
    body: dict[str, Any] = {
        "workflow": "opp-hygiene",
        "kind": "field_update",
        "title": "Move Acme renewal to Negotiation",
        "summary": "Pricing call held.",
        "reasons": ["Call on 2026-11-20 discussed redlines"],
        "sources": source(),
        "confidence": 0.82,
        "record": {"sobject": "Opportunity", "id": OPP_ID},
        "changes": [{"field": "StageName", "value": "Negotiation", "observed": "Proposal"}],
    }
    return body | over


def brief(**over: Any) -> dict[str, Any]:
    """A read-only account brief."""
    body: dict[str, Any] = {
        "workflow": "account-brief",
        "kind": "brief",
        "title": "Acme account brief",
        "summary": "Acme is a 2,000-person logistics company.",
        "sources": source(2),
        "confidence": 0.9,
    }
    return body | over


def summary(**over: Any) -> dict[str, Any]:
    """A call summary cleanup (draft level)."""
    body: dict[str, Any] = {
        "workflow": "call-summary-cleanup",
        "kind": "summary",
        "title": "Acme call summary",
        "summary": "Decisions: legal review. Objection: price.",
        "sources": source(),
        "confidence": 0.8,
        "reasons": ["transcript"],
    }
    return body | over


def recommendation(**over: Any) -> dict[str, Any]:
    """A next-play recommendation."""
    body = summary(
        kind="recommendation",
        title="Send the security pack",
        reasons=["Security review was raised twice"],
    )
    return body | over


def task(**over: Any) -> dict[str, Any]:
    """A follow-up task on an opportunity."""
    body: dict[str, Any] = {
        "workflow": "opp-hygiene",
        "kind": "task",
        "title": "Follow up on redlines",
        "reasons": ["Legal asked for a reply by Friday"],
        "sources": source(),
        "confidence": 0.9,
        "record": {"sobject": "Opportunity", "id": OPP_ID},
        "task": {
            "subject": "Reply to legal redlines",
            "due_date": "2026-11-28",
            "description": "Send the marked-up MSA.",
        },
    }
    return body | over


def message_draft(**over: Any) -> dict[str, Any]:
    """An outreach draft to a non-executive."""
    body: dict[str, Any] = {
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


def decision(**over: Any) -> dict[str, Any]:
    """A renewal-risk escalation."""
    body: dict[str, Any] = {
        "workflow": "renewal-risk",
        "kind": "decision",
        "title": "Escalate Acme renewal",
        "summary": "Usage down 40% in 60 days.",
        "reasons": ["Usage down", "Champion left"],
        "sources": source(2),
        "confidence": 0.7,
    }
    return body | over


EVERY_KIND = {
    "brief": brief,
    "summary": summary,
    "recommendation": recommendation,
    "task": task,
    "field_update": field_update,
    "message_draft": message_draft,
    "decision": decision,
}
