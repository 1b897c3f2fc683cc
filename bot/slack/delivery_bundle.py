"""Posting bundles: the card route's path for items that arrive as rows of one bundle message.

Placement (which bundle, if any) is bot.core.bundles; here the message is posted once, or
updated in place, and every row's item then points at it (`card_channel`/`card_ts`), so a
decision re-renders the bundle, reminders refer to it, and timers start when it is seen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from bot.base.levels import Status
from bot.core import lifecycle
from bot.core.bundles import bundle_for, rows
from bot.core.outbox import Outcome
from bot.core.runtime import Runtime
from bot.slack.blocks_bundle import bundle_messages
from bot.slack.blocks_scope import moved_bundle
from bot.slack.errors import slack_failure
from bot.slack.ids import CARD_EVENT
from models import Item, Outbox

log = logging.getLogger(__name__)
# (user, metadata payload, row) -> (channel, ts) of a message an earlier attempt posted
FindPosted = Callable[[str, dict[str, Any], Outbox], tuple[str, str] | None]
# the item, assigned to its reviewer (with an audit event)
Assign = Callable[[Item], Item]
# (item, which card, ts) -> the timer columns that start when the reviewer can see it
ClockStarts = Callable[[Item, str, str], dict[str, Any]]


@dataclass
class BundleDelivery:
    """Places assigned items into bundles and shows each bundle as one message."""

    rt: Runtime
    client: WebClient
    find_posted: FindPosted
    clock_starts: ClockStarts

    def take(
        self, rows_: Sequence[Outbox], items: dict[int, Item | None], assign: Assign
    ) -> tuple[dict[int, Outcome], dict[int, Item]]:
        """Deliver the batch's rows that belong to bundles; the rest go on as single cards.

        Every first post of a bundling workflow is assigned before any is placed, so the items
        the batch is about to post count as waiting for their reviewer. Returns the outcomes
        of the rows handled here and the items assigned (the card route must not assign again).
        """
        outcomes: dict[int, Outcome] = {}
        assigned: dict[int, Item] = {}
        for row in rows_:
            item = items[row.id or 0]
            if item is not None and self._bundling(item) and _first_post(row, item):
                try:
                    assigned[row.id or 0] = assign(item)
                except Exception as exc:
                    log.exception("assigning item %s failed", item.id)
                    outcomes[row.id or 0] = slack_failure(exc)
        placed = self.place([(r, assigned[r.id or 0]) for r in rows_ if (r.id or 0) in assigned])
        for row in rows_:
            earlier = _bundle_of(row, items[row.id or 0])
            if earlier:
                placed[row.id or 0] = earlier
        outcomes |= self._retire_moved(rows_, placed)
        for bundle_id in sorted(set(placed.values())):
            mine = [r for r in rows_ if placed.get(r.id or 0) == bundle_id]
            outcome = self._show_safely(bundle_id, mine[0])
            outcomes |= {r.id or 0: outcome for r in mine}
        return outcomes, {k: v for k, v in assigned.items() if k not in placed}

    def _retire_moved(self, rows_: Sequence[Outbox], placed: dict[int, str]) -> dict[int, Outcome]:
        """A delegated item's old bundle: re-rendered with the rows that stayed, or, when none
        did, replaced by a note saying who decides them now."""
        outcomes: dict[int, Outcome] = {}
        for row in rows_:
            bundle_id = _retired_bundle(row)
            if bundle_id is None:
                continue  # a single card: the card route marks it as moved
            if bundle_id in placed.values():
                placed[row.id or 0] = bundle_id  # re-rendered anyway: its outcome is this row's
                continue
            with self.rt.db.read() as session:
                stayed = rows(session, bundle_id)
            if stayed:
                placed[row.id or 0] = bundle_id
                continue
            where, to = row.payload["retire"], str(row.payload["to"])
            try:
                blocks, text = moved_bundle(to)
                self.client.chat_update(
                    channel=where["channel"], ts=where["ts"], blocks=blocks, text=text
                )
                outcomes[row.id or 0] = Outcome.done(f"old bundle marked as moved to {to}")
            except Exception as exc:
                log.exception("retiring bundle %s failed", bundle_id)
                outcomes[row.id or 0] = slack_failure(exc)
        return outcomes

    def _bundling(self, item: Item) -> bool:
        return self.rt.spec(item.workflow_id).spec.review.bundle_after is not None

    def _show_safely(self, bundle_id: str, row: Outbox) -> Outcome:
        try:
            return Outcome.done(self.show(bundle_id, row))
        except Exception as exc:
            log.exception("bundle %s failed", bundle_id)
            return slack_failure(exc)

    def place(self, batch: Sequence[tuple[Outbox, Item]]) -> dict[int, str]:
        """Row id -> bundle id for the rows whose items join a bundle (others get a card)."""
        placed: dict[int, str] = {}
        for row, item in batch:
            review = self.rt.spec(item.workflow_id).spec.review
            if review.bundle_after is None:
                continue
            with self.rt.db.write() as session:
                bundle = bundle_for(session, item, review, self.rt.clock())
            if bundle:
                placed[row.id or 0] = bundle
        return placed

    def show(self, bundle_id: str, row: Outbox) -> str:
        """Post the bundle's message (or messages), or update each in place; what was done."""
        with self.rt.db.read() as session:
            items = rows(session, bundle_id)
        name = self.rt.spec(items[0].workflow_id).spec.name
        verbs = [
            self._show_part(bundle_id, row, part, number, blocks, text)
            for number, (part, blocks, text) in enumerate(bundle_messages(bundle_id, name, items))
        ]
        return f"bundle {bundle_id} ({len(items)} rows) {', '.join(verbs)}"

    def _show_part(
        self,
        bundle_id: str,
        row: Outbox,
        part: Sequence[Item],
        number: int,
        blocks: list[Any],
        text: str,
    ) -> str:
        shown = next((i for i in part if i.card_ts), None)
        if shown is not None:
            channel, ts = str(shown.card_channel), str(shown.card_ts)
            self.client.chat_update(channel=channel, ts=ts, blocks=blocks, text=text)
            verb = "updated"
        else:
            channel, ts, verb = self._post(part[0], bundle_id, row, blocks, text, number)
        self._point_rows_at(part, bundle_id, channel, ts)
        return verb

    def _post(
        self, first: Item, bundle_id: str, row: Outbox, blocks: list[Any], text: str, number: int
    ) -> tuple[str, str, str]:
        """Post once: an earlier attempt that reached Slack is found in the DM's history."""
        user = str(first.assignee)
        payload: dict[str, Any] = {"bundle_id": bundle_id, "step": "bundle"}
        if number:  # a later message of a bundle split in several
            payload["part"] = number
        if row.attempts > 1 or row.last_error is not None:
            found = self.find_posted(user, payload, row)
            if found is not None:
                return found[0], found[1], "found already posted"
        metadata = {"event_type": CARD_EVENT, "event_payload": payload}
        posted = self.client.chat_postMessage(
            channel=user, blocks=blocks, text=text, metadata=metadata
        )
        return str(posted["channel"]), str(posted["ts"]), "posted"

    def _point_rows_at(self, items: Sequence[Item], bundle_id: str, channel: str, ts: str) -> None:
        with self.rt.db.write() as session:
            for item in items:
                if item.card_ts:
                    continue
                lifecycle.update_item(
                    session,
                    item.id,
                    actor="system",
                    event="card_posted",
                    data={"channel": channel, "ts": ts, "to": item.assignee, "bundle": bundle_id},
                    card_channel=channel,
                    card_ts=ts,
                    **self.clock_starts(item, "card", ts),
                )


def _first_post(row: Outbox, item: Item) -> bool:
    """A row that would post the item's first card (not an update, not the manager's)."""
    if row.payload.get("manager") or row.payload.get("update") or row.payload.get("retire"):
        return False  # the manager's card, an update, a delegated item's old card
    if item.card_ts:
        return False
    return item.status == Status.PENDING.value and not item.bundle_id


def _bundle_of(row: Outbox, item: Item | None) -> str | None:
    """The bundle to re-render for a placed item's later row (a decision, a retried post).

    An escalated item's rows stay the card route's: it also updates the manager's card. So does
    the row retiring a delegated item's old card (its old bundle: `_retire_moved`).
    """
    if item is None or item.manager_card_ts or row.payload.get("manager"):
        return None
    if row.payload.get("retire"):
        return None
    return item.bundle_id


def _retired_bundle(row: Outbox) -> str | None:
    """The bundle a delegated item left, if its old card was a bundle's row."""
    retire = row.payload.get("retire")
    return str(retire["bundle"]) if isinstance(retire, dict) and retire.get("bundle") else None
