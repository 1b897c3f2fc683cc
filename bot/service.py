"""Assemble a running Airlock: runtime, Slack and Salesforce clients, outbox routes, ticker."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from slack_bolt import App
from slack_sdk import WebClient

from bot import field_check
from bot.app import build_bolt_app
from bot.base import tracing
from bot.base.config import ConfigError, Settings
from bot.base.specs import SpecError
from bot.core import autonomy_watch, autopause, checkpoint, delegation, scoped_pause
from bot.core.effects import CARD, NOTIFY, REVERT, WEBHOOK, WRITEBACK
from bot.core.outbox import OutboxWorker, Route
from bot.core.outbox_giveup import GiveUp
from bot.core.owners import resolve_owners
from bot.core.release import release_held
from bot.core.runtime import Runtime, open_runtime
from bot.delivery import digest, outcome_reads, revert_watch, timers
from bot.delivery.scheduler import Ticker
from bot.delivery.undo import undo_route
from bot.delivery.webhooks import webhook_route
from bot.delivery.writeback import writeback_route
from bot.reporting import rubber_stamp
from bot.salesforce.client import SalesforceClient, SalesforceConfig, config_from_settings
from bot.salesforce.directory import Directory
from bot.salesforce.usage import usage_gauges
from bot.sandbox.boot import SANDBOX_BOT_TOKEN, Sandbox, start_sandbox
from bot.sandbox.web import mount_sandbox
from bot.server import create_app
from bot.slack.client import make_client
from bot.slack.delivery import CardRoute, ReviewerSource
from bot.slack.notices import notify_route
from models.types import utcnow

log = logging.getLogger(__name__)
# Written fields are re-read this often: one SOQL query per 200 watched records each time.
REVERT_CHECK_MINUTES = 30
# Autopilot's evidence moves with decisions and reverts over days; re-reading it on every tick
# (up to 20 a second under load) spent the clicks' CPU on an answer that changes slowly.
EVIDENCE_CHECK_MINUTES = 5
DIGEST_HOUR_UTC = 9
# How often the stream heads are signed: a chain rewritten since the last checkpoint is the
# window `audit verify` cannot see into, so keep it short; a checkpoint with nothing new is free.
CHECKPOINT_SECONDS = 60.0


@dataclass
class Integrations:
    """The outside world as this process sees it: real services or the sandbox stand-ins."""

    slack: WebClient
    signing_secret: str
    salesforce: SalesforceClient
    people: ReviewerSource
    sandbox: Sandbox = field(default_factory=Sandbox)


@dataclass
class Service:
    """Everything `airlock serve` runs in one process."""

    rt: Runtime
    integrations: Integrations
    bolt: App
    worker: OutboxWorker
    ticker: Ticker
    app: FastAPI

    socket_mode: Any = None
    checkpointed_at: datetime | None = None

    def tick(self) -> None:
        """One round of background work: timers, outcome reads, auto-pause, effects, checkpoint.

        (The evidence behind autopilot is re-checked every EVIDENCE_CHECK_MINUTES instead.)
        """
        field_check.refresh(self.rt)  # describe() when due; never on the intake path
        if not self.rt.settings.workers:
            return  # an API-only replica only keeps the field metadata its intake checks fresh
        delegation.end_due(self.rt)  # an `until` came: new items go to the delegator again
        scoped_pause.resume_due(self.rt)  # a `for 2h` ran out: resumes, then releases below
        release_held(self.rt)
        timers.sweep(self.rt, self.integrations.people)
        # Before the writes drain: an arrival read sees the record as it was before Airlock acted.
        outcome_reads.sweep(self.rt, self.integrations.salesforce)
        autopause.check_all(self.rt)
        self.worker.drain(max_rounds=10)
        self.checkpoint()

    def watch_reverts(self) -> None:
        """Re-read written fields for reverts (bot/delivery/revert_watch.py)."""
        revert_watch.sweep(self.rt, self.integrations.salesforce, utcnow())

    def checkpoint(self) -> None:
        """Sign the audit stream heads when the last checkpoint is older than a minute."""
        now = self.rt.clock()
        if (
            self.checkpointed_at
            and (now - self.checkpointed_at).total_seconds() < CHECKPOINT_SECONDS
        ):
            return
        checkpoint.write_checkpoint(self.rt.db, self.rt.settings.audit_key_value, now)
        self.checkpointed_at = now

    def start(self) -> None:
        """Start ticking (API-only replicas: field metadata only), and Socket Mode if set."""
        if self.rt.settings.workers:
            self.ticker.daily(lambda: digest.queue_digests(self.rt), hour=DIGEST_HOUR_UTC)
            self.ticker.every(self.watch_reverts, minutes=REVERT_CHECK_MINUTES)
            self.ticker.every(
                lambda: autonomy_watch.recheck_all(self.rt), minutes=EVIDENCE_CHECK_MINUTES
            )
            # Checked daily, told at most once per ISO week per reviewer (outbox dedupe key).
            self.ticker.daily(
                lambda: rubber_stamp.queue_weekly_notices(self.rt), hour=DIGEST_HOUR_UTC
            )
        self.ticker.start()
        token = self.rt.settings.slack_app_token
        if token:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            self.socket_mode = SocketModeHandler(self.bolt, token)
            self.socket_mode.connect()
            log.info("Slack Socket Mode connected")

    def stop(self) -> None:
        """Stop background work, Socket Mode and the sandbox stand-ins."""
        if self.socket_mode is not None:
            self.socket_mode.close()
        self.ticker.shutdown()
        self.integrations.sandbox.stop()


def connect(settings: Settings, rt: Runtime) -> Integrations:
    """Clients for the configured services, starting stand-ins only in sandbox mode."""
    missing = settings.missing_services()
    if missing:
        raise ConfigError(
            f"{' and '.join(missing)} not configured (AIRLOCK_SANDBOX={settings.sandbox})"
        )
    box = start_sandbox(slack=settings.slack_sandbox, salesforce=settings.salesforce_sandbox)
    if box.slack or box.salesforce:
        log.warning("SANDBOX MODE: local stand-ins for %s", box.describe())
    if box.slack:
        slack = make_client(SANDBOX_BOT_TOKEN, box.slack.base_url)
        secret = box.signing_secret
    else:
        slack = make_client(settings.slack_bot_token or "", settings.slack_api_url)
        secret = settings.slack_signing_secret or ""
    if box.salesforce:
        config = SalesforceConfig(
            instance_url=box.salesforce.instance_url, access_token=box.salesforce_token
        )
    else:
        config = config_from_settings(settings)
    salesforce = SalesforceClient(config)
    people = Directory(rt.db, salesforce, slack, admins=settings.admins)
    return Integrations(slack, secret, salesforce, people, box)


def outbox_routes(rt: Runtime, io: Integrations) -> dict[str, Route]:
    """Every side-effect kind this process delivers."""
    return {
        CARD: CardRoute(rt, io.slack, io.people, io.salesforce).route(),
        NOTIFY: notify_route(rt, io.slack),
        WRITEBACK: writeback_route(rt, io.salesforce),
        WEBHOOK: webhook_route(rt),
        REVERT: undo_route(rt, io.salesforce),
    }


def _use_salesforce(rt: Runtime, salesforce: SalesforceClient, settings: Settings) -> None:
    """Point the describe cache and record checks at the org, and watch its API usage."""
    rt.fields.client = salesforce
    rt.records.client = salesforce
    rt.records.usage_ceiling = settings.salesforce_api_usage_ceiling
    rt.metrics.watch(
        "airlock_salesforce_api_requests",
        "The Salesforce org's API requests in the last 24 h: used and limit (Sforce-Limit-Info)",
        lambda: usage_gauges(salesforce),
    )


def build_service(
    settings: Settings, rt: Runtime | None = None, io: Integrations | None = None
) -> Service:
    """Open the runtime (migrating the database) and wire workers, Slack and the HTTP app."""
    tracing.configure(os.environ)  # OpenTelemetry, only when OTEL_* asks for it
    rt = rt or open_runtime(settings)
    io = io or connect(settings, rt)
    _use_salesforce(rt, io.salesforce, settings)
    try:
        resolve_owners(rt, io.people)  # owners may be written as emails: Slack needs ids
    except SpecError:
        io.sandbox.stop()
        raise
    bolt = build_bolt_app(rt, io.slack, io.signing_secret, io.people)
    worker = OutboxWorker(
        rt.db,
        outbox_routes(rt, io),
        give_up_after=settings.outbox_give_up_after,
        on_give_up=GiveUp(rt),
    )
    holder: dict[str, Service] = {}
    ticker = Ticker(lambda: holder["svc"].tick(), settings.tick_seconds)
    if settings.workers:
        rt.kick = ticker.kick
    app = create_app(
        rt,
        # Socket Mode needs no signing secret; without one nothing could verify an HTTP
        # delivery, so /slack/events is not served at all.
        slack=(bolt, io.signing_secret) if io.signing_secret else None,
        on_start=lambda: holder["svc"].start(),
        on_stop=lambda: holder["svc"].stop(),
    )
    holder["svc"] = Service(rt, io, bolt, worker, ticker, app)
    mount_sandbox(app, holder["svc"])  # /sandbox, only when Slack is the local stand-in
    return holder["svc"]
