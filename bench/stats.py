"""`/airlock stats` and `airlock report` cost follows workflows and buckets, not items.

    .venv/bin/python bench/stats.py [--sizes 10000,1000000] [--database-url SERVER_URL]

For each size a fresh database gets that many items (and ~2.7 events each) by bulk insert, then
its rollups from `rebuild_all` (what `airlock db rebuild-stats` runs). Measured, median of
repeated runs on a warm process:
- the slash answer: `bot.slack.commands.run(rt, user, "stats")`, the function the `/airlock`
  listener calls after its ack (parse, read models for every workflow, Slack text), without
  HTTP and Bolt;
- `airlock report`: `report_rows` + `render_report` (all time, and `--since 7d`), without the
  Salesforce usage line.
Goal: largest / smallest <= 2x, and the slash answer under 300 ms at 1,000,000 items. With more
than two sizes it also prints the ratio of each size to the one before.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bench._seed import seed  # noqa: E402
from bench.common import scratch_database  # noqa: E402
from bot.base.config import Settings  # noqa: E402
from bot.core.rollups_rebuild import rebuild_all  # noqa: E402
from bot.core.runtime import Runtime, open_runtime  # noqa: E402
from bot.reporting.report import render_report, report_rows  # noqa: E402
from bot.slack import commands  # noqa: E402
from models.types import utcnow  # noqa: E402

CALLS = {
    "slash": lambda rt: commands.run(rt, "U0ADMIN", "stats"),
    "report": lambda rt: render_report(report_rows(rt)),
    "report 7d": lambda rt: render_report(report_rows(rt, utcnow() - timedelta(days=7))),
}


def measure(runtimes: dict[int, Runtime], rounds: int) -> dict[int, dict[str, float]]:
    """Median seconds per size and answer; sizes alternate call by call, so the machine's
    noise falls on every size alike."""
    samples: dict[int, dict[str, list[float]]] = {n: {k: [] for k in CALLS} for n in runtimes}
    for round_ in range(rounds + 1):
        for size, rt in runtimes.items():
            for name, call in CALLS.items():
                started = time.perf_counter()
                call(rt)
                if round_:  # the first round warms caches and statement compilation
                    samples[size][name].append(time.perf_counter() - started)
    answer = CALLS["slash"](next(iter(runtimes.values())))
    assert "received" in answer.text, answer  # type: ignore[attr-defined]
    return {n: {k: statistics.median(v) for k, v in s.items()} for n, s in samples.items()}


def prepare(url: str, size: int) -> Runtime:
    """A fresh database with `size` items, their events and their rollups."""
    settings = Settings(_env_file=None, DATABASE_URL=url, AIRLOCK_WORKFLOWS=ROOT / "workflows")
    rt = open_runtime(settings)
    started = time.perf_counter()
    events = seed(rt.db, size, sorted(rt.specs.specs), utcnow())
    seeded = time.perf_counter() - started
    started = time.perf_counter()
    rebuild_all(rt.db)
    settle(url)
    print(
        f"{size:>9,} items, {events:,} events: seeded in {seeded:.0f} s, "
        f"rollups rebuilt in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return rt


def settle(url: str) -> None:
    """On PostgreSQL, what autovacuum does after a bulk load: planner statistics, and the
    visibility map that lets window reads use the counters' key alone (migration 0014)."""
    if not url.startswith("postgresql"):
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE stat_count"))
    engine.dispose()


def main() -> None:
    """Measure every size in one run and print the ratios."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL server URL, e.g. postgresql+psycopg://postgres@127.0.0.1/postgres;"
        " a scratch database is created on it per size and dropped after (default: SQLite)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        runtimes = {
            n: prepare(
                stack.enter_context(scratch_database(args.database_url, tmp, f"stats_{n}")), n
            )
            for n in sizes
        }
        results = measure(runtimes, args.rounds)
        for rt in runtimes.values():
            rt.db.dispose()
    for name in CALLS:
        figures = [f"{results[n][name] * 1000:7.1f} ms" for n in sizes]
        pairs = itertools.pairwise(sizes)
        ratios = [f"{results[b][name] / results[a][name]:.2f}x" for a, b in pairs]
        whole = results[sizes[-1]][name] / results[sizes[0]][name]
        steps = f" (steps {', '.join(ratios)})" if len(sizes) > 2 else ""
        print(f"{name:<10} {' -> '.join(figures)}: {whole:.2f}x{steps} (goal <= 2x)")
    large = results[sizes[-1]]
    verdict = "meets" if large["slash"] < 0.3 else "misses"
    print(
        f"slash answer at {sizes[-1]:,} items: {large['slash'] * 1000:.1f} ms ({verdict} < 300 ms)"
    )


if __name__ == "__main__":
    main()
