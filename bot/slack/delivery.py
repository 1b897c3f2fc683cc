"""The outbox route that posts review cards to reviewers' DMs and updates them in place."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk import WebClient

from bot.base.deadlines import card_deadline, next_due
from bot.base.levels import Status
from bot.core import delegation, lifecycle
from bot.core.decisions import escalation_target
from bot.core.effects import needs_writeback
from bot.core.outbox import Outcome, Route
from bot.core.runtime import Runtime
from bot.core.snooze import snooze_limit_reached
from bot.core.trace import item_summary
from bot.salesforce.directory import Reviewer
from bot.slack.blocks import Card, Next, RecordFacts, review_card
from bot.slack.blocks_scope import moved_card
from bot.slack.card_facts import RecordReader, read_facts
from bot.slack.delivery_bundle import BundleDelivery
from bot.slack.errors import slack_failure
from bot.slack.ids import CARD_EVENT
from models import Item, Outbox

log = logging.getLogger(__name__)
HISTORY_PAGE = 200
CLOCK_SKEW = 60.0  # seconds: Slack's clock and ours may disagree a little


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

    def resolve_owner(self, owner: str) -> str:
        """A workflow owner's Slack id (written as an id or an email); ValueError if none."""
        ...


def card_for(
    rt: Runtime,
    item: Item,
    tz: str,
    *,
    for_manager: bool = False,
    facts: RecordFacts | None = None,
) -> Card:
    """Everything the card builder needs for one item (Salesforce's facts read beforehand)."""
    spec = rt.spec(item.workflow_id).spec
    target, _note = escalation_target(item, spec.owner)
    writes = needs_writeback(item, spec, Status.APPROVED)
    after = Next(
        escalates_to=target,
        escalates_as="manager" if target and target == item.manager else "workflow owner",
        writes_changes=writes and bool(item.changes),
        creates_task=writes and bool(item.task),
        tells_agent=bool(spec.callback_url),
    )
    # With nobody to escalate to, the next thing that can happen is expiry: show that time.
    late = for_manager or item.escalated or target is None
    escalate_at = card_deadline(item, spec.escalation, rt.clock(), late=late)
    return Card(
        item_summary(item),
        spec.name,
        tz,
        escalate_at,
        for_manager,
        facts or RecordFacts(),
        after,
        not snooze_limit_reached(rt, item),
    )


