"""A state machine over the item lifecycle: submit, decide (racing), edit, pause, resume, spec
reload, promote/demote, timer sweeps and deliveries (cards and Salesforce writes), in any order.

Invariants: one decision per item; only permitted people decide; nothing is written without a
human confirmation except under autopilot earned for the spec in force; nothing of a paused
workflow is posted, written, reminded or expired; the rollup counters equal a recount.
"""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import col, func, select

from bot.base.errors import AirlockError, Conflict
from bot.base.specs import load_specs
from bot.core import autonomy, control, decisions
from bot.core.effects import WRITEBACK
from bot.core.registry import sync_workflows
from bot.delivery import timers
from bot.service import Service
from models import Event, Item, Outbox, Workflow
from tests import payloads
from tests.test_autonomy import decide_many
from tests.test_lifecycle import post
from tests.test_rollups import counted, stored

WF, OWNER, ADMIN, STRANGER = "opp-hygiene", "U0OLIVIA", "U0ADMIN", "U0NOBODY"
START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
HUMAN = ("approved", "edited", "rejected")
SERIAL = itertools.count()  # idempotency keys unique across examples sharing one database
VARIANTS = {
    "original": lambda text: text,
    "shadow": lambda text: text.replace("mode: review", "mode: shadow"),
    "stage_to_manager": lambda text: text.replace(
        "gate:\n", "gate:\n  - when: {fields_any: [Opportunity.StageName]}\n    gate: manager\n", 1
    ),
    "shorter_timers": lambda text: text.replace("remind_after: 4h", "remind_after: 2h"),
}


