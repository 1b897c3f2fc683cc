"""Lift against the holdout: per workflow and metric, treated vs held-out rate and the absolute
difference with a 95% interval, counted by intention to treat.

Every measured item whose outcome was read counts in its arm, whatever became of it: a rejected
or expired item is as treated as an approved one (the agent's proposal reached a person), so the
lift is the effect of running the workflow, not of the items people liked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from bot.base.proportions import newcombe
from bot.core.holdout import HOLDOUT, TREATED
from bot.core.rollups_read import Tally, by_workflow, tallies

# Below this many read outcomes on either side, the interval is too wide to act on (with 20 on a
# side it still spans about 0.4 at rates near one half): the rates are shown, the lift is not.
MIN_PER_ARM = 20
ALL = "(all)"


@dataclass(frozen=True)
class MetricLift:
    """One metric of one workflow (in one segment): both arms and the lift between them."""

    metric: str
    treated_n: int
    holdout_n: int
    treated_rate: float
    holdout_rate: float
    lift: float
    low: float
    high: float
    enough: bool
    treated_k: int = 0
    holdout_k: int = 0
    segment: str = ALL

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


def lifts(session: Session, workflow_id: str) -> list[MetricLift]:
    """Every metric of the workflow over all its read outcomes (from the rollups: the cost
    follows the number of metrics, not of items)."""
    found = by_workflow(tallies(session, [workflow_id], metrics=["outcome"]))
    return overall_of(found.get(workflow_id, Tally()))


def segment_lifts(session: Session, workflow_id: str) -> dict[str, list[MetricLift]]:
    """The same in each segment (items with a segment, given or read from `segment_by`)."""
    found = by_workflow(tallies(session, [workflow_id], metrics=["seg_outcome"]))
    return segments_of(found.get(workflow_id, Tally()))


def overall_of(tally: Tally) -> list[MetricLift]:
    """The lifts in a workflow's all-time tally."""
    counts = tally.of("outcome")
    return compute({tuple(key.split(":", 2)): n for key, n in counts.items()}, None)


def segments_of(tally: Tally) -> dict[str, list[MetricLift]]:
    """The lifts per segment in a workflow's all-time tally."""
    per: dict[str, dict[tuple[str, ...], int]] = defaultdict(dict)
    for key, n in tally.of("seg_outcome").items():
        arm, met, metric, segment = key.split(":", 3)
        per[segment][(arm, met, metric)] = n
    return {segment: compute(counts, segment) for segment, counts in sorted(per.items())}


def compute(counts: Mapping[tuple[str, ...], int], segment: str | None) -> list[MetricLift]:
    """Compare the arms of each metric; `counts`: items by (arm, "1" met | "0" not, metric)."""
    hits: dict[tuple[str, str], int] = defaultdict(int)
    trials: dict[tuple[str, str], int] = defaultdict(int)
    for (arm, met, metric), n in counts.items():
        trials[(arm, metric)] += n
        hits[(arm, metric)] += n if met == "1" else 0
    names = sorted({metric for _arm, metric in trials})
    return [_lift(name, hits, trials, segment or ALL) for name in names]


def _lift(
    metric: str,
    hits: Mapping[tuple[str, str], int],
    trials: Mapping[tuple[str, str], int],
    segment: str,
) -> MetricLift:
    k1, n1 = hits.get((TREATED, metric), 0), trials.get((TREATED, metric), 0)
    k2, n2 = hits.get((HOLDOUT, metric), 0), trials.get((HOLDOUT, metric), 0)
    diff, low, high = newcombe(k1, n1, k2, n2)
    return MetricLift(
        metric=metric,
        treated_n=n1,
        holdout_n=n2,
        treated_rate=k1 / n1 if n1 else 0.0,
        holdout_rate=k2 / n2 if n2 else 0.0,
        lift=diff,
        low=low,
        high=high,
        enough=min(n1, n2) >= MIN_PER_ARM,
        treated_k=k1,
        holdout_k=k2,
        segment=segment,
    )


def measured(session: Session, workflow_ids: Iterable[str]) -> list[str]:
    """The workflows, of those given, with at least one read outcome."""
    found = by_workflow(tallies(session, list(workflow_ids), metrics=["outcome"]))
    return sorted(w for w, tally in found.items() if tally.of("outcome"))
