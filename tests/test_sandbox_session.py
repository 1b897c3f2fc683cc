"""`airlock serve` in sandbox mode: the admin, the reusable agent key and the banner."""

from __future__ import annotations

from pathlib import Path

from bot.base.config import Settings
from bot.core import keys
from bot.core.runtime import Runtime
from bot.sandbox.session import (
    SANDBOX_ADMIN,
    SANDBOX_AGENT,
    banner,
    ensure_agent_key,
    key_file,
    sandbox_settings,
    start_session,
)
from bot.service import Service


def active_sandbox_keys(rt: Runtime) -> list[str]:
    with rt.db.read() as session:
        return [
            k.id for k in keys.list_keys(session) if k.agent == SANDBOX_AGENT and not k.revoked_at
        ]


def test_key_file_sits_next_to_sqlite_only() -> None:
    assert key_file("sqlite:///data/airlock.db") == Path("data/airlock.db.sandbox-key")
    assert key_file("sqlite:///:memory:") is None
    assert key_file("postgresql+psycopg://postgres@127.0.0.1:5432/airlock") is None


def test_ensure_agent_key_reuses_saved_key(rt: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "airlock.db.sandbox-key"
    first = ensure_agent_key(rt, path)
    assert path.read_text().strip() == first
    assert path.stat().st_mode & 0o777 == 0o600
    assert ensure_agent_key(rt, path) == first
    assert len(active_sandbox_keys(rt)) == 1
    with rt.db.read() as session:
        agent = keys.authenticate(session, first)
    assert (agent.name, agent.workflows) == (SANDBOX_AGENT, ("*",))


def test_ensure_agent_key_replaces_revoked_key(rt: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "key"
    first = ensure_agent_key(rt, path)
    with rt.db.write() as session:
        keys.revoke_key(session, first.split("_")[1])
    second = ensure_agent_key(rt, path)
    assert second != first
    assert path.read_text().strip() == second
    assert active_sandbox_keys(rt) == [second.split("_")[1]]


def test_ensure_agent_key_without_file_keeps_one_active(rt: Runtime) -> None:
    first = ensure_agent_key(rt, None)
    second = ensure_agent_key(rt, None)
    assert first != second
    assert active_sandbox_keys(rt) == [second.split("_")[1]]


def test_sandbox_settings_makes_owner_admin(settings: Settings) -> None:
    bare = settings.model_copy(update={"admins_csv": ""})
    assert sandbox_settings(bare).admins == {SANDBOX_ADMIN}
    assert sandbox_settings(settings).admins == {"U0ADMIN"}
    real = bare.model_copy(update={"slack_bot_token": "xoxb-real"})
    assert sandbox_settings(real).admins == frozenset()


def test_banner_names_what_started(service: Service) -> None:
    info = start_session(service, "0.0.0.0", 3123)
    assert info is not None
    box = service.integrations.sandbox
    assert box.slack is not None and box.salesforce is not None
    text = banner(info)
    assert f"Slack stand-in       {box.slack.base_url}" in text
    assert f"Salesforce stand-in  {box.salesforce.instance_url}" in text
    assert "6 people, 10 accounts, 15 opportunities" in text
    assert "Open http://127.0.0.1:3123/sandbox" in text
    assert info.agent_key in text
    assert service.app.state.sandbox.agent_key() == info.agent_key