class Lifecycle(RuleBasedStateMachine):
    service: Service
    folder: Path
    key: str
    original: str

    def __init__(self) -> None:
        super().__init__()
        self.rt = self.service.rt
        self.now = START
        self.rt.clock = lambda: self.now
        self.items: list[str] = []
        self.autopilot = False
        self._load("original")
        if self._paused():
            control.resume(self.rt, WF, ADMIN)
        with self.rt.db.write() as session:
            autonomy.demote(session, self.rt, WF, "next example")

    # -- helpers ----------------------------------------------------------------------------
    def _load(self, variant: str) -> None:
        (self.folder / f"{WF}.yml").write_text(VARIANTS[variant](self.original))
        self.rt.specs = load_specs(self.folder)
        if sync_workflows(self.rt.db, self.rt.specs):
            self.autopilot = False  # a changed spec ends any promotion
        self.variant = variant

    def _paused(self) -> bool:
        with self.rt.db.read() as session:
            row = session.get(Workflow, WF)
            return bool(row and row.paused)

    def _item(self, item_id: str) -> Item:
        with self.rt.db.read() as session:
            item = session.get(Item, item_id, populate_existing=True)
        assert item is not None
        return item

    def _sent(self) -> set[int | None]:
        """Pausable side effects of the workflow already delivered."""
        with self.rt.db.read() as session:
            query = select(col(Outbox.id)).where(
                Outbox.workflow_id == WF, col(Outbox.pausable).is_(True), Outbox.status == "done"
            )
            return set(session.exec(query))

    def _pending(self) -> list[Item]:
        items = [self._item(i) for i in self.items]
        return [i for i in items if i.status == "pending" and i.assignee]

    # -- rules ------------------------------------------------------------------------------
    @rule(amount=st.sampled_from([None, 5000, 250000]))
    def submit(self, amount: int | None) -> None:
        body = payloads.field_update(idempotency_key=f"m{next(SERIAL)}")
        if amount is not None:
            body["changes"] = [{"field": "Amount", "value": amount, "observed": 1000}]
        item = self._item(post(self.rt, self.key, body))
        self.items.append(item.id)
        if item.status == "auto_accepted":
            assert self.autopilot and self.variant != "shadow"
        if self._paused():
            assert item.status in ("held", "shadowed", "blocked")

    @rule()
    def deliver(self) -> None:
        before, paused = self._sent(), self._paused()
        self.service.worker.drain()
        if paused:
            assert self._sent() == before, "a paused workflow posted or wrote"

    @rule(hours=st.sampled_from([1, 5, 25, 80]))
    def sweep(self, hours: int) -> None:
        self.now += timedelta(hours=hours)
        report = timers.sweep(self.rt, self.service.integrations.people, self.now)
        if self._paused():
            assert report == timers.SweepReport(), "a paused workflow's timers ran"

    @precondition(lambda self: bool(self._pending()))
    @rule(
        data=st.data(),
        who=st.lists(
            st.sampled_from(["assignee", "manager", "admin", "stranger"]), min_size=1, max_size=3
        ),
        verdict=st.sampled_from(["approve", "edit", "reject"]),
    )
    def decide(self, data: st.DataObject, who: list[str], verdict: str) -> None:
        item = data.draw(st.sampled_from(self._pending()))
        people = {"assignee": item.assignee, "manager": item.manager or "U0SAM"}
        people |= {"admin": ADMIN, "stranger": STRANGER}
        users = [str(people[w]) for w in who]
        wins: list[str] = []

        def click(user: str) -> None:
            try:
                if verdict == "approve":
                    decisions.approve(self.rt, item.id, user)
                elif verdict == "edit":
                    decisions.edit(self.rt, item.id, user, {item.changes[0]["field"]: "Closed Won"})
                else:
                    decisions.reject(self.rt, item.id, user, "inaccurate")
                wins.append(user)
            except AirlockError:
                pass

        threads = [threading.Thread(target=click, args=(u,)) for u in users]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) <= 1, f"decided twice: {wins}"

    @rule(user=st.sampled_from([OWNER, ADMIN]))
    def pause(self, user: str) -> None:
        control.pause(self.rt, WF, user, "state machine")

    @rule()
    def resume(self) -> None:
        for item_id in control.resume(self.rt, WF, OWNER):
            if self._item(item_id).status == "auto_accepted":
                assert self.autopilot and self.variant != "shadow"

    @rule(variant=st.sampled_from(sorted(VARIANTS)))
    def reload(self, variant: str) -> None:
        self._load(variant)

    @rule()
    def promote(self) -> None:
        try:
            granted = autonomy.promote(self.rt, WF, OWNER)[0]
        except Conflict as exc:
            assert self.variant == "shadow" and "shadow mode" in str(exc)
            return
        self.autopilot = granted or self.autopilot

    @rule()
    def demote(self) -> None:
        autonomy.demote_command(self.rt, WF, OWNER)
        self.autopilot = False

    # -- invariants -------------------------------------------------------------------------
    @invariant()
    def one_decision_by_a_permitted_person(self) -> None:
        with self.rt.db.read() as session:
            query = (
                select(Event.item_id, func.count())
                .where(col(Event.item_id).in_(self.items), col(Event.type).in_(HUMAN))
                .group_by(col(Event.item_id))
            )
            assert all(n == 1 for _, n in session.exec(query))
        for item in (self._item(i) for i in self.items):
            if item.status in HUMAN:
                allowed = {item.assignee, ADMIN} | ({item.manager} if item.escalated else set())
                assert item.decided_by in allowed, (item.id, item.decided_by)

    @invariant()
    def rollups_equal_recount(self) -> None:
        # Real deliveries, sweeps and releases move the counters too, not only the test's steps.
        assert stored(self.rt) == counted(self.rt)

    @invariant()
    def writes_only_with_confirmation_or_earned_autopilot(self) -> None:
        with self.rt.db.read() as session:
            written = set(
                session.exec(
                    select(Outbox.item_id).where(
                        Outbox.kind == WRITEBACK, col(Outbox.item_id).in_(self.items)
                    )
                )
            )
        for item_id in written:
            item = self._item(str(item_id))
            assert item.authority == "confirmed" or item.status == "auto_accepted", item_id
            if item.status == "auto_accepted":
                assert item.gate == "auto" and item.decided_by == "policy:auto"


def test_item_lifecycle_state_machine(
    service: Service, agent_key: str, workflows_dir: Path
) -> None:
    decide_many(service.rt, agent_key, approved=50)  # evidence, so promote can succeed
    Lifecycle.service, Lifecycle.folder, Lifecycle.key = service, workflows_dir, agent_key
    Lifecycle.original = (workflows_dir / f"{WF}.yml").read_text()
    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=12,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
