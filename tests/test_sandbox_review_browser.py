"""The sandbox page renders the card's Snooze menu and the Edit modal's per-field checkboxes."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.test_sandbox_browser import act_as, browser, pytestmark, sandbox, shot  # noqa: F401


def test_snooze_and_decline_every_change(sandbox: Page) -> None:  # noqa: F811
    act_as(sandbox, "U0MAYA")
    sandbox.locator("button.sample[data-sample=task]").click()
    task = sandbox.locator("article.message", has_text="Follow up on redlines")
    menu = task.locator("select.bk-select-action")
    expect(menu.locator("option")).to_have_text(
        ["Snooze", "1 hour", "Tomorrow morning", "Next week"]
    )
    menu.select_option(label="Tomorrow morning")
    expect(task).to_contain_text("Snoozed until")
    told = sandbox.locator("article.message", has_text="Airlock reminds you then")
    expect(told).to_contain_text("💤 Snoozed until")
    shot(sandbox, "sandbox-6-snoozed.png")

    sandbox.locator("button.sample[data-sample=stage]").click()
    stage = sandbox.locator("article.message", has_text="Move Acme renewal to Negotiation")
    stage.get_by_role("button", name="Edit").click()
    modal = sandbox.locator("#modal")
    expect(modal).to_contain_text("Changes to apply")
    box = modal.locator(".bk-checkbox input")
    expect(box).to_have_count(1)
    expect(box).to_be_checked()
    box.uncheck()
    shot(sandbox, "sandbox-7-decline.png")
    modal.get_by_role("button", name="Approve with edits").click()
    expect(sandbox.locator("#modal-backdrop")).to_be_hidden()
    expect(stage).to_contain_text("Rejected")
    expect(stage).to_contain_text("all declined")
    expect(stage).to_contain_text("declined, not written")
