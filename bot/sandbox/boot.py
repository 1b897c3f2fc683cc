"""Start the local Slack and Salesforce stand-ins, seeded with the same people."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

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
