"""Narrated actions for `airlock demo`: an agent, people in Slack, and what reaches Salesforce.

Submissions go to the agent API and every click, modal and command is a signed request to
/slack/events, over HTTP, exactly as in production; each action prints what happened.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from sqlmodel import col, select

from bot.demo_text import card_summary, fields_text, name, new_lines, plain
from bot.sandbox.session import ensure_agent_key
from bot.sandbox.slack_payloads import block_action, view_submission
from bot.sandbox.slack_sender import SlackSender, answer_of
from bot.sandbox.slack_standin import SlackMessage
from bot.service import Service
from bot.slack.ids import BUTTON_LABELS, Action
from models import Item, Outbox, Workflow

T = TypeVar("T")
Out = Callable[[str], None]
PAD = " " * 11


class DemoError(RuntimeError):
    """The scenario did not go as scripted."""


class DemoDriver:
    """One agent and the seeded people, acting on a running service and narrating."""

    def __init__(self, service: Service, base_url: str, out: Out, timeout: float = 15.0) -> None:
        box = service.integrations.sandbox
        if box.slack is None or box.salesforce is None:
            raise DemoError("the demo runs on the Slack and Salesforce stand-ins only")
        self.service, self.rt, self.out, self.timeout = service, service.rt, out, timeout
        self.slack, self.org = box.slack, box.salesforce
        self.sender = SlackSender(base_url, service.integrations.signing_secret)
        key = ensure_agent_key(self.rt, None)
        self.agent = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=timeout,
            trust_env=False,
        )
        self.quiet = False  # one line per action, no card quotes (for repetitive steps)
        self._cards: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._writes = 0
        self._runs = 0

    def close(self) -> None:
        """Release HTTP connections."""
        self.sender.close()
        self.agent.close()

    def say(self, who: str, text: str) -> None:
        """One transcript line: an actor column, then what they did or saw."""
        self.out(f"{who:<10} {text}")

    def wait(self, check: Callable[[], T | None], what: str) -> T:
        """Deliver due side effects until `check()` answers, or fail naming what never came."""
        deadline = time.monotonic() + self.timeout
        while True:
            self.service.worker.drain(max_rounds=10)
            found = check()
            if found:
                return found
            if time.monotonic() > deadline:
                raise DemoError(f"timed out waiting for {what}")
            time.sleep(0.05)

    def item(self, item_id: str) -> Item:
        """The item as stored now."""
        with self.rt.db.read() as session:
            found = session.get(Item, item_id, populate_existing=True)
        if found is None:
            raise DemoError(f"item {item_id} vanished")
        return found

    def submit(self, body: dict[str, Any]) -> str:
        """The agent submits an item over the intake API."""
        self._runs += 1
        headers = {"Idempotency-Key": f"demo-run-{self._runs}"}
        response = self.agent.post("/api/v1/items", json=body, headers=headers)
        answer = answer_of(response)
        if response.status_code != 201:
            raise DemoError(f"intake answered {response.status_code}: {answer}")
        self.say(
            "agent",
            f'submits {body["kind"]} "{body["title"]}" to {body["workflow"]} -> '
            f"{answer['status']} (gate {answer['gate']}, level {answer['level']})",
        )
        return str(answer["id"])

    def card(self, item_id: str, *, manager: bool = False) -> SlackMessage:
        """Wait for the item's review card (the manager's copy if asked) and quote it."""

        def posted() -> SlackMessage | None:
            item = self.item(item_id)
            channel, ts = (
                (item.manager_card_channel, item.manager_card_ts)
                if manager
                else (item.card_channel, item.card_ts)
            )
            return self.slack.messages.get((channel or "", ts or ""))

        message = self.wait(posted, f"the card of {item_id}")
        user = self.item(item_id).manager if manager else self.item(item_id).assignee
        self._cards[(message.channel, message.ts)] = message.blocks
        self.say("Slack", f"card in {name(user)}'s DMs" + ("" if self.quiet else ":"))
        for line in [] if self.quiet else card_summary(message.blocks):
            self.out(f"{PAD}| {line}")
        return message

    def click(self, user: str, action: Action, message: SlackMessage) -> str:
        """`user` clicks a button on a card; returns the trigger id (modals are keyed on it)."""
        item_id = _button_value(message, action)
        payload = block_action(user, action.value, item_id, channel=message.channel, ts=message.ts)
        response = self.sender.interact(payload)
        self.say(
            name(user).split()[0],
            f"clicks [{BUTTON_LABELS[action]}] -> HTTP {response.status_code}",
        )
        return str(payload["trigger_id"])

    def modal(self, trigger_id: str) -> dict[str, Any]:
        """The modal the bot opened in answer to a click."""

        def opened() -> dict[str, Any] | None:
            views = [v for v in self.slack.views.values() if v.trigger_id == trigger_id]
            return views[-1].to_api() if views else None

        view = self.wait(opened, "the modal")
        self.say("Slack", f'opens the "{view["title"]["text"]}" modal')
        return view

    def fill(self, user: str, view: dict[str, Any], values: dict[str, Any], note: str) -> None:
        """`user` fills in and submits a modal; errors shown inside it fail the demo."""
        response = self.sender.interact(view_submission(user, view, values))
        answer = answer_of(response)
        if answer.get("response_action") == "errors":
            raise DemoError(f"the modal refused the input: {answer['errors']}")
        self.say(name(user).split()[0], f"{note} -> HTTP {response.status_code}")

    def settle(self, item_id: str) -> None:
        """Wait until the item's side effects are delivered, then show the card and Salesforce."""
        self.wait(lambda: self._quiet(item_id), f"{item_id} to settle")
        item = self.item(item_id)
        for key in [
            (item.card_channel, item.card_ts),
            (item.manager_card_channel, item.manager_card_ts),
        ]:
            self._card_update(key)
        self.salesforce_news()

    def _quiet(self, item_id: str) -> bool:
        item = self.item(item_id)
        if item.status == "pending" or item.writeback_state == "queued":
            return False
        with self.rt.db.read() as session:
            query = select(Outbox.id).where(
                col(Outbox.item_id) == item_id, col(Outbox.status) == "pending"
            )
            return session.exec(query.limit(1)).first() is None

    def _card_update(self, key: tuple[str | None, str | None]) -> None:
        message = self.slack.messages.get((key[0] or "", key[1] or ""))
        if message is None:
            return
        before = self._cards.get((message.channel, message.ts), [])
        self._cards[(message.channel, message.ts)] = message.blocks
        added = new_lines(before, message.blocks)
        if added and not self.quiet:
            owner = name(f"U{message.channel[1:]}")  # the stand-in names DMs D + user id
            self.say("Slack", f"card updated in place in {owner}'s DMs:")
            for line in added:
                self.out(f"{PAD}| {line}")

    def salesforce_news(self) -> None:
        """Print the Salesforce writes applied since last asked."""
        writes = self.org.applied_writes()
        for write in writes[self._writes :]:
            verb = "creates" if write.method == "POST" else "updates"
            self.say(
                "Salesforce", f"{verb} {write.sobject} {write.id}: {fields_text(write.fields)}"
            )
        if len(writes) == self._writes and not self.quiet:
            self.say("Salesforce", "nothing written")
        self._writes = len(writes)

    def paused_reason(self, workflow_id: str) -> str | None:
        """Why the workflow is paused, or None while it runs."""
        with self.rt.db.read() as session:
            row = session.get(Workflow, workflow_id, populate_existing=True)
        return (row.paused_reason or "no reason given") if row and row.paused else None

    def last_dm(self, user: str, containing: str) -> str:
        """The newest DM to `user` whose text contains `containing`, as plain text."""

        def found() -> str | None:
            texts = [m.text for m in self.slack.messages_for(user) if containing in m.text]
            return texts[-1] if texts else None

        return plain(self.wait(found, f"a DM to {user} about {containing!r}"))

    def command(self, user: str, text: str) -> str:
        """`user` types `/airlock <text>`; prints and returns the answer."""
        answer = answer_of(self.sender.command(user, text))
        reply = plain(str(answer.get("text", "")))
        self.say(name(user).split()[0], f"/airlock {text}")
        for line in reply.splitlines():
            self.out(f"{PAD}> {line}")
        return reply


def _button_value(message: SlackMessage, action: Action) -> str:
    for block in message.blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action.value:
                return str(element["value"])
    raise DemoError(f"no [{BUTTON_LABELS[action]}] button on the card")
