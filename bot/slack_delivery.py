"""Outbox routes that talk to Slack: post or update review cards, and DM notices."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import lifecycle
from bot.blocks import Card, esc, resume_prompt, review_card
from bot.deadlines import card_deadline, next_due
from bot.directory import Reviewer
from bot.levels import Status
from bot.outbox import Outcome, Route
from bot.runtime import Runtime
from bot.trace import item_summary
from models import Item, Outbox

log = logging.getLogger(__name__)
_GIVE_UP = frozenset(
    {
        "channel_not_found",
        "user_not_found",
        "users_not_found",
        "invalid_auth",
        "account_inactive",
        "invalid_blocks",
        "not_authed",
        "is_archived",
        "msg_blocks_too_long",
        "user_disabled",
    }
)


def dm_target(client: WebClient, person: str) -> str:
    """Where to DM someone named by Slack id or email (a workflow `owner` may be either).

    chat.postMessage takes a conversation or user id as `channel`; an email is
    `channel_not_found` (https://docs.slack.dev/reference/methods/chat.postMessage).
    """
    if "@" not in person:
        return person
    return str(client.users_lookupByEmail(email=person)["user"]["id"])


class ReviewerSource(Protocol):
    """Resolves reviewers (the Salesforce-backed directory in production)."""

    def reviewer_for(self, item: Item, owner: str) -> Reviewer:
        """The reviewer of an item; never raises for unknown people."""
        ...

    def timezone_of(self, slack_user_id: str, *, cached_only: bool = False) -> str:
        """The person's IANA time zone, for showing them times (no network if cached_only)."""
        ...


def slack_failure(exc: SlackApiError) -> Outcome:
    """429 and 5xx wait and retry; errors retrying cannot fix give up with the reason."""
    response = exc.response
    error = str(response.get("error", "")) if response is not None else ""
    status = getattr(response, "status_code", 0) or 0
    if status == 429 or error == "ratelimited":
        wait = float(response.headers.get("Retry-After", 30)) if response is not None else 30.0
        return Outcome.retry("Slack rate limit", delay=max(1.0, wait))
    if error in _GIVE_UP:
        return Outcome.dead(f"Slack refused: {error}")
    return Outcome.retry(f"Slack error {status}: {error or exc}")


def card_for(rt: Runtime, item: Item, tz: str, *, for_manager: bool = False) -> Card:
    """Everything the card builder needs for one item."""
    spec = rt.spec(item.workflow_id).spec
    view = item_summary(item)
    late = for_manager or item.escalated
    escalate_at = card_deadline(item, spec.escalation, rt.clock(), late=late)
    return Card(view, spec.name, tz, escalate_at, for_manager)


@dataclass
class CardRoute:
    """Delivers `slack.card` rows: first post to the reviewer's DM, then in-place updates."""

    rt: Runtime
    client: WebClient
    directory: ReviewerSource

    def route(self) -> Route:
        """As an outbox route."""
        return Route(self.deliver, batch_size=10)

    def deliver(self, rows: Sequence[Outbox]) -> dict[int, Outcome]:
        """One outcome per row."""
        return {row.id or 0: self._one(row) for row in rows}

    def _one(self, row: Outbox) -> Outcome:
        with self.rt.db.read() as session:
            item = session.get(Item, row.item_id)
        if item is None:
            return Outcome.dead(f"item {row.item_id} no longer exists")
        try:
            if row.payload.get("manager") and not item.manager_card_ts:
                return self._post_to_manager(item)
            if item.card_ts:
                return self._update(item)
            if row.payload.get("update"):
                return Outcome.done("no card was ever posted; nothing to update")
            return self._post(item)
        except SlackApiError as exc:
            return slack_failure(exc)

    def _post(self, item: Item) -> Outcome:
        owner = self.rt.spec(item.workflow_id).spec.owner
        reviewer = self.directory.reviewer_for(item, owner)
        user = reviewer.manager if item.gate == "manager" and reviewer.manager else reviewer.user
        with self.rt.db.write() as session:
            item = lifecycle.update_item(
                session,
                item.id,
                actor="system",
                event="assigned",
                data={
                    "to": user,
                    "manager": reviewer.manager,
                    "source": reviewer.source,
                    "note": reviewer.note,
                },
                assignee=user,
                manager=reviewer.manager,
            )
        return self._deliver_card(item, user, card_for(self.rt, item, reviewer.tz), "card")

    def _post_to_manager(self, item: Item) -> Outcome:
        manager = dm_target(self.client, item.manager or self.rt.spec(item.workflow_id).spec.owner)
        card = card_for(self.rt, item, self._tz(manager), for_manager=True)
        return self._deliver_card(item, manager, card, "manager_card")

    def _deliver_card(self, item: Item, user: str, card: Card, which: str) -> Outcome:
        """Post a card to a DM and store where it lives (`card_*` or `manager_card_*`)."""
        blocks, text = review_card(card)
        posted = self.client.chat_postMessage(channel=user, blocks=blocks, text=text)
        where = {f"{which}_channel": posted["channel"], f"{which}_ts": posted["ts"]}
        where |= self._clock_starts(item, which, posted["ts"])
        with self.rt.db.write() as session:
            lifecycle.update_item(
                session,
                item.id,
                actor="system",
                event=f"{which}_posted",
                data={"channel": posted["channel"], "ts": posted["ts"], "to": user},
                **where,
            )
        return Outcome.done(f"{which.replace('_', ' ')} posted to {user}", {"ts": posted["ts"]})

    def _clock_starts(self, item: Item, which: str, ts: str) -> dict[str, Any]:
        """Timers run from when the reviewer can see the card, not from intake (issue 10.18)."""
        if item.status != Status.PENDING:
            return {}
        now = self.rt.clock()
        if which == "card":
            seen = item.model_copy(update={"pending_since": now})
        else:  # the manager's card: expiry now counts from here
            seen = item.model_copy(update={"escalated_at": now, "manager_card_ts": ts})
        escalation = self.rt.spec(item.workflow_id).spec.escalation
        changed = {"pending_since": now} if which == "card" else {"escalated_at": now}
        return changed | {"next_due_at": next_due(seen, escalation)}

    def _update(self, item: Item) -> Outcome:
        tz = self._tz(item.assignee)
        blocks, text = review_card(card_for(self.rt, item, tz))
        self.client.chat_update(
            channel=str(item.card_channel), ts=str(item.card_ts), blocks=blocks, text=text
        )
        if item.manager_card_ts:
            blocks, text = review_card(card_for(self.rt, item, tz, for_manager=True))
            self.client.chat_update(
                channel=str(item.manager_card_channel),
                ts=str(item.manager_card_ts),
                blocks=blocks,
                text=text,
            )
        return Outcome.done(f"card updated: {item.status}/{item.writeback_state}")

    def _tz(self, user: str | None) -> str:
        return self.directory.timezone_of(user) if user else "UTC"


def notice_text(rt: Runtime, row: Outbox) -> str:
    """The words of a `slack.notify` DM."""
    payload: dict[str, Any] = row.payload
    if payload.get("text"):
        return str(payload["text"])
    with rt.db.read() as session:
        item = session.get(Item, row.item_id) if row.item_id else None
    if item is not None and payload.get("reason") == "reminder":
        return (
            f":bell: Reminder: *{esc(item.title)}* from `{item.workflow_id}` is waiting for your "
            f"decision (Approve, Edit or Reject on the card). `{item.id}`"
        )
    if item is not None and payload.get("reason") == "blocked":
        why = esc("; ".join(item.gate_reasons[1:]) or "policy")
        return (
            f":no_entry: Blocked *{esc(item.title)}* from `{item.workflow_id}` "
            f"(agent `{esc(item.agent)}`): {why}. `/airlock trace {item.id}`"
        )
    return f"Airlock notice about {row.item_id or row.workflow_id}"


def notice_blocks(rt: Runtime, row: Outbox) -> list[dict[str, Any]] | None:
    """Buttons that belong with a notice: Resume when a workflow was paused."""
    if row.payload.get("reason") not in ("auto_pause", "paused"):
        return None
    return resume_prompt(notice_text(rt, row), row.payload["workflow"])


def notify_route(rt: Runtime, client: WebClient) -> Route:
    """Delivers `slack.notify` rows as DMs."""

    def deliver(rows: Sequence[Outbox]) -> dict[int, Outcome]:
        outcomes = {}
        for row in rows:
            try:
                client.chat_postMessage(
                    channel=dm_target(client, row.payload["to"]),
                    text=notice_text(rt, row),
                    blocks=notice_blocks(rt, row),
                )
                outcomes[row.id or 0] = Outcome.done(f"told {row.payload['to']}")
            except SlackApiError as exc:
                outcomes[row.id or 0] = slack_failure(exc)
        return outcomes

    return Route(deliver, batch_size=20)
