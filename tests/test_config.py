"""Settings: defaults, parsing, and errors that name the variable to set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.base.config import ConfigError, Settings, load_settings

OURS = ("SLACK_", "SALESFORCE_", "AIRLOCK_")
PLAIN = {"DATABASE_URL", "PORT"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No variable or .env file of the developer leaks into these tests."""
    for name in list(os.environ):
        if name.upper().startswith(OURS) or name.upper() in PLAIN:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def load() -> Settings:
    return load_settings(_env_file=None)


def config_error() -> str:
    with pytest.raises(ConfigError) as info:
        load()
    return str(info.value)


def test_load_settings_defaults() -> None:
    settings = load()
    assert settings.database_url == "sqlite:///airlock.db"
    assert settings.workflows_dir == Path("./workflows")
    assert settings.admins == frozenset()
    assert settings.port == 3000
    assert settings.tick_seconds == 5.0
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.salesforce_login_url == "https://login.salesforce.com"
    assert settings.salesforce_api_version == "62.0"
    assert settings.slack_sandbox and settings.salesforce_sandbox


def test_load_settings_reads_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=8123\nAIRLOCK_ADMINS=U0DOT\n", encoding="utf-8")
    settings = load_settings()
    assert settings.port == 8123
    assert settings.admins == frozenset({"U0DOT"})


def test_load_settings_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("AIRLOCK_WORKFLOWS", str(tmp_path / "wf"))
    monkeypatch.setenv("AIRLOCK_TICK_SECONDS", "0.5")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:p@db/airlock")
    settings = load()
    assert settings.port == 8080
    assert settings.workflows_dir == tmp_path / "wf"
    assert settings.tick_seconds == 0.5
    assert settings.database_url == "postgresql+psycopg://u:p@db/airlock"


@pytest.mark.parametrize(
    ("raw", "admins"),
    [
        ("U0ADMIN", {"U0ADMIN"}),
        ("U1,U2", {"U1", "U2"}),
        (" U1 , U2 ,, U3 ,", {"U1", "U2", "U3"}),
        (" , ", set()),
    ],
)
def test_load_settings_admins(monkeypatch: pytest.MonkeyPatch, raw: str, admins: set[str]) -> None:
    monkeypatch.setenv("AIRLOCK_ADMINS", raw)
    assert load().admins == frozenset(admins)


@pytest.mark.parametrize("port", ["http", "0", "70000", "-1"])
def test_load_settings_invalid_port(monkeypatch: pytest.MonkeyPatch, port: str) -> None:
    monkeypatch.setenv("PORT", port)
    message = config_error()
    assert message.startswith("invalid configuration:")
    assert "PORT:" in message


def test_load_settings_invalid_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRLOCK_TICK_SECONDS", "0")
    assert "AIRLOCK_TICK_SECONDS:" in config_error()


def test_load_settings_slack_token_needs_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    message = config_error()
    assert "SLACK_SIGNING_SECRET" in message
    assert "SLACK_BOT_TOKEN is set" in message


def test_load_settings_slack_http_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s3cret")
    settings = load()
    assert not settings.slack_sandbox
    assert settings.slack_signing_secret == "s3cret"


def test_load_settings_slack_socket_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-abc")
    assert load().slack_app_token == "xapp-1-abc"


def test_load_settings_slack_app_token_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-wrong")
    assert "SLACK_APP_TOKEN must be an app-level token" in config_error()


def test_load_settings_salesforce_needs_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESFORCE_INSTANCE_URL", "https://acme.my.salesforce.com")
    message = config_error()
    for name in (
        "SALESFORCE_ACCESS_TOKEN",
        "SALESFORCE_USERNAME",
        "SALESFORCE_CONSUMER_KEY",
        "SALESFORCE_PRIVATE_KEY_FILE",
    ):
        assert name in message


def test_load_settings_salesforce_partial_jwt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESFORCE_INSTANCE_URL", "https://acme.my.salesforce.com")
    monkeypatch.setenv("SALESFORCE_USERNAME", "bot@acme.example")
    assert "no credentials" in config_error()


def test_load_settings_salesforce_access_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESFORCE_INSTANCE_URL", "http://127.0.0.1:9999")
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", "00D!token")
    settings = load()
    assert not settings.salesforce_sandbox
    assert settings.salesforce_instance_url == "http://127.0.0.1:9999"


def test_load_settings_salesforce_jwt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key = tmp_path / "server.key"
    key.write_text("-----BEGIN PRIVATE KEY-----\n", encoding="utf-8")
    monkeypatch.setenv("SALESFORCE_INSTANCE_URL", "https://acme.my.salesforce.com")
    monkeypatch.setenv("SALESFORCE_USERNAME", "bot@acme.example")
    monkeypatch.setenv("SALESFORCE_CONSUMER_KEY", "3MVG9")
    monkeypatch.setenv("SALESFORCE_PRIVATE_KEY_FILE", str(key))
    assert load().salesforce_private_key_file == key
    key.unlink()
    assert "SALESFORCE_PRIVATE_KEY_FILE=" in config_error()


def test_load_settings_salesforce_url_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESFORCE_INSTANCE_URL", "acme.my.salesforce.com")
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", "00D!token")
    assert "SALESFORCE_INSTANCE_URL must start with https://" in config_error()


@pytest.mark.parametrize("url", ["mysql://u@db/airlock", "airlock.db", "postgres://u@db/x"])
def test_load_settings_bad_database_url(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    message = config_error()
    assert "DATABASE_URL must be a sqlite:/// or postgresql:// SQLAlchemy URL" in message
    assert repr(url) in message


def test_load_settings_app_token_needs_bot_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-abc")
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not"):
        load_settings(_env_file=None)
