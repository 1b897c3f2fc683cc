"""Lift maths: Newcombe's hybrid score interval against published figures and a reference."""

from __future__ import annotations

import pytest

from bot.base.proportions import newcombe, wilson
from bot.core.holdout import HOLDOUT, TREATED
from bot.core.lift import MIN_PER_ARM, compute
from bot.reporting.outcomes import lift_line
from tests.test_outcomes import reference_lift


@pytest.mark.parametrize(
    ("counts", "published"),
    [
        # Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10.
        ((56, 70, 48, 80), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.1705, 0.8090)),
        ((5, 56, 0, 29), (-0.0381, 0.1926)),
        ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ],
)
def test_newcombe_matches_published_intervals(
    counts: tuple[int, int, int, int], published: tuple[float, float]
) -> None:
    d, low, high = newcombe(*counts)
    assert d == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3])
    assert (low, high) == pytest.approx(published, abs=5e-5)


@pytest.mark.parametrize("counts", [(30, 180, 2, 20), (180, 180, 20, 20), (1, 7, 6, 9)])
def test_newcombe_matches_reference_computation(counts: tuple[int, int, int, int]) -> None:
    assert newcombe(*counts) == pytest.approx(reference_lift(*counts), abs=1e-9)


def test_wilson_edges() -> None:
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(0, 20)
    assert low == 0.0 and high == pytest.approx(0.1611, abs=5e-5)  # 3.84 / 23.84


def rows(arm: str, hits: int, n: int) -> dict[tuple[str, ...], int]:
    return {(arm, "1", "moved"): hits, (arm, "0", "moved"): n - hits}


def test_compute_counts_each_arm_and_flags_small_samples() -> None:
    (lift,) = compute(rows(TREATED, 60, 180) | rows(HOLDOUT, 2, 20), None)
    assert (lift.treated_k, lift.treated_n, lift.holdout_k, lift.holdout_n) == (60, 180, 2, 20)
    assert lift.treated_rate == pytest.approx(1 / 3) and lift.holdout_rate == pytest.approx(0.1)
    assert (lift.lift, lift.low, lift.high) == pytest.approx(newcombe(60, 180, 2, 20))
    assert lift.enough
    (small,) = compute(rows(TREATED, 5, 50) | rows(HOLDOUT, 1, MIN_PER_ARM - 1), None)
    assert not small.enough
    (empty,) = compute(rows(TREATED, 5, 50), None)
    assert (empty.holdout_n, empty.enough) == (0, False)


def test_lift_line_says_not_enough_data_below_the_minimum() -> None:
    (small,) = compute(rows(TREATED, 5, 50) | rows(HOLDOUT, 1, MIN_PER_ARM - 1), None)
    line = lift_line(small)
    assert line == (
        f"moved: treated 10% (5/50) vs holdout 5% (1/{MIN_PER_ARM - 1}): not enough data "
        f"(under {MIN_PER_ARM} read outcomes on a side)"
    )
    (enough,) = compute(rows(TREATED, 60, 180) | rows(HOLDOUT, 2, 20), None)
    d, low, high = reference_lift(60, 180, 2, 20)
    shown = f": lift {d * 100:+.1f} pts (95% CI {low * 100:+.1f} to {high * 100:+.1f})"
    assert shown == ": lift +23.3 pts (95% CI +2.2 to +33.5)" and lift_line(enough).endswith(shown)
