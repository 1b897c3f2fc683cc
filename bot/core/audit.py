"""Verify the hash chains, the item rows they vouch for, each event's MAC and the checkpoints.

Verify streams: events are read per stream in keyset-paginated pages of `batch` rows and checked
as they arrive, so memory stays flat at any history size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, tuple_
from sqlmodel import Session, col, select

from bot.base import audit_key
from bot.base.canonical import sha256_hex
from bot.base.levels import Status
from bot.core.audit_checkpoints import check_checkpoints
from bot.core.audit_report import ChainProblem, Report
from bot.core.chain import field_digest as item_state_digest
from bot.core.lifecycle import BOUND_FIELDS, event_hash, item_state, item_stream, workflow_stream
from models import Event, Item, Workflow

BATCH = 1000
Progress = Callable[[int], None]


# Once an item is decided, what was decided is frozen: later events (write-back, card updates,
# outcome reads, reverts) change write-back state and other unbound columns only. A later event
# recording another digest of these means the row was edited between two events, and the next
# event's state took the edit in (e.g. `changes` altered after the approval, then written).
FROZEN_AFTER_DECISION = tuple(name for name in BOUND_FIELDS if name != "writeback_state")
DECIDED = frozenset(
    item_state_digest(status.value)
    for status in (
        Status.APPROVED,
        Status.EDITED,
        Status.REJECTED,
        Status.EXPIRED,
        Status.AUTO_ACCEPTED,
    )
)


@dataclass
class _Chain:
    """One stream's chain, checked event by event as the pages arrive."""

    stream: str
    item: Item | None
    count: int = 0
    prev: str | None = None
    last: Event | None = None
    problem: str | None = None
    decided: Event | None = None  # the event that recorded the decision


class _MacCheck:
    """Each event's MAC under the key; an event without one after keyed events began is suspect."""

    def __init__(self, session: Session, key: str | None, report: Report) -> None:
        self.key, self.report = key, report
        keyed = select(func.min(Event.id)).where(col(Event.mac).is_not(None))
        self.first_keyed: int | None = session.exec(keyed).one()

    def problem(self, event: Event) -> str | None:
        if event.mac is None:
            if self.key and self.first_keyed is not None and (event.id or 0) > self.first_keyed:
                return (
                    f"event #{event.seq} ({event.type}) carries no MAC although keyed events were "
                    "written before it: its MAC was removed, or a process without "
                    "AIRLOCK_AUDIT_KEY wrote it"
                )
            self.report.unkeyed += 1
        elif not self.key:
            self.report.unchecked_macs += 1
        elif not audit_key.matches(self.key, event.hash, event.mac):
            return (
                f"event #{event.seq} ({event.type}) does not match its MAC: it was rewritten by "
                "someone without AIRLOCK_AUDIT_KEY (or the key changed)"
            )
        return None


def verify(
    session: Session,
    key: str | None = None,
    *,
    batch: int = BATCH,
    progress: Progress | None = None,
) -> Report:
    """Check every chain, every item row against its chain, each MAC and the checkpoints."""
    report = Report()
    workflows = {
        workflow_stream(w): (n, h)
        for w, n, h in session.exec(select(Workflow.id, Workflow.audit_seq, Workflow.audit_head))
    }
    report.checked = session.exec(select(func.count()).select_from(Item)).one() + len(workflows)
    macs = _MacCheck(session, key, report)
    chain: _Chain | None = None
    for page in _pages(session, batch):
        items = _items_of(session, page)
        for event in page:
            if chain is None or chain.stream != event.stream:
                if chain is not None:
                    _finish(chain, workflows, report)
                chain = _Chain(event.stream, items.get(event.stream))
            _feed(chain, event, macs)
        report.events += len(page)
        if progress:
            progress(len(page))
    if chain is not None:
        _finish(chain, workflows, report)
    _check_missing_streams(session, workflows, report, batch)
    check_checkpoints(session, key, report, batch)
    _note_keys(key, report)
    return report


def _pages(session: Session, batch: int) -> Iterator[list[Event]]:
    """Events in (stream, seq) order, `batch` at a time, each page starting after the last."""
    query = select(Event).order_by(col(Event.stream), col(Event.seq)).limit(batch)
    after: tuple[str, int] | None = None
    while True:
        page = list(
            session.exec(
                query if after is None else query.where(tuple_(Event.stream, Event.seq) > after)
            )
        )
        if not page:
            return
        yield page
        after = (page[-1].stream, page[-1].seq)
        session.expunge_all()  # the identity map must not grow with the history


