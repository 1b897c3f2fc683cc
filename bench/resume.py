"""`/airlock resume` with thousands of held items answers at once; the release follows the answer.

    .venv/bin/python bench/resume.py [--held N] [--postgres SERVER_URL]

Holds N items on a paused workflow (through the real intake), then times the slash command
`resume` (what Slack waits for: it must answer well inside 3 s) and the release that follows the
answer (`Answer.then`, run after the ack), batch by batch. Goal: the answer under 3 s at any size.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.base.config import Settings  # noqa: E402
from bot.core import control, keys  # noqa: E402
from bot.core.intake import submit  # noqa: E402
from bot.core.release import release_held  # noqa: E402
from bot.core.runtime import open_runtime  # noqa: E402
from bot.sandbox.samples import field_update  # noqa: E402
from bot.slack import commands  # noqa: E402

OWNER = "U0OLIVIA"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--held", type=int, default=3000)
    parser.add_argument("--postgres", help="a database URL to use instead of a temp SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(
            _env_file=None, DATABASE_URL=url, AIRLOCK_WORKFLOWS=ROOT / "bot/examples/workflows"
        )
        rt = open_runtime(settings)
        with rt.db.write() as session:
            _row, secret = keys.create_key(session, agent="bench", workflows=["*"])
        control.pause(rt, "opp-hygiene", OWNER, "bench")
        for n in range(args.held):
            body = json.dumps(field_update(idempotency_key=f"b{n}")).encode()
            submit(rt, token=secret, raw=body, header_key=None)
        started = time.perf_counter()
        answer = commands.run(rt, OWNER, "resume opp-hygiene")
        answered = time.perf_counter() - started
        started = time.perf_counter()
        after = answer.then() if answer.then else ""
        rest = time.perf_counter() - started
        if release_held(rt):
            raise SystemExit("held items were left after the release")
        started = time.perf_counter()
        commands.run(rt, OWNER, "stats")
        stats = time.perf_counter() - started
        print(f"held items: {args.held}")
        print(f"resume answer: {answered * 1000:.0f} ms ({answer.text})")
        print(f"release after the answer: {rest:.2f} s ({after})")
        print(f"/airlock stats afterwards (all workflows): {stats * 1000:.0f} ms")


if __name__ == "__main__":
    main()
