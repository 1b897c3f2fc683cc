"""The MCP server driven by the SDK's own client, over HTTP at /mcp and over stdio."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from bot.core import decisions, keys
from bot.core.runtime import Runtime
from bot.core.waiting import MAX_WAIT_SECONDS
from models import Item
from tests import payloads
from tests.conftest import LiveServer

pytestmark = pytest.mark.real_time
Session = Callable[[Client], Awaitable[None]]


def over_http(live: LiveServer, key: str, session: Session) -> None:
    """Run `session` with an SDK client connected to the live server's /mcp as `key`."""

    async def run() -> None:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http:
            transport = streamable_http_client(f"{live.url}/mcp", http_client=http)
            async with Client(transport) as client:
                await session(client)

    asyncio.run(run())


def answer(result: CallToolResult) -> dict[str, Any]:
    """The tool's JSON answer; the test fails with the server's words on a tool error."""
    assert not result.is_error, result.content
    if result.structured_content is not None:
        return dict(result.structured_content)
    return dict(json.loads(result.content[0].text))  # type: ignore[union-attr]


def refusal(result: CallToolResult) -> str:
    """A tool error's words after the SDK's "Error executing tool NAME: " prefix."""
    assert result.is_error
    return str(result.content[0].text).partition(": ")[2]  # type: ignore[union-attr]


def test_list_tools_annotated_from_what_they_do(live: LiveServer, agent_key: str) -> None:
    found: dict[str, Any] = {}

    async def session(client: Client) -> None:
        found.update({tool.name: tool for tool in (await client.list_tools()).tools})

    over_http(live, agent_key, session)
    names = ["get_item", "list_feedback", "list_workflows", "submit_item", "wait_for_decision"]
    assert sorted(found) == names
    submit = found["submit_item"].annotations
    assert (submit.read_only_hint, submit.destructive_hint, submit.idempotent_hint) == (
        False,
        False,
        True,
    )
    for name in ("get_item", "list_feedback", "list_workflows", "wait_for_decision"):
        assert found[name].annotations.read_only_hint is True, name
    # The intake body's schema reaches the client, so a model can fill it in.
    schema = json.dumps(found["submit_item"].input_schema)
    assert "idempotency_key" in schema and "confidence" in schema
    assert found["wait_for_decision"].input_schema["properties"]["timeout_seconds"]["maximum"] == (
        MAX_WAIT_SECONDS
    )


def test_submit_then_wait_for_decision_over_http(
    live: LiveServer, rt: Runtime, agent_key: str
) -> None:
    seen: dict[str, Any] = {}

    async def session(client: Client) -> None:
        workflows = answer(await client.call_tool("list_workflows", {}))["workflows"]
        seen["workflows"] = {w["id"] for w in workflows}
        started = time.monotonic()
        created = answer(await client.call_tool("submit_item", {"item": payloads.summary()}))
        seen["submit_took"] = time.monotonic() - started
        seen["created"] = created
        item_id = created["id"]
        threading.Timer(
            0.5, decisions.reject, (rt, item_id, "U0ADMIN", "inaccurate", "wrong account")
        ).start()
        args = {"item_id": item_id, "timeout_seconds": 20}
        started = time.monotonic()
        seen["decided"] = answer(await client.call_tool("wait_for_decision", args))
        seen["wait_took"] = time.monotonic() - started
        seen["feedback"] = answer(await client.call_tool("list_feedback", {}))["feedback"]
        seen["again"] = answer(await client.call_tool("submit_item", {"item": payloads.summary()}))

    over_http(live, agent_key, session)
    assert "call-summary-cleanup" in seen["workflows"]
    created = seen["created"]
    assert (created["status"], created["gate"], created["replayed"]) == ("pending", "rep", False)
    assert seen["submit_took"] < 5  # never waits for the human
    assert seen["decided"]["status"] == "rejected"
    assert 0.4 < seen["wait_took"] < 10
    verdict = seen["feedback"][0]
    assert (verdict["id"], verdict["reason"], verdict["reason_text"]) == (
        created["id"],
        "inaccurate",
        "wrong account",
    )
    # The same body again is the same submission, as over HTTP.
    assert (seen["again"]["id"], seen["again"]["replayed"]) == (created["id"], True)


def test_mcp_http_refuses_without_a_key(live: LiveServer) -> None:
    hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    for headers in ({}, {"Authorization": "Bearer alk_nope_nope"}):
        response = httpx.post(f"{live.url}/mcp", json=hello, headers=headers)
        assert response.status_code == 401, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_mcp_keeps_the_keys_scope(live: LiveServer, rt: Runtime, agent_key: str) -> None:
    item_id = answer_of_submit(live, agent_key)
    with rt.db.write() as db:
        _row, briefer = keys.create_key(db, agent="briefer", workflows=["account-brief"])
    said: dict[str, Any] = {}

    async def session(client: Client) -> None:
        said["get"] = refusal(await client.call_tool("get_item", {"item_id": item_id}))
        summary = {"item": payloads.summary()}
        said["submit"] = refusal(await client.call_tool("submit_item", summary))
        said["workflows"] = answer(await client.call_tool("list_workflows", {}))["workflows"]
        said["feedback"] = answer(await client.call_tool("list_feedback", {}))["feedback"]

    decisions.reject(rt, item_id, "U0ADMIN", "inaccurate")
    over_http(live, briefer, session)
    assert said["get"].startswith("404 ") and "does not exist" in said["get"]
    assert said["submit"].startswith("403 ")
    assert [w["id"] for w in said["workflows"]] == ["account-brief"]
    assert said["feedback"] == []  # the rejection is on a workflow outside this key


def answer_of_submit(live: LiveServer, key: str) -> str:
    response = httpx.post(
        f"{live.url}/api/v1/items",
        json=payloads.summary(),
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def stdio_env(settings: Any, key: str | None) -> dict[str, str]:
    env = {
        "DATABASE_URL": settings.database_url,
        "AIRLOCK_WORKFLOWS": str(settings.workflows_dir),
        "AIRLOCK_SANDBOX": "off",
    }
    return env | ({"AIRLOCK_AGENT_KEY": key} if key else {})


def test_mcp_over_stdio(settings: Any, rt: Runtime, agent_key: str) -> None:
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "bot", "mcp"],
        env=stdio_env(settings, agent_key),
        cwd=settings.workflows_dir,
    )
    seen: dict[str, Any] = {}

    async def run() -> None:
        async with Client(server) as client:
            workflows = answer(await client.call_tool("list_workflows", {}))["workflows"]
            seen["workflows"] = {w["id"] for w in workflows}
            created = answer(await client.call_tool("submit_item", {"item": payloads.summary()}))
            args = {"item_id": created["id"], "timeout_seconds": 0.3}
            seen["waited"] = answer(await client.call_tool("wait_for_decision", args))
            missing = await client.call_tool("get_item", {"item_id": "itm_missing"})
            seen["missing"] = refusal(missing)

    asyncio.run(run())
    assert "call-summary-cleanup" in seen["workflows"]
    assert seen["waited"]["status"] == "pending"
    assert seen["missing"].startswith("404 ")
    with rt.db.read() as db:  # written by the subprocess, into the same database
        assert db.get(Item, seen["waited"]["id"]) is not None


def test_mcp_stdio_needs_a_key(settings: Any, rt: Runtime) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "mcp"],
        env=stdio_env(settings, None) | {"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=settings.workflows_dir,  # no .env there
    )
    assert done.returncode == 2
    assert "AIRLOCK_AGENT_KEY is not set" in done.stderr
    assert done.stdout == ""
