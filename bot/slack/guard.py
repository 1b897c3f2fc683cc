"""What /slack/events checks before Bolt sees a request: size, timestamp, signature, replay.

Slack signs `v0:<timestamp>:<body>` with the app's signing secret and asks apps to refuse
timestamps more than five minutes away, "to protect against replay attacks"
(https://api.slack.com/authentication/verifying-requests-from-slack). Inside those five minutes a
captured request still verifies, so each accepted signature is remembered in the database (shared
by every replica) until its timestamp leaves the window, and a second use is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slack_sdk.signature import SignatureVerifier
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.base.db import Database
from models import SlackSignature

WINDOW = timedelta(minutes=5)
_MAX_STAMP_DIGITS = 12


class Replayed(Exception):
    """A click whose signed request was already acted on: its listener stops after the ack."""


def valid_signature(verifier: SignatureVerifier, raw: bytes, headers: dict[str, str]) -> bool:
    """Slack's v0 check, after making sure the timestamp is a plain number of seconds."""
    stamp = headers.get("x-slack-request-timestamp", "")
    # slack_sdk calls int() on it: "soon" would raise (a 500), and "1e9" or a 5,000-digit
    # number must not get that far either.
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > _MAX_STAMP_DIGITS:
        return False
    return verifier.is_valid_request(raw, headers)


def first_use(db: Database, headers: dict[str, str], now: datetime | None = None) -> bool:
    """Remember this request's signature; False if it was already used within the window."""
    now = now or datetime.now(UTC)
    signature = headers.get("x-slack-signature", "")[:80]
    stamp = datetime.fromtimestamp(int(headers["x-slack-request-timestamp"]), UTC)
    try:
        with db.write() as session:
            session.execute(delete(SlackSignature).where(col(SlackSignature.expires_at) < now))
            session.add(SlackSignature(signature=signature, expires_at=stamp + WINDOW))
    except IntegrityError:
        return False
    return True
