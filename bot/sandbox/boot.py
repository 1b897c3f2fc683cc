"""Start the local Slack and Salesforce stand-ins, seeded with the same people."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from bot.base.config import ConfigError, Settings
from bot.sandbox.salesforce_seed import SEED_PEOPLE
from bot.sandbox.salesforce_standin import DEFAULT_TOKEN, SalesforceStandin
from bot.sandbox.slack_standin import SlackStandin, SlackUser

SANDBOX_BOT_TOKEN = "xoxb-sandbox"


def seed_slack_users() -> list[SlackUser]:
    """Slack accounts for every seeded Salesforce person (same emails, time zones)."""
    return [
        SlackUser(
            id=p.slack_id,
            name=p.email.split("@")[0],
            real_name=p.name,
            email=p.email,
            tz=p.tz,
            is_admin=p.role == "admin",
        )
        for p in SEED_PEOPLE
    ]


@dataclass
class Sandbox:
    """The running stand-ins and the secrets the app and the web page share."""

    slack: SlackStandin | None = None
    salesforce: SalesforceStandin | None = None
    signing_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    salesforce_token: str = DEFAULT_TOKEN

    def describe(self) -> str:
        """Which stand-ins run, for the warning `airlock serve` logs."""
        return " and ".join(
            n for n, s in (("Slack", self.slack), ("Salesforce", self.salesforce)) if s
        )

    def stop(self) -> None:
        """Stop whatever was started."""
        if self.slack:
            self.slack.stop()
        if self.salesforce:
            self.salesforce.stop()


def start_sandbox(*, slack: bool, salesforce: bool) -> Sandbox:
    """Start the stand-ins that have no real counterpart configured."""
    box = Sandbox()
    if slack:
        box.slack = SlackStandin(users=seed_slack_users()).start()
    if salesforce:
        box.salesforce = SalesforceStandin(seed=True).start()
    return box


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

WARNING = """\
************************************************************************
WARNING: SANDBOX MODE. The /sandbox page lets anyone who reaches this
port act as any user (approve, edit, pause all as the admin), and an
agent key for every workflow was created. Local trials only.
************************************************************************"""


def check_sandbox(settings: Settings, host: str) -> None:
    """Refuse to serve with stand-ins on a reachable interface, or with a service missing."""
    missing = settings.missing_services()
    if missing:
        hint = (
            "AIRLOCK_SANDBOX=auto uses stand-ins only when neither Slack nor Salesforce is "
            "configured"
            if settings.sandbox == "auto"
            else "AIRLOCK_SANDBOX=off runs no stand-ins"
        )
        raise ConfigError(
            f"{' and '.join(missing)} not configured: set them ({hint}; set AIRLOCK_SANDBOX=on "
            "to use a stand-in on this machine only)"
        )
    if settings.sandbox_active and host not in LOOPBACK_HOSTS:
        raise ConfigError(
            f"AIRLOCK_SANDBOX: sandbox mode serves only on loopback (127.0.0.1), not {host}: "
            "anyone reaching it could act as any user. Drop --host, or configure Slack and "
            "Salesforce and set AIRLOCK_SANDBOX=off"
        )
