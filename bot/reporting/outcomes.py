"""`airlock outcomes`, and the outcome lines of the report and `/airlock stats`: treated vs
holdout rate per metric, the absolute lift with its 95% interval, n on each side."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core.lift import MIN_PER_ARM, MetricLift, lifts, segment_lifts
from bot.core.runtime import Runtime

NOT_ENOUGH = f"not enough data (under {MIN_PER_ARM} read outcomes on a side)"


@dataclass(frozen=True)
class WorkflowOutcomes:
    """One workflow's lifts, overall and per segment."""

    workflow: str
    window: str
    holdout: float
    overall: list[MetricLift]
    segments: dict[str, list[MetricLift]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "workflow": self.workflow,
            "window": self.window,
            "holdout": self.holdout,
            "min_per_arm": MIN_PER_ARM,
            "metrics": [lift.as_dict() for lift in self.overall],
            "segments": {k: [lift.as_dict() for lift in v] for k, v in self.segments.items()},
        }


def workflow_outcomes(rt: Runtime, workflow: str | None = None) -> list[WorkflowOutcomes]:
    """Every workflow that measures outcomes (or the one named), with its lifts."""
    from bot.base.durations import format_duration

    names = [workflow] if workflow else sorted(rt.specs.specs)
    found = []
    with rt.db.read() as session:
        for name in names:
            outcome = rt.spec(name).spec.outcome
            if not outcome.measured or outcome.window is None:
                continue
            found.append(
                WorkflowOutcomes(
                    name,
                    format_duration(outcome.window),
                    outcome.holdout,
                    lifts(session, name),
                    segment_lifts(session, name),
                )
            )
    return found


def lift_line(lift: MetricLift) -> str:
    """`stage_advanced: treated 34% (61/180) vs holdout 10% (2/20): +24 pts [+9, +34]`."""
    sides = (
        f"treated {_rate(lift.treated_k, lift.treated_n)} vs "
        f"holdout {_rate(lift.holdout_k, lift.holdout_n)}"
    )
    if not lift.enough:
        return f"{lift.metric}: {sides}: {NOT_ENOUGH}"
    return (
        f"{lift.metric}: {sides}: lift {_points(lift.lift)} pts "
        f"(95% CI {_points(lift.low)} to {_points(lift.high)})"
    )


def render_outcomes(found: list[WorkflowOutcomes]) -> str:
    """The readable form of `airlock outcomes`."""
    if not found:
        return "No workflow measures outcomes: add an `outcome` section to a workflow spec."
    lines = []
    for wf in found:
        lines.append(
            f"{wf.workflow} (window {wf.window}, holdout {wf.holdout:.0%}; intention to treat: "
            "every treated item counts, rejected and expired included)"
        )
        lines += [f"  {lift_line(lift)}" for lift in wf.overall] or ["  no outcome read yet"]
        for segment, segment_found in wf.segments.items():
            lines.append(f"  segment {segment}:")
            lines += [f"    {lift_line(lift)}" for lift in segment_found]
    return "\n".join(lines)


def _rate(k: int, n: int) -> str:
    return f"{k / n:.0%} ({k}/{n})" if n else "n/a (0)"


def _points(share: float) -> str:
    return f"{share * 100:+.1f}"
