"""What the card says, builder by builder: names and labels (not ids), the live value and a stale
proposal, who decided, why a manager sees it, what happens next and what Approve does."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.slack.blocks import Card, Next, RecordFacts, review_card
from bot.slack.blocks_views import edit_modal
from tests.test_blocks import view

DEADLINE = datetime(2026, 11, 25, 19, 0, tzinfo=UTC)


def text(card: Card) -> str:
    blocks, _ = review_card(card)
    return json.dumps(blocks, ensure_ascii=False)


def test_render_record_name_and_field_labels() -> None:
    facts = RecordFacts(name="Acme Corp - Renewal 2027", labels={"StageName": "Stage"})
    shown = text(Card(view(), "Opportunity hygiene", facts=facts))
    assert "Opportunity: *Acme Corp - Renewal 2027*" in shown
    assert "006Ai0000000001IAA" not in shown
    assert "*Stage*:" in shown and "StageName" not in shown


def test_render_record_name_escaped() -> None:
    facts = RecordFacts(name="<!channel> & co")
    shown = text(Card(view(), "W", facts=facts))
    assert "&lt;!channel&gt; &amp; co" in shown and "<!channel>" not in shown


def test_render_friendly_labels_for_task_keys_in_edits() -> None:
    decided = view(
        status="edited",
        authority="confirmed",
        changes=[],
        task={"subject": "Call", "due_date": "2026-12-01", "description": ""},
        decision={
            "by": "U0MAYA",
            "at": "2026-11-24T15:00:00+00:00",
            "edits": {"task.subject": {"from": "Call", "to": "Call the CISO"}},
        },
    )
    shown = text(Card(decided, "W"))
    assert "Task subject: Call → *Call the CISO*" in shown and "task.subject" not in shown
    labelled = text(Card(decided, "W", facts=RecordFacts(labels={"task.subject": "Task Subject"})))
    assert "Task Subject: Call" in labelled


def test_render_live_value_as_current() -> None:
    facts = RecordFacts(live={"StageName": "Proposal/Price Quote"}, labels={"StageName": "Stage"})
    shown = text(Card(view(), "W", facts=facts))
    assert "(Salesforce now → proposed)" in shown
    assert "*Stage*: Proposal/Price Quote → *Negotiation/Review*" in shown
    assert "Stale" not in shown


def test_render_stale_proposal_flagged() -> None:
    facts = RecordFacts(live={"StageName": "Closed Lost"}, stale=frozenset({"StageName"}))
    shown = text(Card(view(), "W", facts=facts))
    assert "*Stale proposal*" in shown
    assert "Salesforce now says Closed Lost; the agent saw Proposal/Price Quote" in shown
    assert "Closed Lost → *Negotiation/Review*" in shown


def test_render_unreadable_salesforce_says_not_checked() -> None:
    facts = RecordFacts(unreadable="Salesforce unreachable: timed out")
    shown = text(Card(view(), "W", facts=facts))
    assert "Salesforce could not be read just now" in shown
    assert "the live values were not checked" in shown
    assert "Proposal/Price Quote → *Negotiation/Review*" in shown  # what the agent saw
    assert any(b["type"] == "actions" for b in review_card(Card(view(), "W", facts=facts))[0])


def test_render_rejected_card_says_rejected_by() -> None:
    rejected = view(
        status="rejected",
        authority="confirmed",
        decision={"by": "U0MAYA", "at": "2026-11-24T15:00:00+00:00", "reason": "tone"},
    )
    shown = text(Card(rejected, "W"))
    assert "*rejected* by <@U0MAYA>" in shown
    assert "confirmed* by" not in shown


def test_render_manager_gate_says_why() -> None:
    reasons = ["crm_write defaults to rep", "rule -> manager: fields Opportunity.Amount"]
    shown = text(Card(view(gate="manager", gate_reasons=reasons), "W"))
    assert "A manager decides this item: rule -&gt; manager: fields Opportunity.Amount" in shown
    assert "defaults to rep" not in shown


def test_render_deadline_names_escalation_target() -> None:
    to_manager = Next(escalates_to="U0SAM", escalates_as="manager")
    shown = text(Card(view(), "W", "UTC", DEADLINE, next=to_manager))
    assert "it goes to <@U0SAM> (your manager) Wed 25 Nov 19:00 UTC" in shown
    to_owner = Next(escalates_to="U0OLIVIA", escalates_as="workflow owner")
    shown = text(Card(view(), "W", "UTC", DEADLINE, next=to_owner))
    assert "it goes to <@U0OLIVIA> (the workflow's owner)" in shown
    assert "your manager" not in shown


def test_render_deadline_without_anyone_above_says_expiry() -> None:
    shown = text(Card(view(), "W", "UTC", DEADLINE, next=Next(escalates_to=None)))
    assert "it expires Wed 25 Nov 19:00 UTC (nobody is above you)" in shown
    assert "manager" not in shown


def approve_line(v: dict[str, Any], after: Next) -> str:
    context = [b for b in review_card(Card(v, "W", next=after))[0] if b["type"] == "context"]
    lines = [e["text"] for b in context for e in b["elements"] if "Approve" in e["text"]]
    assert len(lines) == 1, lines
    return str(lines[0])


def test_render_what_approve_does_per_kind() -> None:
    message = {"to": ["cfo@acme.example"], "subject": "Hi", "body": "Hello"}
    draft = view(kind="message_draft", changes=[], message=message)
    assert "Approve does not send this message: it records your decision and tells the agent" in (
        approve_line(draft, Next(tells_agent=True))
    )
    decision = view(kind="decision", changes=[])
    assert approve_line(decision, Next()) == (
        ":white_check_mark: Approve sends nothing by itself: it records your decision; "
        "the agent can read it from Airlock."
    )
    writes = approve_line(view(), Next(writes_changes=True))
    assert "Approve writes these changes in Salesforce" in writes
    task = view(changes=[], task={"subject": "Call", "due_date": None, "description": ""})
    assert "Approve creates this task in Salesforce" in approve_line(task, Next(creates_task=True))
    assert "write-back is off" in approve_line(view(), Next(writes_changes=False))


def test_edit_modal_labels_fields_as_people_read_them() -> None:
    fields = {"StageName": "Negotiation/Review", "task.subject": "Call"}
    modal = edit_modal("itm_1", "T", fields, labels={"StageName": "Stage"})
    labels = [b["label"]["text"] for b in modal["blocks"] if b["type"] == "input"]
    assert labels == ["Stage", "Task subject"]
    assert [b["block_id"] for b in modal["blocks"] if b["type"] == "input"] == [
        "edit:StageName",
        "edit:task.subject",
    ]  # what the submission is read by is unchanged
