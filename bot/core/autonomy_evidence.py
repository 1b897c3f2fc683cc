"""The evidence autonomy is earned on: human decisions, reverts and holdout lifts since the last
demotion, read from the rollups so the cost follows the window, never the item history."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlmodel import Session, col, select

from bot.base.proportions import wilson
from bot.base.spec_model import Promote
from bot.core.chain import workflow_stream
from bot.core.rollups import DECIDED
from bot.core.rollups_read import Tally, by_workflow, tallies
from models import Event


class LiftLike(Protocol):
    """One outcome metric's lift over the holdout (the shape of bot.core.lift.MetricLift)."""

    @property
    def metric(self) -> str: ...
    @property
    def lift(self) -> float: ...
    @property
    def low(self) -> float: ...
    @property
    def high(self) -> float: ...
    @property
    def enough(self) -> bool: ...


# Who records the `demoted` of a grant revoked by a new spec version (bot.core.registry).
SPEC_CHANGE_ACTOR = "system"

# Where the lifts of a workflow's outcome holdout come from; None: the workflow has none.
LiftSource = Callable[[Session, str], Sequence[LiftLike]]


def wilson_lower(successes: int, trials: int, z: float = 1.96) -> float:
    """Lower bound of the Wilson score interval for a success rate (95% with z=1.96)."""
    return wilson(successes, trials, z)[0] if trials else 0.0


def inferior(lifts: Sequence[LiftLike], margin: float) -> list[str]:
    """Why the holdout does not show the agent non-inferior: one line per failing metric.

    Non-inferior means the 95% interval of the absolute lift stays above -margin; a metric
    without enough outcomes yet has not shown it.
    """
    failing = []
    for lift in lifts:
        if not lift.enough:
            failing.append(f"{lift.metric}: not enough holdout outcomes yet")
        elif lift.low < -margin:
            failing.append(
                f"{lift.metric}: lift could be as low as {lift.low:+.3f}, below -{margin:.3f}"
            )
    return failing


@dataclass(frozen=True)
class Evidence:
    """Everything promotion is judged on, with the bar it is judged against."""

    rules: Promote
    since: datetime | None
    decisions: int
    clean: int
    written: int
    reverted: int
    lifts: tuple[LiftLike, ...] = ()

    @property
    def lower_bound(self) -> float:
        """Wilson lower bound of approve-without-edit."""
        return wilson_lower(self.clean, self.decisions)

    @property
    def revert_rate(self) -> float:
        """Reverted writes among the items written (0 when nothing was written)."""
        return self.reverted / self.written if self.written else 0.0

    def shortfalls(self) -> list[str]:
        """Each rule the evidence fails, in words; empty when it holds."""
        rules, found = self.rules, []
        if self.decisions < rules.min_decisions:
            found.append(f"{self.decisions} human decisions, needs {rules.min_decisions}")
        if self.lower_bound < rules.min_wilson:
            found.append(f"Wilson lower bound {self.lower_bound:.3f} < {rules.min_wilson:.3f}")
        if self.revert_rate >= rules.max_revert_rate:
            found.append(f"revert rate {self.revert_rate:.1%} >= {rules.max_revert_rate:.1%}")
        found += inferior(self.lifts, rules.non_inferiority_margin)
        return found

    @property
    def holds(self) -> bool:
        """Every rule met."""
        return not self.shortfalls()

    def __str__(self) -> str:
        rules = self.rules
        since = f"since {self.since:%Y-%m-%d %H:%M} UTC" if self.since else "since the start"
        parts = [
            f"{self.decisions} human decisions {since} (needs >= {rules.min_decisions})",
            f"{self.clean} approved without edits, Wilson lower bound {self.lower_bound:.3f} "
            f"(needs >= {rules.min_wilson:.3f})",
            f"{self.reverted} of {self.written} writes reverted, {self.revert_rate:.1%} "
            f"(needs < {rules.max_revert_rate:.1%})",
            _holdout_text(self.lifts, rules.non_inferiority_margin),
        ]
        return "; ".join(parts)


def _holdout_text(lifts: Sequence[LiftLike], margin: float) -> str:
    if not lifts:
        return "no outcome holdout"
    shown = ", ".join(
        f"{x.metric} lift {x.lift:+.3f} [{x.low:+.3f}, {x.high:+.3f}]"
        + ("" if x.enough else " (not enough outcomes)")
        for x in lifts
    )
    return f"holdout: {shown} (needs low >= -{margin:.3f})"


def last_demotion(session: Session, workflow_id: str) -> datetime | None:
    """When autopilot was last taken back from the workflow for its conduct, if ever.

    A new spec version revoking a grant (actor `system`) judges nothing: the evidence stands, to
    be weighed again under the new spec. Read backwards along the workflow's own audit stream
    (the unique (stream, seq) index): its length follows the pauses, loads and promotions of
    the workflow, not its items.
    """
    query = (
        select(Event.at)
        .where(
            col(Event.stream) == workflow_stream(workflow_id),
            col(Event.type) == "demoted",
            col(Event.actor) != SPEC_CHANGE_ACTOR,
        )
        .order_by(col(Event.seq).desc())
        .limit(1)
    )
    return session.exec(query).first()


def next_hour(moment: datetime) -> datetime:
    """The first whole hour at or after `moment`: rollups count arrivals per hour."""
    hour = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return hour if hour == moment else hour + timedelta(hours=1)


def gather(
    session: Session, workflow_id: str, rules: Promote, lifts: LiftSource | None = None
) -> Evidence:
    """The evidence since the last demotion, from the rollups.

    Counted by arrival from the first whole hour after the demotion, so nothing decided before
    it ever counts again (an item that arrived in that hour waits for the next promotion).
    """
    since = last_demotion(session, workflow_id)
    window = None if since is None else next_hour(since)
    found = tallies(session, [workflow_id], since=window, metrics=("status", "writeback"))
    tally = by_workflow(found).get(workflow_id, Tally())
    reverted = tally.get("writeback", "reverted")
    return Evidence(
        rules=rules,
        since=since,
        decisions=sum(tally.get("status", status) for status in DECIDED),
        clean=tally.get("status", "approved"),
        written=tally.get("writeback", "written") + reverted,
        reverted=reverted,
        lifts=tuple(lifts(session, workflow_id)) if lifts else (),
    )
