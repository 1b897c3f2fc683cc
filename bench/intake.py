"""Single-item intake throughput over HTTP versus a one-INSERT baseline, measured in one run.

    .venv/bin/python bench/intake.py [--seconds 8] [--clients 8] [--database-url URL]

Both servers run as their own uvicorn process on the same database engine; the load generator
(asyncio + httpx, several concurrent clients) runs beside them, as on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import start_server  # noqa: E402
from tests import payloads  # noqa: E402


def create_key(url: str) -> str:
    """An agent key in the bench database."""
    from bot.base.db import Database
    from bot.core.keys import create_key as make

    db = Database(url)
    db.upgrade()
    with db.write() as session:
        _row, secret = make(session, agent="bench", workflows=["*"])
    db.dispose()
    return secret


async def load(base: str, key: str, seconds: float, clients: int) -> tuple[int, int]:
    """Hammer POST /api/v1/items; returns (ok, errors)."""
    ok = errors = 0
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    async def client() -> None:
        nonlocal ok, errors
        async with httpx.AsyncClient(
            base_url=base, headers=headers, trust_env=False, timeout=30
        ) as http:
            while time.monotonic() < deadline:
                body = payloads.field_update(idempotency_key=uuid.uuid4().hex)
                response = await http.post("/api/v1/items", content=json.dumps(body))
                if response.status_code == 201:
                    ok += 1
                else:
                    errors += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    return ok, errors


def measure(
    kind: str, url: str, key: str, seconds: float, clients: int, env: dict[str, str] | None = None
) -> float:
    """Requests per second one server sustains."""
    proc, base = start_server(kind.split()[0], url, env)
    try:
        asyncio.run(load(base, key, 1.0, clients))  # warm-up
        began = time.monotonic()
        ok, errors = asyncio.run(load(base, key, seconds, clients))
        rate = ok / (time.monotonic() - began)
        print(f"{kind:<17} {rate:8.1f} req/s  ({ok} ok, {errors} errors, {clients} clients)")
        if errors:
            raise SystemExit(f"{kind}: {errors} requests failed")
        return rate
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    """Run both measurements and print the ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        key = create_key(url)
        baseline = measure("baseline", url, key, args.seconds, args.clients)
        airlock = measure(
            "airlock", url, key, args.seconds, args.clients, {"AIRLOCK_WORKERS": "false"}
        )
        both = measure("airlock +workers", url, key, args.seconds, args.clients)
    print(
        f"ratio     {airlock / baseline:8.2f}x of baseline (goal >= 0.5x); with card posting "
        f"and write-back running in the same process: {both / baseline:.2f}x"
    )


if __name__ == "__main__":
    main()
