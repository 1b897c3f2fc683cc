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

from sqlalchemy import Table, select
from sqlmodel import SQLModel

from bot.base.db import Executor
from bot.base.proportions import newcombe
from bot.core.holdout import HOLDOUT, TREATED

_ITEMS: Table = SQLModel.metadata.tables["item"]
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


def lifts(session: Executor, workflow_id: str) -> list[MetricLift]:
    """Every metric of the workflow over all its read outcomes."""
    return compute(_outcomes(session, workflow_id), None)


def segment_lifts(session: Executor, workflow_id: str) -> dict[str, list[MetricLift]]:
    """The same per segment (items with no segment under "(none)")."""
    rows = _outcomes(session, workflow_id)
    segments = sorted({row["segment"] or "(none)" for row in rows})
    return {
        name: compute([r for r in rows if (r["segment"] or "(none)") == name], name)
        for name in segments
    }


def compute(rows: Iterable[Mapping[str, Any]], segment: str | None) -> list[MetricLift]:
    """Count (arm, metric) successes and trials in outcome rows, and compare the arms."""
    hits: dict[tuple[str, str], int] = defaultdict(int)
    trials: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        outcome = row["outcome"] or {}
        arm = str(outcome.get("arm"))
        for metric, met in (outcome.get("metrics") or {}).items():
            trials[(arm, metric)] += 1
            hits[(arm, metric)] += bool(met)
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


def _outcomes(session: Executor, workflow_id: str) -> list[dict[str, Any]]:
    """The read outcomes of a workflow: one row per item, its segment and what was read."""
    query = select(_ITEMS.c.segment, _ITEMS.c.outcome).where(
        _ITEMS.c.workflow_id == workflow_id,
        _ITEMS.c.outcome.is_not(None),
        _ITEMS.c.outcome_due_at.is_(None),
    )
    return [dict(row._mapping) for row in session.execute(query)]


def measured_workflows(session: Executor) -> list[str]:
    """Workflows with at least one read outcome."""
    query = (
        select(_ITEMS.c.workflow_id)
        .where(_ITEMS.c.outcome.is_not(None), _ITEMS.c.outcome_due_at.is_(None))
        .distinct()
        .order_by(_ITEMS.c.workflow_id)
    )
    return [row[0] for row in session.execute(query)]
