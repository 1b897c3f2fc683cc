"""A sandbox run of `airlock serve`: an admin, a reusable agent key, and what to tell the user."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlmodel import col, select

from bot.base.config import Settings
from bot.base.errors import Unauthorized
from bot.core import keys
from bot.core.runtime import Runtime
from bot.sandbox.host import Host
from bot.sandbox.salesforce_seed import SEED_PEOPLE
from bot.sandbox.salesforce_standin import SalesforceStandin
from models import AgentKey

SANDBOX_AGENT = "sandbox-agent"
SANDBOX_ADMIN = next(p.slack_id for p in SEED_PEOPLE if p.role == "admin")


def sandbox_settings(settings: Settings) -> Settings:
    """Settings for a sandbox run: the seeded RevOps lead is the admin unless admins are set."""
    if settings.slack_sandbox and not settings.admins:
        return settings.model_copy(update={"admins_csv": SANDBOX_ADMIN})
    return settings


def key_file(database_url: str) -> Path | None:
    """Where the sandbox agent key is kept: next to a SQLite file; nowhere for other databases."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(f"{url.database}.sandbox-key").expanduser()


def ensure_agent_key(rt: Runtime, path: Path | None) -> str:
    """The sandbox agent's key (all workflows): the saved one while it works, else a new one.

    A new key revokes earlier sandbox-agent keys, so only one is ever active.
    """
    saved = path.read_text().strip() if path and path.is_file() else ""
    if saved:
        try:
            with rt.db.read() as session:
                agent = keys.authenticate(session, saved)
            if agent.name == SANDBOX_AGENT and "*" in agent.workflows:
                return saved
        except Unauthorized:
            pass  # the database was reset or the key revoked: make a new one below
    with rt.db.write() as session:
        earlier = session.exec(
            select(AgentKey).where(
                col(AgentKey.agent) == SANDBOX_AGENT, col(AgentKey.revoked_at).is_(None)
            )
        ).all()
        for row in earlier:
            keys.revoke_key(session, row.id)
        _row, secret = keys.create_key(session, agent=SANDBOX_AGENT, workflows=["*"])
    if path is not None:
        path.write_text(secret + "\n")
        os.chmod(path, 0o600)
    return secret


@dataclass(frozen=True)
class SessionInfo:
    """What a sandbox run started, for the banner."""

    slack_url: str | None
    salesforce_url: str | None
    seeded: str
    database: str
    workflows: int
    agent_key: str
    key_path: Path | None
    page_url: str | None


def start_session(service: Host, host: str, port: int) -> SessionInfo | None:
    """The agent key and URLs of a sandbox run; None when both real services are configured."""
    box = service.integrations.sandbox
    if box.slack is None and box.salesforce is None:
        return None
    settings = service.rt.settings
    path = key_file(settings.database_url)
    page = getattr(service.app.state, "sandbox", None)
    secret = page.agent_key() if page is not None else ensure_agent_key(service.rt, path)
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return SessionInfo(
        slack_url=box.slack.base_url if box.slack else None,
        salesforce_url=box.salesforce.instance_url if box.salesforce else None,
        seeded=_seeded(box.salesforce),
        database=make_url(settings.database_url).render_as_string(hide_password=True),
        workflows=len(service.rt.specs.specs),
        agent_key=secret,
        key_path=path,
        page_url=f"http://{shown}:{port}/sandbox" if page is not None else None,
    )


def _seeded(org: SalesforceStandin | None) -> str:
    if org is None:
        return ""
    counts = (("User", "people"), ("Account", "accounts"), ("Opportunity", "opportunities"))
    return ", ".join(f"{len(org.records(sobject))} {label}" for sobject, label in counts)


def banner(info: SessionInfo) -> str:
    """The lines `airlock serve` prints in sandbox mode."""
    real = "real service (configured)"
    saved = f"; saved in {info.key_path}" if info.key_path else "; a new one each start"
    lines = [
        "airlock: sandbox mode: local stand-ins for what is not configured",
        f"  Slack stand-in       {info.slack_url or real}",
        f"  Salesforce stand-in  {info.salesforce_url or real}"
        + (f" (seeded: {info.seeded})" if info.seeded else ""),
        f"  database             {info.database}",
        f"  workflows            {info.workflows} loaded",
        f"  agent key            {info.agent_key}",
        f"                       (agent {SANDBOX_AGENT!r}, all workflows{saved})",
    ]
    if info.page_url:
        lines += ["", f"  Open {info.page_url}", "  and pick who you are (Maya Chen is a rep)."]
    return "\n".join(lines)
