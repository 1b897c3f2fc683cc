"""Assemble a running Airlock: runtime, outbox routes, ticker and the ASGI app."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import FastAPI

from bot.config import Settings
from bot.effects import WEBHOOK
from bot.outbox import OutboxWorker, Route
from bot.runtime import Runtime, open_runtime
from bot.scheduler import Ticker
from bot.server import create_app
from bot.webhooks import webhook_route

log = logging.getLogger(__name__)


@dataclass
class Service:
    """Everything `airlock serve` runs in one process."""

    rt: Runtime
    worker: OutboxWorker
    ticker: Ticker
    app: FastAPI

    def tick(self) -> None:
        """One round of background work: deliver due side effects."""
        self.worker.drain(max_rounds=10)


def outbox_routes(rt: Runtime) -> dict[str, Route]:
    """Every side-effect kind this process can deliver."""
    return {WEBHOOK: webhook_route(rt.db)}


def build_service(settings: Settings, rt: Runtime | None = None) -> Service:
    """Open the runtime (migrating the database) and wire the workers to the app."""
    rt = rt or open_runtime(settings)
    worker = OutboxWorker(rt.db, outbox_routes(rt))
    holder: dict[str, Service] = {}
    ticker = Ticker(lambda: holder["svc"].tick(), settings.tick_seconds)
    rt.kick = ticker.kick
    app = create_app(rt, on_start=ticker.start, on_stop=ticker.shutdown)
    holder["svc"] = Service(rt=rt, worker=worker, ticker=ticker, app=app)
    return holder["svc"]
