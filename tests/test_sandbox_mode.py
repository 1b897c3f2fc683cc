"""Sandbox mode is explicit (AIRLOCK_SANDBOX), never beside a real service, and loopback only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.base.config import ConfigError, Settings
from bot.sandbox.boot import check_sandbox
from bot.sandbox.live import free_port

REAL_SALESFORCE = {
    "SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com",
    "SALESFORCE_ACCESS_TOKEN": "00Dx!token",
}
REAL_SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}


def settings(**env: str) -> Settings:
    return Settings(_env_file=None, **env)  # type: ignore[arg-type]


def test_auto_sandbox_only_when_nothing_is_configured() -> None:
    assert settings().sandbox_active
    assert settings().slack_sandbox and settings().salesforce_sandbox
    only_salesforce = settings(**REAL_SALESFORCE)
    assert not only_salesforce.sandbox_active and not only_salesforce.slack_sandbox
    with pytest.raises(ConfigError, match=r"Slack \(SLACK_BOT_TOKEN.*AIRLOCK_SANDBOX=on"):
        check_sandbox(only_salesforce, "127.0.0.1")
    with pytest.raises(ConfigError, match=r"Salesforce \(SALESFORCE_INSTANCE_URL"):
        check_sandbox(settings(**REAL_SLACK), "127.0.0.1")
    check_sandbox(settings(**REAL_SLACK, **REAL_SALESFORCE), "0.0.0.0")


def test_sandbox_refused_on_a_reachable_host() -> None:
    for host in ("0.0.0.0", "10.1.2.3", "::"):
        with pytest.raises(ConfigError, match="only on loopback"):
            check_sandbox(settings(), host)
        with pytest.raises(ConfigError, match="only on loopback"):
            check_sandbox(settings(AIRLOCK_SANDBOX="on", **REAL_SALESFORCE), host)
    check_sandbox(settings(), "127.0.0.1")
    on = settings(AIRLOCK_SANDBOX="on", **REAL_SALESFORCE)
    assert on.slack_sandbox and not on.salesforce_sandbox
    check_sandbox(on, "127.0.0.1")


def test_sandbox_off_needs_both_services() -> None:
    off = settings(AIRLOCK_SANDBOX="off")
    assert not off.slack_sandbox and not off.salesforce_sandbox
    with pytest.raises(ConfigError, match="AIRLOCK_SANDBOX=off runs no stand-ins"):
        check_sandbox(off, "127.0.0.1")


def test_sandbox_value_checked() -> None:
    from bot.base.config import load_settings

    with pytest.raises(ConfigError, match="AIRLOCK_SANDBOX"):
        load_settings(_env_file=None, AIRLOCK_SANDBOX="maybe")


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({}, "only on loopback"),
        (REAL_SALESFORCE, "Slack (SLACK_BOT_TOKEN"),
    ],
)
def test_serve_refuses_sandbox_on_all_interfaces(
    database_url: str, workflows_dir: Path, tmp_path: Path, env: dict[str, str], words: str
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SALESFORCE_"))}
    clean |= {"DATABASE_URL": database_url, "AIRLOCK_WORKFLOWS": str(workflows_dir)} | env
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--host", "0.0.0.0"],
        env=clean | {"PORT": str(free_port())},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert words in result.stderr
