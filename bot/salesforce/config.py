"""How to reach a Salesforce org: the client configuration, read from the SALESFORCE_* settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.base.config import ConfigError, Settings

TOKEN_PATH = "/services/oauth2/token"


@dataclass(frozen=True)
class SalesforceConfig:
    """How to reach Salesforce: an access token, the JWT bearer flow, or both (JWT re-auths).

    After a JWT login the instance URL the login answers replaces `instance_url`.
    """

    instance_url: str
    api_version: str = "62.0"
    access_token: str | None = None
    username: str | None = None
    consumer_key: str | None = None
    private_key_file: str | Path | None = None
    login_url: str = "https://login.salesforce.com"
    timeout: float = 10.0
    jwt_audience: str | None = None  # the JWT `aud`; default login_url
    token_url: str | None = None  # where the token is requested; default login_url

    @property
    def audience(self) -> str:
        """The JWT `aud` claim: SALESFORCE_JWT_AUDIENCE, else the login URL."""
        return self.jwt_audience or self.login_url

    @property
    def token_endpoint(self) -> str:
        """The OAuth token endpoint: on SALESFORCE_TOKEN_URL's host, else the login URL's."""
        base = (self.token_url or self.login_url).rstrip("/")
        return base if base.endswith(TOKEN_PATH) else base + TOKEN_PATH

    @property
    def can_login(self) -> bool:
        """True when the JWT bearer flow is configured (so a rejected token can be replaced)."""
        return bool(self.username and self.consumer_key and self.private_key_file)


def config_from_settings(settings: Settings, timeout: float = 10.0) -> SalesforceConfig:
    """The client configuration from the SALESFORCE_* settings (access token and/or JWT)."""
    if not settings.salesforce_instance_url:
        raise ConfigError(
            "SALESFORCE_INSTANCE_URL is not set: set it (with SALESFORCE_ACCESS_TOKEN or the JWT "
            "settings) to reach an org, or leave it unset to run on the local stand-in"
        )
    key_file = settings.salesforce_private_key_file
    return SalesforceConfig(
        instance_url=settings.salesforce_instance_url,
        api_version=settings.salesforce_api_version,
        access_token=settings.salesforce_access_token,
        username=settings.salesforce_username,
        consumer_key=settings.salesforce_consumer_key,
        private_key_file=key_file,
        login_url=settings.salesforce_login_url,
        timeout=timeout,
        jwt_audience=settings.salesforce_jwt_audience,
        token_url=settings.salesforce_token_url,
    )
