"""Per-field decisions in the Edit modal: keep, change or decline each proposed change."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bot.core.runtime import Runtime
from bot.core.trace import item_view, render_trace
from bot.sandbox.slack_blockkit import BlockKitRefusal, check_view
from bot.sandbox.slack_payloads import checkboxes_state, select_state, text_state
from bot.slack.blocks_apply import apply_blocks, read_declined
from bot.slack.blocks_views import edit_modal
from bot.slack.ids import Action
from tests import payloads
from tests.slack_driver import SlackDriver, wait_for
from tests.test_slack_flow import REP, item, posted, submit

TWO = [
    {"field": "StageName", "value": "Negotiation/Review", "observed": "Proposal/Price Quote"},
    {"field": "NextStep", "value": "Send redlines"},
]


def open_edit(slack: SlackDriver, rt: Runtime, item_id: str) -> dict[str, Any]:
    stored = posted(rt, item_id)
    slack.click(REP, Action.EDIT, item_id, channel=stored.card_channel, ts=stored.card_ts)
    view: dict[str, Any] = wait_for(
        lambda: slack.slack.calls_to("views.open") and slack.last_view()
    )
    return view


def test_decline_one_field_not_written(api: httpx.Client, rt: Runtime, slack: SlackDriver) -> None:
    item_id = submit(api, payloads.field_update(changes=TWO))
    view = open_edit(slack, rt, item_id)
    [apply] = [b for b in view["blocks"] if b.get("block_id") == "apply:0"]
    assert apply["element"]["type"] == "checkboxes"
    assert [o["value"] for o in apply["element"]["initial_options"]] == ["0", "1"]  # all kept
    # NextStep is declined: its input may even be left blank, nothing is asked of it.
    values = {
        "apply:0": checkboxes_state(["0"]),
        "edit:StageName": select_state("Value Proposition"),
        "edit:NextStep": text_state(""),
    }
    response = slack.submit(REP, view, values)
    assert response.status_code == 200 and response.content in (b"", b"{}"), response.text
    decided = item(rt, item_id)
    assert decided.status == "edited"
    assert decided.decision == {
        "verdict": "edited",
        "edits": {"StageName": {"from": "Negotiation/Review", "to": "Value Proposition"}},
        "declined": ["NextStep"],
    }
    org = slack.service.integrations.sandbox.salesforce
    assert org is not None
    writes = wait_for(lambda: org.applied_writes("Opportunity"))
    assert [w.fields for w in writes] == [{"StageName": "Value Proposition"}]
    card = wait_for(
        lambda: (c := slack.card(REP, item_id)) and "declined, not written" in json.dumps(c) and c
    )
    text = json.dumps(card["blocks"], ensure_ascii=False)
    assert "changed Negotiation/Review → *Value Proposition*" in text
    with rt.db.read() as session:
        trace = render_trace(item_view(session, item_id))
    assert "NextStep: declined (not written; proposed 'Send redlines')" in trace
    assert "StageName: changed 'Negotiation/Review' -> 'Value Proposition'" in trace


def test_decline_every_field_is_rejection(
    api: httpx.Client, rt: Runtime, slack: SlackDriver
) -> None:
    item_id = submit(api, payloads.field_update(changes=TWO))
    view = open_edit(slack, rt, item_id)
    response = slack.submit(REP, view, {"apply:0": checkboxes_state([])})
    assert response.status_code == 200 and response.content in (b"", b"{}"), response.text
    decided = item(rt, item_id)
    assert decided.status == "rejected"
    assert decided.decision == {
        "verdict": "rejected",
        "reason": "all_declined",
        "text": "all changes declined",
        "declined": ["NextStep", "StageName"],
    }
    assert decided.writeback_state == "none"
    card = wait_for(
        lambda: (c := slack.card(REP, item_id)) and "all declined" in json.dumps(c) and c
    )
    text = json.dumps(card["blocks"])
    assert text.count("declined, not written") == 2  # both fields, each on its own line
    assert "(proposed Send redlines)" in text


def test_many_changes_offered_in_groups_of_ten() -> None:
    changes = [f"Field_{n}__c" for n in range(57)]
    fields = dict.fromkeys(changes, "x")
    modal = edit_modal("itm_1", "Title", fields, changes=changes)
    check_view("views.open", modal)  # Slack's limits: 10 options a group, 100 blocks a modal
    groups = [b for b in modal["blocks"] if b.get("block_id", "").startswith("apply:")]
    assert [len(g["element"]["options"]) for g in groups] == [10, 10, 10, 10, 10]
    assert "The last 7 changes cannot be declined here" in groups[0]["hint"]["text"]
    state = {
        g["block_id"]: checkboxes_state([o["value"] for o in g["element"]["options"]])
        for g in groups
    }
    state["apply:2"] = checkboxes_state(["21"])  # 20 and 22..29 unticked
    assert read_declined(state, changes) == [f"Field_{n}__c" for n in (20, *range(22, 30))]
    assert read_declined({}, changes) == []  # no state sent: nothing is declined


@pytest.mark.slack_violations
def test_standin_refuses_checkboxes_slack_refuses() -> None:
    [block] = apply_blocks([f"F{n}" for n in range(10)], {})
    eleven = block["element"] | {"options": block["element"]["options"] + [_option("10")]}
    with pytest.raises(BlockKitRefusal) as refused:
        check_view("views.open", _modal([block | {"element": eleven}]))
    assert refused.value.detail == "blocks[0]: checkboxes have 1 to 10 options, not 11"
    stray = block["element"] | {"initial_options": [_option("99")]}
    with pytest.raises(BlockKitRefusal) as refused:
        check_view("views.open", _modal([block | {"element": stray}]))
    assert refused.value.detail == "blocks[0]: initial_options must be among the options"


def _option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value}, "value": value}


def _modal(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return edit_modal("itm_1", "Title", {}) | {"blocks": blocks}
