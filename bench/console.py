"""/console pages cost the same at 10,000 items as at 1,000,000.

    .venv/bin/python bench/console.py [--sizes 10000,1000000] [--database-url SERVER_URL]

For each size a fresh database gets that many items (bench/_seed.py) and their rollups, then each
page is requested in-process (the FastAPI app through Starlette's TestClient: routing, session
cookie, rights, read models and HTML, without a socket), as an admin and as a rep. Median of
repeated runs, sizes alternating call by call. Goal: every page under 300 ms at 1,000,000 items.
The Patterns page reads the daily counters of its window: its cost follows the days, workflows
and agents shown (and the latency histogram's ~200 keys), not the number of items.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from bench._seed import seed  # noqa: E402
from bench.common import scratch_database  # noqa: E402
from bot.base.config import Settings  # noqa: E402
from bot.core.rollups_rebuild import rebuild_all  # noqa: E402
from bot.core.runtime import Runtime, open_runtime  # noqa: E402
from bot.server import create_app  # noqa: E402
from models.types import utcnow  # noqa: E402

ADMIN, REP = "U0ADMIN", "U0MAYA"
PAGES = {
    "workflows": (ADMIN, "/console"),
    "workflow": (ADMIN, "/console/workflows/opp-hygiene"),
    "items": (ADMIN, "/console/items"),
    "items filtered": (ADMIN, "/console/items?workflow=opp-hygiene&status=rejected"),
    "items by record": (ADMIN, "/console/items?record=006000000000001AAA"),
    "items by agent": (ADMIN, "/console/items?agent=agent-1"),
    "items blocked": (ADMIN, "/console/items?status=blocked"),
    "items (rep)": (REP, "/console/items"),
    "item trace": (ADMIN, "/console/items/itm_000000000123"),
    "patterns 30d": (ADMIN, "/console/patterns"),
    "patterns 90d": (ADMIN, "/console/patterns?days=90"),
}


def clients(rt: Runtime) -> dict[str, TestClient]:
    """One signed-in client per person (the sandbox picker sets the session cookie)."""
    found = {}
    for user in (ADMIN, REP):
        web = TestClient(create_app(rt), follow_redirects=False)
        assert web.post("/console/signin", data={"user": user}).status_code == 303
        found[user] = web
    return found


def measure(runtimes: dict[int, Runtime], rounds: int) -> dict[int, dict[str, float]]:
    """Median seconds per size and page."""
    logging.disable(logging.INFO)  # the test client logs one line per request otherwise
    webs = {n: clients(rt) for n, rt in runtimes.items()}
    samples: dict[int, dict[str, list[float]]] = {n: {p: [] for p in PAGES} for n in runtimes}
    for round_ in range(rounds + 1):
        for size in runtimes:
            for name, (user, path) in PAGES.items():
                get: Callable[[str], object] = webs[size][user].get
                started = time.perf_counter()
                answer = get(path)
                took = time.perf_counter() - started
                assert getattr(answer, "status_code", 0) == 200, (name, answer)
                if round_:  # the first round warms caches and statement compilation
                    samples[size][name].append(took)
    return {n: {p: statistics.median(v) for p, v in s.items()} for n, s in samples.items()}


def prepare(url: str, size: int) -> Runtime:
    """A fresh database with `size` items, their events and their rollups."""
    settings = Settings(
        _env_file=None,
        DATABASE_URL=url,
        AIRLOCK_WORKFLOWS=ROOT / "workflows",
        AIRLOCK_ADMINS=ADMIN,
    )
    rt = open_runtime(settings)
    started = time.perf_counter()
    seed(rt.db, size, sorted(rt.specs.specs), utcnow())
    rebuild_all(rt.db)
    print(f"{size:>9,} items seeded in {time.perf_counter() - started:.0f} s", flush=True)
    return rt


def main() -> None:
    """Measure every size in one run and print each page's times."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument(
        "--database-url", default="", help="a PostgreSQL server URL (default: SQLite)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        runtimes = {
            n: prepare(
                stack.enter_context(scratch_database(args.database_url, tmp, f"console_{n}")), n
            )
            for n in sizes
        }
        results = measure(runtimes, args.rounds)
        for rt in runtimes.values():
            rt.db.dispose()
    small, large = results[sizes[0]], results[sizes[-1]]
    for name in PAGES:
        verdict = "meets" if large[name] < 0.3 else "MISSES"
        print(
            f"{name:<16} {small[name] * 1000:7.1f} ms -> {large[name] * 1000:7.1f} ms "
            f"({verdict} < 300 ms)"
        )


if __name__ == "__main__":
    main()
