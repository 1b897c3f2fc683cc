"""Agent keys: created once, stored hashed, scoped to named workflows."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.errors import NotFound, Unauthorized
from models import AgentKey
from models.types import utcnow

PREFIX = "alk"
_TOUCH_EVERY = timedelta(minutes=1)


def _digest(key_id: str, secret: str) -> str:
    return hashlib.sha256(f"{key_id}:{secret}".encode()).hexdigest()


def create_key(session: Session, *, agent: str, workflows: list[str]) -> tuple[AgentKey, str]:
    """Store a new key and return it with the plaintext, which is never stored or shown again."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = AgentKey(id=key_id, agent=agent, key_hash=_digest(key_id, secret), workflows=workflows)
    session.add(row)
    session.flush()
    return row, f"{PREFIX}_{key_id}_{secret}"


def authenticate(session: Session, token: str | None) -> AgentKey:
    """The active key a bearer token belongs to, or Unauthorized saying what is wrong."""
    if not token:
        raise Unauthorized("send the agent key as 'Authorization: Bearer alk_...'")
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise Unauthorized("that is not an Airlock agent key (they start with 'alk_')")
    key = session.get(AgentKey, parts[1])
    if key is None or not hmac.compare_digest(key.key_hash, _digest(parts[1], parts[2])):
        raise Unauthorized("unknown agent key: create one with 'airlock keys create'")
    if key.revoked_at is not None:
        raise Unauthorized(f"agent key {key.id} was revoked: ask the owner for a new one")
    return key


def touch(session: Session, key: AgentKey) -> None:
    """Note the key was used, at most once a minute so intake stays cheap."""
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > _TOUCH_EVERY:
        session.execute(update(AgentKey).where(col(AgentKey.id) == key.id).values(last_used_at=now))


def in_scope(key: AgentKey, workflow_id: str) -> bool:
    """Whether the key may submit to this workflow."""
    return workflow_id in key.workflows or "*" in key.workflows


def list_keys(session: Session) -> list[AgentKey]:
    """Every key, newest first."""
    return list(session.exec(select(AgentKey).order_by(col(AgentKey.created_at).desc())))


def revoke_key(session: Session, key_id: str) -> AgentKey:
    """Revoke a key by id (the part after 'alk_'); idempotent."""
    key = session.get(AgentKey, key_id)
    if key is None:
        raise NotFound(f"no agent key {key_id!r}: 'airlock keys list' shows the ids")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
    return key
