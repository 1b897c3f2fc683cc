"""Shared fixtures: a fresh database per test (SQLite, or PostgreSQL when
AIRLOCK_TEST_DATABASE_URL is set), the runtime, and a real uvicorn server on a free port."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.base.config import Settings
from bot.base.db import Database
from bot.core.outbox import OutboxWorker
from bot.core.runtime import Runtime, open_runtime
from bot.salesforce.client import SalesforceClient
from bot.sandbox.live import LiveServer
from bot.sandbox.live import free_port as free_port  # tests import it from here
from bot.sandbox.salesforce_standin import SalesforceStandin
from bot.sandbox.slack_blockkit import CHECKED, VIOLATIONS
from bot.service import Service, build_service
from tests.slack_driver import SlackDriver
from tests.writeback_support import sf_client, write_worker

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("AIRLOCK_TEST_DATABASE_URL")


@pytest.fixture(autouse=True)
def _no_real_services(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's Slack or Salesforce credentials."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "SALESFORCE_")) or name in {"DATABASE_URL", "PORT"}:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _slack_payloads_valid(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every message and view the suite sends the Slack stand-in passes Slack's own checks.

    The stand-in validates each payload with slack_sdk's Block Kit models and the documented
    limits, and records each refusal; a test that provokes refusals on purpose is marked
    `slack_violations` and its refusals are not counted.
    """
    before = len(VIOLATIONS)
    yield
    new = VIOLATIONS[before:]
    if request.node.get_closest_marker("slack_violations"):
        del VIOLATIONS[before:]
        return
    assert not new, f"the Slack stand-in refused payloads this test produced: {new}"


# Lines a test wants in CI's log even under `pytest -q` (e.g. the fuzz run's figures).
FIGURES: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line(
        f"Slack stand-in: {CHECKED[0]} messages and views validated, "
        f"{len(VIOLATIONS)} refused outside tests that provoke refusals"
    )
    for line in FIGURES:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def _migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database migrated to head per test session, the template of every test's database:
    running the migrations for each test cost about 0.1 s on SQLite and 0.25 s on PostgreSQL."""
    if not PG_URL:
        path = tmp_path_factory.mktemp("template") / "airlock.db"
        _upgrade(f"sqlite:///{path}")
        yield str(path)
        return
    name = f"airlock_tpl_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    _upgrade(PG_URL.rsplit("/", 1)[0] + f"/{name}")  # disposed: a template must have no sessions
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _upgrade(url: str) -> None:
    db = Database(url, None)
    db.upgrade()
    db.dispose()


@pytest.fixture
def database_url(tmp_path: Path, _migrated: str) -> Iterator[str]:
    """A database nobody else uses, already migrated: a copy of the session's migrated SQLite
    file, or a fresh PostgreSQL database made from the session's migrated template."""
    if not PG_URL:
        shutil.copyfile(_migrated, tmp_path / "airlock.db")
        yield f"sqlite:///{tmp_path / 'airlock.db'}"
        return
    name = f"airlock_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_migrated}"'))
    yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def workflows_dir(tmp_path: Path) -> Path:
    """A private copy of the example workflows, free to edit in a test."""
    target = tmp_path / "workflows"
    shutil.copytree(ROOT / "workflows", target)
    return target


@pytest.fixture
def settings(database_url: str, workflows_dir: Path) -> Settings:
    """Settings for a test: sandbox Slack and Salesforce, fast ticks."""
    return Settings(
        _env_file=None,
        DATABASE_URL=database_url,
        AIRLOCK_WORKFLOWS=workflows_dir,
        AIRLOCK_ADMINS="U0ADMIN",
        AIRLOCK_TICK_SECONDS=0.2,
    )


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    """A migrated runtime with the example workflows registered."""
    runtime = open_runtime(settings)
    yield runtime
    runtime.db.dispose()


