"""Bench servers: the real Airlock app, or a baseline that inserts one row per request.

Run as `python bench/_server.py airlock|baseline PORT DATABASE_URL WORKFLOWS_DIR`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import slack_endpoint
from bot.base.config import Settings
from bot.base.db import Database
from bot.service import build_service
from bot.slack.ids import Action


def baseline_app(url: str) -> FastAPI:
    """Same stack (uvicorn, FastAPI, threadpool, SQLAlchemy write transaction), one INSERT."""
    db = Database(url)
    with db.write() as session:
        session.execute(
            text(
                "CREATE TABLE IF NOT EXISTS bench_row (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"
            )
        )
    app = FastAPI()

    def insert(body: bytes) -> None:
        with db.write() as session:
            session.execute(text("INSERT INTO bench_row (body) VALUES (:b)"), {"b": body.decode()})

    @app.post("/api/v1/items")
    async def create(request: Request) -> JSONResponse:
        await run_in_threadpool(insert, await request.body())
        return JSONResponse({"ok": True}, status_code=201)

    return app


def bolt_baseline_app(url: str) -> FastAPI:
    """A bare Bolt app that only acks Approve, behind the same endpoint and thread pool."""
    secret = os.environ["SLACK_SIGNING_SECRET"]
    db = Database(url)
    db.upgrade()  # the endpoint remembers accepted signatures (replay refusal) in the database
    bolt = App(
        signing_secret=secret,
        token_verification_enabled=False,
        client=WebClient(token="xoxb-bench", base_url=os.environ["SLACK_API_URL"]),
    )

    @bolt.action(Action.APPROVE.value)
    def approve(ack: Ack) -> None:
        ack()

    app = FastAPI()
    endpoint = slack_endpoint(bolt, secret, db, max_body_bytes=256 * 1024)
    app.add_api_route("/slack/events", endpoint, methods=["POST"])
    app.add_api_route("/healthz", lambda: {"status": "ok"}, methods=["GET"])
    return app


def main() -> None:
    """Serve the chosen app until killed."""
    kind, port, url, workflows = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    if kind == "baseline":
        app = baseline_app(url)
    elif kind == "bolt":
        app = bolt_baseline_app(url)
    else:
        settings = Settings(
            _env_file=None,
            DATABASE_URL=url,
            AIRLOCK_WORKFLOWS=Path(workflows),
            AIRLOCK_TICK_SECONDS=60,
        )
        app = build_service(settings).app
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