@dataclass
class CardRoute:
    """Delivers `slack.card` rows: first post to the reviewer's DM, then in-place updates."""

    rt: Runtime
    client: WebClient
    directory: ReviewerSource
    salesforce: RecordReader | None = None  # names and live values; None: cards go without

    def route(self) -> Route:
        """As an outbox route."""
        return Route(self.deliver, batch_size=10)

    def deliver(self, rows: Sequence[Outbox]) -> dict[int, Outcome]:
        """One outcome per row; Salesforce is read once for the batch, before any card is built."""
        with self.rt.db.read() as session:
            items = {row.id or 0: session.get(Item, row.item_id) for row in rows}
        done, assigned = self._bundles().take(rows, items, self._assign)
        rest = [row for row in rows if (row.id or 0) not in done]
        facts = self._facts([i for r in rest if (i := items[r.id or 0]) is not None])
        for row in rest:
            item = assigned.get(row.id or 0) or items[row.id or 0]
            done[row.id or 0] = self._one(row, item, facts, assigned=(row.id or 0) in assigned)
        return done

    def _bundles(self) -> BundleDelivery:
        return BundleDelivery(self.rt, self.client, self._posted_before, self._clock_starts)

    def _facts(self, items: list[Item]) -> dict[str, RecordFacts]:
        if self.salesforce is None or not items:
            return {}
        return read_facts(items, self.salesforce, self.rt.fields, self.rt.clock())

    def _one(
        self, row: Outbox, item: Item | None, facts: dict[str, RecordFacts], *, assigned: bool
    ) -> Outcome:
        # Any failure stays with its row: the other cards of the batch are not posted again.
        try:
            if item is None:
                return Outcome.dead(f"item {row.item_id} no longer exists")
            known = facts.get(item.id)
            if row.payload.get("retire"):
                return self._retire(row)
            if row.payload.get("manager") and not item.manager_card_ts:
                return self._post_to_manager(item, row, known)
            if item.card_ts:
                return self._update(item, known, row)
            if row.payload.get("update"):
                return Outcome.done("no card was ever posted; nothing to update")
            return self._post(item if assigned else self._assign(item), row, known)
        except Exception as exc:
            log.exception("card for item %s failed", row.item_id)
            return slack_failure(exc)

    def _assign(self, item: Item) -> Item:
        """The item, assigned to the decider at its gate (with the audit event saying why)."""
        owner = self.rt.spec(item.workflow_id).spec.owner
        reviewer = self.directory.reviewer_for(item, owner)  # the decider at the item's gate
        user, away = delegation.redirect(self.rt, reviewer.user)  # `/airlock delegate`
        with self.rt.db.write() as session:
            return lifecycle.update_item(
                session,
                item.id,
                actor="system",
                event="assigned",
                data={
                    "to": user,
                    "manager": reviewer.manager,
                    "source": reviewer.source,
                    "note": reviewer.note,
                }
                | ({"for": away} if away else {}),
                assignee=user,
                delegator=away,
                manager=reviewer.manager,
            )

    def _post(self, item: Item, row: Outbox, facts: RecordFacts | None) -> Outcome:
        user = str(item.assignee)
        card = card_for(self.rt, item, self._tz(user), facts=facts)
        return self._deliver_card(item, user, card, "card", row)

    def _post_to_manager(self, item: Item, row: Outbox, facts: RecordFacts | None) -> Outcome:
        manager = dm_target(self.client, self._manager_of(item))
        card = card_for(self.rt, item, self._tz(manager), for_manager=True, facts=facts)
        return self._deliver_card(item, manager, card, "manager_card", row)

    def _deliver_card(self, item: Item, user: str, card: Card, which: str, row: Outbox) -> Outcome:
        """Post a card to a DM, or adopt the one an earlier attempt posted; store where it is.

        Every card carries message metadata naming its item and step. When an earlier attempt
        may have reached Slack (a crash before the ts was stored, or an answer lost on the way
        back), the DM's history is read first, so the card is posted at most once.
        """
        event = f"{which}_posted"
        payload = {"item_id": item.id, "step": which}
        found = self._posted_before(user, payload, row) if _maybe_posted(row) else None
        if found is not None:
            channel, ts = found
            event = f"{which}_adopted"
        else:
            blocks, text = review_card(card)
            metadata = {"event_type": CARD_EVENT, "event_payload": payload}
            posted = self.client.chat_postMessage(
                channel=user, blocks=blocks, text=text, metadata=metadata
            )
            channel, ts = str(posted["channel"]), str(posted["ts"])
        where = {f"{which}_channel": channel, f"{which}_ts": ts}
        where |= self._clock_starts(item, which, ts)
        with self.rt.db.write() as session:
            lifecycle.update_item(
                session,
                item.id,
                actor="system",
                event=event,
                data={"channel": channel, "ts": ts, "to": user},
                **where,
            )
        verb = "found already posted" if event.endswith("adopted") else "posted"
        return Outcome.done(f"{which.replace('_', ' ')} {verb} to {user}", {"ts": ts})

    def _posted_before(
        self, user: str, wanted: dict[str, Any], row: Outbox
    ) -> tuple[str, str] | None:
        """The (channel, ts) of the message whose metadata is `wanted`, if an earlier attempt
        posted it, read from the DM's history."""
        channel = str(self.client.conversations_open(users=user)["channel"]["id"])
        oldest = f"{row.created_at.timestamp() - CLOCK_SKEW:.6f}"
        cursor: str | None = None
        while True:
            page = self.client.conversations_history(
                channel=channel,
                oldest=oldest,
                limit=HISTORY_PAGE,
                include_all_metadata=True,
                cursor=cursor,
            )
            for message in page.get("messages") or []:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == CARD_EVENT and payload == wanted:
                    return channel, str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or not cursor:
                return None

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

    def _update(self, item: Item, facts: RecordFacts | None, row: Outbox) -> Outcome:
        if item.bundle_id:  # its row in the bundle message
            self._bundles().show(item.bundle_id, row)
        else:
            card = card_for(self.rt, item, self._tz(item.assignee), facts=facts)
            blocks, text = review_card(card)
            self.client.chat_update(
                channel=str(item.card_channel), ts=str(item.card_ts), blocks=blocks, text=text
            )
        if item.manager_card_ts:
            # The manager reads times in their own zone, not the reviewer's.
            tz = self._tz(dm_target(self.client, self._manager_of(item)))
            card = card_for(self.rt, item, tz, for_manager=True, facts=facts)
            blocks, text = review_card(card)
            self.client.chat_update(
                channel=str(item.manager_card_channel),
                ts=str(item.manager_card_ts),
                blocks=blocks,
                text=text,
            )
        return Outcome.done(f"card updated: {item.status}/{item.writeback_state}")

    def _retire(self, row: Outbox) -> Outcome:
        """The delegator's old card of a moved item: it now says where the item went."""
        where = row.payload["retire"]
        blocks, text = moved_card(row.item_id or "", row.payload["to"])
        self.client.chat_update(channel=where["channel"], ts=where["ts"], blocks=blocks, text=text)
        return Outcome.done(f"old card marked as moved to {row.payload['to']}")

    def _manager_of(self, item: Item) -> str:
        """Who holds the manager's card: the manager, else the workflow owner."""
        return item.manager or self.rt.spec(item.workflow_id).spec.owner

    def _tz(self, user: str | None) -> str:
        return self.directory.timezone_of(user) if user else "UTC"


def _maybe_posted(row: Outbox) -> bool:
    """Whether an earlier attempt at this row may have reached Slack."""
    return row.attempts > 1 or row.last_error is not None