@pytest.fixture
def service(settings: Settings, rt: Runtime) -> Iterator[Service]:
    """The full service (app, workers, sandbox Slack and Salesforce), not yet serving."""
    svc = build_service(settings, rt)
    yield svc
    svc.stop()


@pytest.fixture
def live(service: Service) -> Iterator[LiveServer]:
    """The service over real HTTP."""
    with LiveServer(service.app) as server:
        yield server


@pytest.fixture
def slack(live: LiveServer, service: Service) -> Iterator[SlackDriver]:
    """Signed Slack requests to the live server, and the Slack stand-in behind it."""
    driver = SlackDriver(live.url, service)
    yield driver
    driver.http.close()


# The Salesforce side of write-back tests: the stand-in org, a JWT client of it, and a write-back
# worker over both (a module that needs another shape defines its own fixture of the same name).
@pytest.fixture
def standin() -> Iterator[SalesforceStandin]:
    with SalesforceStandin() as running:
        yield running


@pytest.fixture
def client(standin: SalesforceStandin) -> Iterator[SalesforceClient]:
    sf = sf_client(standin)
    yield sf
    sf.close()


@pytest.fixture
def worker(rt: Runtime, client: SalesforceClient) -> OutboxWorker:
    return write_worker(rt, client)


@pytest.fixture
def agent_key(rt: Runtime) -> str:
    """A key scoped to every example workflow."""
    from bot.core import keys

    with rt.db.write() as session:
        _row, secret = keys.create_key(session, agent="test-agent", workflows=["*"])
    return secret


@pytest.fixture
def api(live: LiveServer, agent_key: str) -> Iterator[httpx.Client]:
    """An HTTP client authenticated as the test agent."""
    with httpx.Client(
        base_url=live.url,
        headers={"Authorization": f"Bearer {agent_key}"},
        timeout=10,
        trust_env=False,
    ) as client:
        yield client


# Modules whose tests reason about dates, hours and time zones, in process. CI runs them a second
# time under a shifted clock (a Sunday night in a DST-change week, see .ci/run), so a test that
# depends on the real date fails the day it is written. Live-server tests are not listed: the
# clock shim breaks threads' monotonic sleeps, not Airlock.
CLOCK_MODULES = frozenset(
    {
        "test_autonomy",
        "test_blocks",
        "test_directory",
        "test_autonomy_evidence",
        "test_lifecycle",
        "test_outcomes",
        "test_outbox",
        "test_pause_timers",
        "test_quiet",
        "test_report",
        "test_rubber_stamp",
        "test_snooze",
        "test_spec_bound",
        "test_timers",
        "test_writeback_failures",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _keep_shard(config, items, os.environ.get("AIRLOCK_TEST_SHARD", ""))
    once = pytest.mark.skip(reason="uses no database: the SQLite run covers it")
    for item in items:
        if PG_URL and item.get_closest_marker("no_database"):
            item.add_marker(once)
        # The clock shim also bends threads' timed waits: tests that race threads on
        # sub-second real timeouts (marked real_time) only run on the real clock.
        if item.path.stem in CLOCK_MODULES and not item.get_closest_marker("real_time"):
            item.add_marker(pytest.mark.clock)


def _keep_shard(config: pytest.Config, items: list[pytest.Item], shard: str) -> None:
    """AIRLOCK_TEST_SHARD=K/N keeps every Nth test from the Kth: N runs side by side cover the
    suite once (CI splits the PostgreSQL run, which mostly waits on the server, in two)."""
    if not shard:
        return
    k, _, n = shard.partition("/")
    if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise pytest.UsageError(f"AIRLOCK_TEST_SHARD={shard!r}: write K/N, e.g. 1/2, with K <= N")
    picked = {i: item for i, item in enumerate(items) if i % int(n) == int(k) - 1}
    config.hook.pytest_deselected(items=[it for i, it in enumerate(items) if i not in picked])
    items[:] = list(picked.values())
