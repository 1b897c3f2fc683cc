"""The Python client (clients/python) against a running server: submit, get, wait, errors."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from airlock_client import AirlockClient, AirlockError, AsyncAirlockClient
from sqlalchemy import func
from sqlmodel import select

from bot.core import decisions, keys
from bot.core.runtime import Runtime
from models import Item
from tests import payloads
from tests.conftest import LiveServer
from tests.slack_driver import wait_for

pytestmark = pytest.mark.real_time
ROOT = Path(__file__).resolve().parent.parent


class LoseFirstAnswer(httpx.HTTPTransport):
    """Delivers every request, but the first answer is lost on the way back."""

    def __init__(self) -> None:
        super().__init__(trust_env=False)
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        response = super().handle_request(request)
        if len(self.sent) == 1:
            response.read()
            raise httpx.ReadError("connection reset", request=request)
        return response


def summary_fields() -> dict[str, Any]:
    body = payloads.summary()
    return {k: v for k, v in body.items() if k not in ("workflow", "kind", "title")}


def item_count(rt: Runtime) -> int:
    with rt.db.read() as session:
        return int(session.exec(select(func.count()).select_from(Item)).one())


def test_submit_retries_with_the_same_generated_key(
    live: LiveServer, rt: Runtime, agent_key: str
) -> None:
    transport = LoseFirstAnswer()
    with AirlockClient(live.url, agent_key, transport=transport) as airlock:
        item = airlock.submit("call-summary-cleanup", "summary", "Acme call", **summary_fields())
    assert (item.status, item.gate, item.replayed) == ("pending", "rep", True)
    sent_keys = {r.headers["idempotency-key"] for r in transport.sent}
    assert len(transport.sent) == 2 and len(sent_keys) == 1
    assert item_count(rt) == 1  # the lost answer's item, returned by the replay


def test_wait_asks_again_after_a_lost_answer(live: LiveServer, rt: Runtime, agent_key: str) -> None:
    with AirlockClient(live.url, agent_key, trust_env=False) as airlock:
        item = airlock.submit("call-summary-cleanup", "summary", "Acme call", **summary_fields())
    transport = LoseFirstAnswer()
    with AirlockClient(live.url, agent_key, transport=transport) as airlock:
        decisions.reject(rt, item.id, "U0ADMIN", "inaccurate")
        started = time.monotonic()
        verdict = airlock.wait(item.id, timeout=30)
    assert verdict.status == "rejected" and len(transport.sent) == 2
    assert time.monotonic() - started < 10  # decided already: no long-poll for the next change


def test_async_wait_asks_again_after_a_lost_answer(
    live: LiveServer, rt: Runtime, agent_key: str
) -> None:
    class LoseFirstAsync(httpx.AsyncHTTPTransport):
        def __init__(self) -> None:
            super().__init__(trust_env=False)
            self.sent = 0

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            self.sent += 1
            if self.sent == 1:
                raise httpx.ReadError("connection reset", request=request)
            return await super().handle_async_request(request)

    async def scenario() -> str:
        transport = LoseFirstAsync()
        async with AsyncAirlockClient(live.url, agent_key, transport=transport) as airlock:
            found = await airlock.wait(item_id, timeout=30)
        assert transport.sent == 2
        return found.status

    with AirlockClient(live.url, agent_key, trust_env=False) as airlock:
        item_id = airlock.submit("call-summary-cleanup", "summary", "Acme", **summary_fields()).id
    decisions.reject(rt, item_id, "U0ADMIN", "inaccurate")
    assert asyncio.run(scenario()) == "rejected"


def test_wait_returns_the_verdict(live: LiveServer, rt: Runtime, agent_key: str) -> None:
    with AirlockClient(live.url, agent_key, trust_env=False) as airlock:
        item = airlock.submit("call-summary-cleanup", "summary", "Acme call", **summary_fields())
        assert not item.decided
        still = airlock.wait(item.id, timeout=0.5)
        assert still.status == "pending"
        threading.Timer(0.3, decisions.reject, (rt, item.id, "U0ADMIN", "inaccurate")).start()
        started = time.monotonic()
        verdict = airlock.wait(item.id, timeout=30)
        assert time.monotonic() - started < 10
        assert verdict.decided and verdict.status == "rejected"
        assert verdict.decision is not None and verdict.decision["reason"] == "inaccurate"
        assert airlock.get(item.id).raw["trace"][-1]["type"] == "rejected"


def test_errors_carry_the_problem_detail(live: LiveServer, rt: Runtime, agent_key: str) -> None:
    stranger = AirlockClient(live.url, "alk_nope_nope", trust_env=False)
    with stranger, pytest.raises(AirlockError) as refused:
        stranger.get("itm_x")
    assert refused.value.status == 401
    assert "unknown agent key" in refused.value.detail
    assert refused.value.problem["type"].endswith("/unauthorized")
    with rt.db.write() as session:
        _row, briefer = keys.create_key(session, agent="briefer", workflows=["account-brief"])
    with AirlockClient(live.url, briefer, trust_env=False) as airlock:
        with pytest.raises(AirlockError) as scoped:
            airlock.submit("call-summary-cleanup", "summary", "Acme call", **summary_fields())
        with pytest.raises(AirlockError) as missing:
            airlock.wait("itm_missing", timeout=5)
    assert scoped.value.status == 403 and "account-brief" in scoped.value.detail
    assert missing.value.status == 404 and "does not exist" in missing.value.detail
    assert item_count(rt) == 0


def test_client_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRLOCK_AGENT_KEY", raising=False)
    with pytest.raises(ValueError, match="AIRLOCK_AGENT_KEY"):
        AirlockClient("http://127.0.0.1:1")


def test_async_client_submits_and_waits(live: LiveServer, rt: Runtime, agent_key: str) -> None:
    async def run() -> tuple[str, str]:
        async with AsyncAirlockClient(live.url, agent_key, trust_env=False) as airlock:
            item = await airlock.submit("account-brief", "brief", "Acme brief", **brief_fields())
            done = await airlock.wait(item.id, timeout=5)
            return item.status, done.status

    assert asyncio.run(run()) == ("auto_accepted", "auto_accepted")


def brief_fields() -> dict[str, Any]:
    body = payloads.brief()
    return {k: v for k, v in body.items() if k not in ("workflow", "kind", "title")}


def test_readme_agent_runs(
    live: LiveServer, rt: Runtime, agent_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Connect an agent") :]
    code = section[section.index("```python\n") + 10 : section.index("```\n", 10)]
    assert len(code.strip().splitlines()) <= 10
    monkeypatch.setenv("AIRLOCK_AGENT_KEY", agent_key)
    printed: list[str] = []

    def reject_newest() -> None:
        def submitted() -> str | None:  # the README's agent may be slow to start on a busy box
            with rt.db.read() as session:
                return session.exec(select(Item.id)).first()

        newest = wait_for(submitted, timeout=20)
        decisions.reject(rt, newest, "U0ADMIN", "inaccurate", "wrong account")

    threading.Timer(1.0, reject_newest).start()
    namespace = {"print": lambda *args: printed.append(" ".join(map(str, args)))}
    exec(code.replace("http://127.0.0.1:3000", live.url), namespace)
    assert printed[0].startswith("submitted itm_") and printed[0].endswith("pending gate: rep")
    assert printed[1].startswith("rejected {") and "wrong account" in printed[1]


@pytest.mark.no_database
def test_client_builds_as_a_wheel(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(ROOT / "clients" / "python", source)
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path)]
    subprocess.run([*pip, str(source)], check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("airlock_client-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {"__init__.py", "client.py", "errors.py", "models.py", "py.typed"}
    assert {f"airlock_client/{m}" for m in modules} <= names
    assert not [n for n in names if not n.startswith(("airlock_client/", "airlock_client-"))]
