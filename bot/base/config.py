"""Typed settings, read once from the environment and `.env`."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.base.spec_model import parse_duration


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the variable and what to set."""


class Settings(BaseSettings):
    """Every knob Airlock reads; the names are a contract users rely on (README, Configuration)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: str = Field("sqlite:///airlock.db", alias="DATABASE_URL")
    workflows_dir: Path = Field(Path("./workflows"), alias="AIRLOCK_WORKFLOWS")
    admins_csv: str = Field("", alias="AIRLOCK_ADMINS")
    port: int = Field(3000, alias="PORT", ge=1, le=65535)
    tick_seconds: float = Field(5.0, alias="AIRLOCK_TICK_SECONDS", gt=0)
    max_body_bytes: int = Field(256 * 1024, alias="AIRLOCK_MAX_BODY_BYTES", ge=1024)
    workers: bool = Field(True, alias="AIRLOCK_WORKERS")
    # How long an outbox row may wait out an outage (limits, 5xx, timeouts) before it is given up.
    outbox_give_up_after: timedelta = Field(timedelta(days=3), alias="AIRLOCK_OUTBOX_GIVE_UP_AFTER")
    # Stand-ins for Slack and Salesforce: `auto` only when neither is configured (and only ever on
    # loopback, see bot/sandbox/boot.py); never silently beside a real service.
    sandbox: Literal["auto", "on", "off"] = Field("auto", alias="AIRLOCK_SANDBOX")
    # Signs audit checkpoints; keep it outside the database (a secret store, the environment).
    audit_key: SecretStr | None = Field(None, alias="AIRLOCK_AUDIT_KEY")
    # Signs outbound agent events (Standard Webhooks, `whsec_` + base64); a workflow may name
    # another variable in its spec's `callback_secret_env`.
    webhook_secret: SecretStr | None = Field(None, alias="AIRLOCK_WEBHOOK_SECRET")
    # The agent key `airlock mcp` (stdio) acts as; over HTTP each request brings its own.
    agent_key: SecretStr | None = Field(None, alias="AIRLOCK_AGENT_KEY")

    slack_bot_token: str | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")
    # Sign in with Slack (OpenID Connect) for /console: the app's Basic Information credentials.
    slack_client_id: str | None = Field(None, alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(None, alias="SLACK_CLIENT_SECRET")
    # Signs /console session cookies (HMAC-SHA256); the sandbox makes one up per process.
    console_secret: SecretStr | None = Field(None, alias="AIRLOCK_CONSOLE_SECRET")

    salesforce_instance_url: str | None = Field(None, alias="SALESFORCE_INSTANCE_URL")
    salesforce_access_token: str | None = Field(None, alias="SALESFORCE_ACCESS_TOKEN")
    salesforce_username: str | None = Field(None, alias="SALESFORCE_USERNAME")
    salesforce_consumer_key: str | None = Field(None, alias="SALESFORCE_CONSUMER_KEY")
    salesforce_private_key_file: Path | None = Field(None, alias="SALESFORCE_PRIVATE_KEY_FILE")
    salesforce_login_url: str = Field("https://login.salesforce.com", alias="SALESFORCE_LOGIN_URL")
    salesforce_api_version: str = Field("62.0", alias="SALESFORCE_API_VERSION")
    # JWT `aud` apart from where the token is requested (My Domain, External Client Apps)
    salesforce_jwt_audience: str | None = Field(None, alias="SALESFORCE_JWT_AUDIENCE")
    salesforce_token_url: str | None = Field(None, alias="SALESFORCE_TOKEN_URL")
    # above this share of the org's daily API requests in use, write-backs wait
    salesforce_api_usage_ceiling: float = Field(
        0.9, alias="SALESFORCE_API_USAGE_CEILING", gt=0, le=1
    )

    @field_validator("outbox_give_up_after", mode="before")
    @classmethod
    def _duration(cls, value: object) -> timedelta:
        return parse_duration(value)

    @property
    def admins(self) -> frozenset[str]:
        """Slack user ids with admin rights."""
        return frozenset(a.strip() for a in self.admins_csv.split(",") if a.strip())

    @property
    def audit_key_value(self) -> str | None:
        """The checkpoint signing key, or None when unset."""
        return self.audit_key.get_secret_value() if self.audit_key else None

    def webhook_secret_for(self, env_name: str | None) -> str | None:
        """The signing secret of a workflow: its `callback_secret_env`, else the global one."""
        if env_name:
            # Read like the settings themselves: the environment first, then `.env`.
            return os.environ.get(env_name) or dotenv_values(".env").get(env_name)
        return self.webhook_secret.get_secret_value() if self.webhook_secret else None

    @property
    def sandbox_active(self) -> bool:
        """Stand-ins may run: AIRLOCK_SANDBOX=on, or auto with neither service configured."""
        if self.sandbox == "auto":
            return not self.slack_bot_token and not self.salesforce_instance_url
        return self.sandbox == "on"

    @property
    def slack_sandbox(self) -> bool:
        """Slack runs on the local stand-in (sandbox mode, no Slack credentials)."""
        return self.sandbox_active and not self.slack_bot_token

    @property
    def salesforce_sandbox(self) -> bool:
        """Salesforce runs on the local stand-in (sandbox mode, no org configured)."""
        return self.sandbox_active and not self.salesforce_instance_url

    def missing_services(self) -> list[str]:
        """What `airlock serve` needs but has neither configured nor a stand-in for."""
        missing = []
        if not self.slack_bot_token and not self.slack_sandbox:
            missing.append("Slack (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET)")
        if not self.salesforce_instance_url and not self.salesforce_sandbox:
            missing.append("Salesforce (SALESFORCE_INSTANCE_URL and its credentials)")
        return missing

    @model_validator(mode="after")
    def _check_pairs(self) -> Self:
        if self.slack_bot_token and not (self.slack_signing_secret or self.slack_app_token):
            raise ValueError(
                "SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not: set the signing secret "
                "from your Slack app's Basic Information page (or SLACK_APP_TOKEN for Socket Mode)"
            )
        if self.slack_app_token and not self.slack_bot_token:
            raise ValueError(
                "SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not: Socket Mode also needs the "
                "bot token (xoxb-...) from OAuth & Permissions"
            )
        if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
            raise ValueError("SLACK_APP_TOKEN must be an app-level token starting with 'xapp-'")
        if self.salesforce_instance_url:
            self._check_salesforce()
        if not self.database_url.split(":", 1)[0].startswith(("sqlite", "postgresql")):
            raise ValueError(
                "DATABASE_URL must be a sqlite:/// or postgresql:// SQLAlchemy URL, "
                f"got {self.database_url!r}"
            )
        return self

    def _check_salesforce(self) -> None:
        url = self.salesforce_instance_url or ""
        if not url.startswith(("https://", "http://")):
            raise ValueError(
                "SALESFORCE_INSTANCE_URL must start with https:// (or http:// locally)"
            )
        for name, value in (
            ("SALESFORCE_LOGIN_URL", self.salesforce_login_url),
            ("SALESFORCE_TOKEN_URL", self.salesforce_token_url),
        ):
            if value and not value.startswith(("https://", "http://")):
                raise ValueError(
                    f"{name} must be a URL starting with https://, e.g. "
                    "https://login.salesforce.com or https://yourcompany.my.salesforce.com"
                )
        jwt = [self.salesforce_username, self.salesforce_consumer_key]
        if self.salesforce_access_token:
            return
        if all(jwt) and self.salesforce_private_key_file:
            if not self.salesforce_private_key_file.is_file():
                raise ValueError(
                    f"SALESFORCE_PRIVATE_KEY_FILE={self.salesforce_private_key_file} is not a "
                    "readable file: point it at the PEM private key of your connected app"
                )
            return
        raise ValueError(
            "SALESFORCE_INSTANCE_URL is set but no credentials: set SALESFORCE_ACCESS_TOKEN, or "
            "SALESFORCE_USERNAME, SALESFORCE_CONSUMER_KEY and SALESFORCE_PRIVATE_KEY_FILE (JWT)"
        )


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning validation errors into one readable ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            names = [str(p) for p in err.get("loc", ())]
            where = ", ".join(_env_name(n) for n in names) if names else "configuration"
            lines.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None


def _env_name(field: str) -> str:
    info = Settings.model_fields.get(field)
    return (info.alias if info and info.alias else field).upper()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide Settings, loaded once."""
    return load_settings()
