"""Building the MCP server leaves the process's logging as the operator configured it."""

from __future__ import annotations

import logging

import pytest

from bot.core.runtime import Runtime
from handlers.mcp import build_mcp


def test_building_the_mcp_server_keeps_the_root_logger(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An embedding process that configured nothing: basicConfig would add its handler here.
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", logging.WARNING)
    build_mcp(rt)
    assert root.handlers == []
    assert root.level == logging.WARNING
    assert not logging.getLogger("airlock.events").isEnabledFor(logging.INFO)
