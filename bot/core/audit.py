"""Verify the hash chains, the item rows they vouch for, and the signed checkpoints."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from bot.base.canonical import sha256_hex
from bot.core.checkpoint import SignedHead, replay
from bot.core.lifecycle import BOUND_FIELDS, event_hash, item_state, item_stream, workflow_stream
from models import AuditCheckpoint, Event, Item, Workflow


@dataclass(frozen=True)
class ChainProblem:
    """One broken chain: which stream, and what is wrong with it."""

    stream: str
    problem: str

    def __str__(self) -> str:
        return f"{self.stream}: {self.problem}"


@dataclass
class Report:
    """What `airlock audit verify` found."""

    checked: int = 0
    checkpoints: int = 0
    problems: list[ChainProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def verify(session: Session, key: str | None = None) -> Report:
    """Check every chain, every item row against its chain, and the checkpoints under `key`."""
    report = Report()
    items = {item_stream(i.id): i for i in session.exec(select(Item))}
    heads = {s: (i.audit_seq, i.audit_head) for s, i in items.items()}
    heads |= {
        workflow_stream(w): (n, h)
        for w, n, h in session.exec(select(Workflow.id, Workflow.audit_seq, Workflow.audit_head))
    }
    report.checked = len(heads)
    chains: dict[str, list[Event]] = {}
    for stream, events in _streams(session):
        chains[stream] = events
        found = _check_chain(events, heads.get(stream))
        if not found and stream in items:
            found = _check_row(items[stream], events[-1])
        report.problems.extend(ChainProblem(stream, p) for p in found)
    for stream, (count, _head) in heads.items():
        if count and stream not in chains:
            report.problems.append(ChainProblem(stream, f"all {count} events are missing"))
    _check_checkpoints(session, key, chains, report)
    return report


def _streams(session: Session) -> Iterator[tuple[str, list[Event]]]:
    query = select(Event).order_by(col(Event.stream), col(Event.seq))
    current: list[Event] = []
    for event in session.exec(query):
        if current and current[0].stream != event.stream:
            yield current[0].stream, current
            current = []
        current.append(event)
    if current:
        yield current[0].stream, current


def _check_chain(events: list[Event], head: tuple[int, str | None] | None) -> list[str]:
    problems: list[str] = []
    prev: str | None = None
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            problems.append(
                f"event #{expected_seq} is missing or out of order (found #{event.seq})"
            )
            break
        if event.prev_hash != prev:
            problems.append(
                f"event #{event.seq} ({event.type}) does not follow the event before it"
            )
            break
        if event_hash(event) != event.hash:
            problems.append(f"event #{event.seq} ({event.type}) was modified after it was written")
            break
        prev = event.hash
    if head is None:
        problems.append("events exist for a stream with no item or workflow")
    elif not problems and head[0] > len(events):
        problems.append(f"the last {head[0] - len(events)} event(s) were deleted")
    elif not problems and (len(events), prev) != head:
        problems.append("the chain does not end where its head says (events added or rewritten)")
    return problems


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


def _check_checkpoints(
    session: Session, key: str | None, chains: dict[str, list[Event]], report: Report
) -> None:
    checkpoints = list(session.exec(select(AuditCheckpoint).order_by(col(AuditCheckpoint.seq))))
    report.checkpoints = len(checkpoints)
    signed, problems = replay(checkpoints, key)
    report.problems.extend(ChainProblem("checkpoints", p) for p in problems)
    if any(cp.signed for cp in checkpoints) and not key:
        report.notes.append(
            "signed checkpoints were not checked: set AIRLOCK_AUDIT_KEY to the key that signed them"
        )
    for stream, head in signed.items():
        problem = _against_checkpoint(chains.get(stream, []), head)
        if problem:
            report.problems.append(ChainProblem(stream, problem))


def _against_checkpoint(events: list[Event], head: SignedHead) -> str | None:
    if not events:
        return (
            f"the whole stream is gone: checkpoint #{head.checkpoint} signed {head.seq} event(s) "
            "for it (the item or workflow was deleted with its events)"
        )
    if len(events) < head.seq or events[head.seq - 1].seq != head.seq:
        return (
            f"the stream was truncated: checkpoint #{head.checkpoint} signed {head.seq} event(s), "
            f"{len(events)} remain (events deleted and the head rolled back)"
        )
    if events[head.seq - 1].hash != head.hash:
        return (
            f"event #{head.seq} differs from checkpoint #{head.checkpoint}: the chain was "
            "recomputed after it was signed"
        )
    return None
