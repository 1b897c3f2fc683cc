"""`/airlock delegate`: while someone is away, their items and escalations go to a delegate.

Starting a delegation moves the delegator's pending items in one transaction: each is reassigned
by compare-and-set (an item decided meanwhile is left alone), its old card is marked as moved and
the delegate gets a new one, both through the outbox. The delegator keeps the right to decide
(`item.delegator`). A delegation ends by itself at `until` (the scheduler's tick), telling both.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from bot.base.errors import InvalidInput
from bot.base.levels import Status
from bot.core import lifecycle
from bot.core.delegation_rules import delegate_of
from bot.core.effects import CARD, NOTIFY
from bot.core.outbox import enqueue
from bot.core.runtime import Runtime
from models import Delegation, Item


def start(rt: Runtime, delegator: str, delegate: str, until: datetime) -> int:
    """Delegate until `until`; returns how many pending items moved to the delegate."""
    now = rt.clock()
    if delegate == delegator:
        raise InvalidInput("you cannot delegate to yourself: name someone else")
    with rt.db.write() as session:
        onward = session.get(Delegation, delegate)
        if onward is not None and onward.until > now:
            raise InvalidInput(
                f"<@{delegate}> is away too (delegating to <@{onward.delegate}>): delegations "
                "do not chain, so pick someone who is not delegating"
            )
        session.execute(delete(Delegation).where(col(Delegation.delegator) == delegator))
        session.add(Delegation(delegator=delegator, delegate=delegate, until=until, created_at=now))
        moved = _move_pending(session, delegator, delegate, until)
        _tell(
            session,
            delegate,
            f"delegation:{delegator}:{now.isoformat()}",
            f":busts_in_silhouette: <@{delegator}> delegated their Airlock reviews to you until "
            f"{until.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({moved} pending item(s) moved to "
            "you). You may decide them; escalations to them come to you too.",
        )
    rt.kick()
    return moved


def _move_pending(session: Session, delegator: str, delegate: str, until: datetime) -> int:
    pending = session.exec(
        select(Item).where(
            col(Item.assignee) == delegator, col(Item.status) == Status.PENDING.value
        )
    ).all()
    moved = 0
    for item in pending:
        old_card, old_bundle = (item.card_channel, item.card_ts), item.bundle_id
        done = lifecycle.update_item_if(
            session,
            item.id,
            {"assignee": delegator, "status": Status.PENDING.value},
            actor=f"user:{delegator}",
            event="delegated",
            data={"from": delegator, "to": delegate, "until": until.isoformat()},
            assignee=delegate,
            delegator=delegator,
            card_channel=None,
            card_ts=None,
            bundle_id=None,  # a row of the delegator's bundle: the delegate gets it afresh
        )
        if done is None:
            continue  # decided or moved meanwhile
        moved += 1
        common = {"item_id": item.id, "workflow_id": item.workflow_id, "kind": CARD}
        if old_card[1]:
            retire = {"channel": old_card[0], "ts": old_card[1], "bundle": old_bundle}
            enqueue(
                session,
                dedupe_key=f"{item.id}:card:moved:{old_card[1]}",
                payload={"retire": retire, "to": delegate},
                **common,
            )
        enqueue(
            session, dedupe_key=f"{item.id}:card:delegate:{done.audit_seq}", payload={}, **common
        )
    return moved


def stop(rt: Runtime, delegator: str) -> str:
    """`delegate off`: end the delegation now; returns who the delegate was."""
    with rt.db.write() as session:
        row = session.get(Delegation, delegator)
        if row is None or row.until <= rt.clock():
            raise InvalidInput("you have no delegation to turn off")
        delegate = row.delegate
        session.delete(row)
        _tell(
            session,
            delegate,
            f"delegation-off:{delegator}:{rt.clock().isoformat()}",
            f":busts_in_silhouette: <@{delegator}> is back: their new Airlock items go to them "
            "again. Items already moved to you stay with you (they may decide them too).",
        )
    return delegate


def end_due(rt: Runtime) -> list[str]:
    """End every delegation whose `until` has come (the scheduler's tick), telling both people."""
    now = rt.clock()
    ended = []
    with rt.db.write() as session:
        # Two ticks at once (replicas, or a tick beside the scheduler's): on PostgreSQL the
        # second skips the rows the first is ending instead of deleting them again after it.
        due = select(Delegation).where(col(Delegation.until) <= now)
        rows = session.exec(due.with_for_update(skip_locked=True)).all()
        for row in rows:
            text = (
                f":busts_in_silhouette: The delegation of <@{row.delegator}>'s Airlock reviews "
                f"to <@{row.delegate}> ended by itself; new items go to <@{row.delegator}> again."
            )
            for person in (row.delegator, row.delegate):
                _tell(session, person, f"delegation-end:{row.delegator}:{row.until}", text)
            ended.append(row.delegator)
            session.delete(row)
    return ended


def current(rt: Runtime, person: str) -> Delegation | None:
    """The person's delegation in force, if any."""
    with rt.db.read() as session:
        row = session.get(Delegation, person)
    return row if row is not None and row.until > rt.clock() else None


def redirect(rt: Runtime, person: str) -> tuple[str, str | None]:
    """Who gets `person`'s item now, and the delegator when it is a delegate."""
    with rt.db.read() as session:
        delegate = delegate_of(session, person, rt.clock())
    return (delegate, person) if delegate else (person, None)


def _tell(session: Session, person: str, key: str, text: str) -> None:
    enqueue(
        session,
        kind=NOTIFY,
        dedupe_key=f"{key}:{person}",
        pausable=False,
        payload={"to": person, "text": text},
    )
