"""Verify the hash chains and tell an item's story."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.lifecycle import event_hash, item_stream, workflow_stream
from models import Event, Item, Workflow


@dataclass(frozen=True)
class ChainProblem:
    """One broken chain: which stream, and what is wrong with it."""

    stream: str
    problem: str

    def __str__(self) -> str:
        return f"{self.stream}: {self.problem}"


def verify(session: Session) -> tuple[int, list[ChainProblem]]:
    """Check every item's and workflow's chain; returns (streams checked, problems)."""
    heads = {
        item_stream(i): (n, h)
        for i, n, h in session.exec(select(Item.id, Item.audit_seq, Item.audit_head))
    }
    heads |= {
        workflow_stream(w): (n, h)
        for w, n, h in session.exec(select(Workflow.id, Workflow.audit_seq, Workflow.audit_head))
    }
    problems: list[ChainProblem] = []
    seen: set[str] = set()
    for stream, events in _streams(session):
        seen.add(stream)
        found = _check_chain(events, heads.get(stream))
        problems.extend(ChainProblem(stream, p) for p in found)
    for stream, (count, _head) in heads.items():
        if count and stream not in seen:
            problems.append(ChainProblem(stream, f"all {count} events are missing"))
    return len(heads), problems


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