def _items_of(session: Session, page: list[Event]) -> dict[str, Item]:
    ids = {e.stream for e in page if not e.stream.startswith("workflow:")}
    return {item_stream(i.id): i for i in session.exec(select(Item).where(col(Item.id).in_(ids)))}


def _feed(chain: _Chain, event: Event, macs: _MacCheck) -> None:
    if chain.problem:
        return
    chain.count += 1
    if event.seq != chain.count:
        chain.problem = f"event #{chain.count} is missing or out of order (found #{event.seq})"
    elif event.prev_hash != chain.prev:
        chain.problem = f"event #{event.seq} ({event.type}) does not follow the event before it"
    elif event_hash(event) != event.hash:
        chain.problem = f"event #{event.seq} ({event.type}) was modified after it was written"
    else:
        chain.problem = macs.problem(event) or _check_frozen(chain, event)
    chain.prev, chain.last = event.hash, event


def frozen_changes(state: Mapping[str, Any], decided: Mapping[str, Any]) -> list[str]:
    """The decided fields whose digest in `state` differs from the decision's."""
    return [name for name in FROZEN_AFTER_DECISION if state.get(name) != decided.get(name)]


def _check_frozen(chain: _Chain, event: Event) -> str | None:
    """After the decision, an event recording another digest of a decided field is a problem."""
    state = event.state
    if state is None:  # written before item states were recorded
        return None
    decided = chain.decided
    if decided is None or decided.state is None:
        if state.get("status") in DECIDED:
            chain.decided = event
        return None
    changed = frozen_changes(state, decided.state)
    if not changed:
        return None
    return (
        f"event #{event.seq} ({event.type}) records {', '.join(changed)} other than the "
        f"decision at event #{decided.seq} ({decided.type}): the item row was edited outside "
        "Airlock after the decision"
    )


def _finish(chain: _Chain, workflows: dict[str, tuple[int, str | None]], report: Report) -> None:
    item = chain.item
    head = (item.audit_seq, item.audit_head) if item else workflows.get(chain.stream)
    problems = [chain.problem] if chain.problem else []
    if head is None:
        problems.append("events exist for a stream with no item or workflow")
    elif not problems and head[0] > chain.count:
        problems.append(f"the last {head[0] - chain.count} event(s) were deleted")
    elif not problems and (chain.count, chain.prev) != head:
        problems.append("the chain does not end where its head says (events added or rewritten)")
    if not problems and item is not None and chain.last is not None:
        problems = _check_row(item, chain.last)
    report.problems.extend(ChainProblem(chain.stream, p) for p in problems)


def _check_row(item: Item, last: Event) -> list[str]:
    """The item row must hold what its last event recorded, and its raw body its raw hash."""
    problems: list[str] = []
    if sha256_hex(item.raw) != item.raw_hash:
        problems.append("the stored raw submission does not match its hash (raw was edited)")
    if last.state is None:  # written before item states were recorded
        return problems
    now = item_state({name: getattr(item, name) for name in BOUND_FIELDS})
    changed = [name for name in BOUND_FIELDS if now[name] != last.state.get(name)]
    if changed:
        problems.append(
            f"the item row's {', '.join(changed)} differ(s) from what its audit chain recorded "
            f"at event #{last.seq} ({last.type}): the row was edited outside Airlock"
        )
    return problems


def _check_missing_streams(
    session: Session, workflows: dict[str, tuple[int, str | None]], report: Report, batch: int
) -> None:
    """Items and workflows whose head counts events, but none of whose events remain."""
    has_events = select(Event.id).where(col(Event.stream) == col(Item.id)).exists()
    query = (
        select(Item.id, Item.audit_seq)
        .where(col(Item.audit_seq) > 0, ~has_events)
        .execution_options(yield_per=batch)
    )
    heads = [(item_stream(i), n) for i, n in session.exec(query)]
    for stream, (n, _head) in workflows.items():
        if (
            n
            and session.exec(select(Event.id).where(Event.stream == stream).limit(1)).first()
            is None
        ):
            heads.append((stream, n))
    for stream, count in heads:
        report.problems.append(ChainProblem(stream, f"all {count} events are missing"))


def _note_keys(key: str | None, report: Report) -> None:
    if report.unchecked_macs:
        report.notes.append(
            f"the MACs of {report.unchecked_macs} event(s) were not checked: set "
            "AIRLOCK_AUDIT_KEY to the key that wrote them"
        )
    if report.unkeyed:
        report.notes.append(
            f"{report.unkeyed} event(s) are unkeyed (written without AIRLOCK_AUDIT_KEY): they are "
            "checked by their chain and the signed checkpoints only"
        )
