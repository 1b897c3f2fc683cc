"""`airlock mcp`: the agent tools over MCP on stdin/stdout, for MCP clients that spawn a command."""

from __future__ import annotations

from bot.base.config import ConfigError, load_settings


def mcp() -> None:
    """Serve the agent tools over MCP (stdio), acting as the key in AIRLOCK_AGENT_KEY."""
    settings = load_settings()
    if settings.agent_key is None or not settings.agent_key.get_secret_value().strip():
        raise ConfigError(
            "AIRLOCK_AGENT_KEY is not set: create a key with 'airlock keys create --agent NAME "
            "--workflows a,b' and put it in the MCP client's env for this server"
        )
    # Imported here: the MCP SDK takes seconds to load, which no other command should pay.
    from bot.core.runtime import open_runtime
    from bot.reporting.agent_views import agent_of
    from handlers.mcp import build_mcp

    key = settings.agent_key.get_secret_value().strip()
    rt = open_runtime(settings)
    agent_of(rt, key)  # a revoked or unknown key stops here, with the reason, not at first call
    # stdout is the protocol channel: nothing else may print there.
    build_mcp(rt, stdio_key=key).run("stdio")
