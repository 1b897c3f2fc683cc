"""Agent keys: created once, stored hashed, scoped to named workflows."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, bindparam, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from bot.base.db import Executor
from bot.base.errors import NotFound, Unauthorized
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


def check_shape(token: str | None) -> list[str]:
    """Refuse a missing or malformed token before any work; returns its parts."""
    if not token:
        raise Unauthorized("send the agent key as 'Authorization: Bearer alk_...'")
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise Unauthorized("that is not an Airlock agent key (they start with 'alk_')")
    return parts


@dataclass(frozen=True)
class Agent:
    """An authenticated agent: which key, which name, which workflows."""

    key_id: str
    name: str
    workflows: tuple[str, ...]
    last_used_at: datetime | None


_KEYS: Table = SQLModel.metadata.tables["agent_key"]
_LOOKUP = sa_select(
    _KEYS.c.key_hash, _KEYS.c.agent, _KEYS.c.workflows, _KEYS.c.revoked_at, _KEYS.c.last_used_at
).where(_KEYS.c.id == bindparam("key_id"))


def authenticate(session: Executor, token: str | None) -> Agent:
    """The active agent a bearer token belongs to, or Unauthorized saying what is wrong."""
    parts = check_shape(token)
    row = session.execute(_LOOKUP, {"key_id": parts[1]}).first()
    if row is None or not hmac.compare_digest(row.key_hash, _digest(parts[1], parts[2])):
        raise Unauthorized("unknown agent key: create one with 'airlock keys create'")
    if row.revoked_at is not None:
        raise Unauthorized(f"agent key {parts[1]} was revoked: ask the owner for a new one")
    return Agent(parts[1], row.agent, tuple(row.workflows), row.last_used_at)


def touch(session: Executor, agent: Agent) -> None:
    """Note the key was used, at most once a minute so intake stays cheap."""
    now = utcnow()
    if agent.last_used_at is None or now - agent.last_used_at > _TOUCH_EVERY:
        session.execute(update(_KEYS).where(_KEYS.c.id == agent.key_id).values(last_used_at=now))


def in_scope(key: Agent, workflow_id: str) -> bool:
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
