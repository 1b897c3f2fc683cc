"""Who is looking at /console: a signed session cookie, set by Sign in with Slack or the picker.

Production signs people in with Slack's OpenID Connect flow (docs.slack.dev "Sign in with Slack";
https://slack.com/.well-known/openid-configuration): a redirect to /openid/connect/authorize, the
code exchanged at `openid.connect.token` (client_secret_post), the person read from
`openid.connect.userInfo` (`https://slack.com/user_id`). The sandbox has no Slack app, so a picker
lists the seeded people instead. Either way the cookie carries only the Slack user id and an
expiry, MACed with HMAC-SHA256 under AIRLOCK_CONSOLE_SECRET; rights are read fresh per request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from bot.base.errors import Unauthorized

COOKIE = "airlock_console"
STATE_COOKIE = "airlock_console_state"
SESSION_SECONDS = 8 * 3600
CALLBACK = "/console/auth/callback"


class Signer:
    """HMAC-SHA256 over a small JSON body; refuses anything altered or expired."""

    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def issue(self, user: str, now: float | None = None, ttl: int = SESSION_SECONDS) -> str:
        """A cookie value naming `user` until `ttl` seconds from now."""
        body = json.dumps({"u": user, "exp": int((now or time.time()) + ttl)}).encode()
        payload = base64.urlsafe_b64encode(body).decode().rstrip("=")
        return f"{payload}.{self._mac(payload)}"

    def read(self, value: str | None, now: float | None = None) -> str | None:
        """The user a cookie names, or None if it is missing, altered or expired."""
        if not value or "." not in value:
            return None
        payload, mac = value.rsplit(".", 1)
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        try:
            body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            return None
        if not isinstance(body, dict) or body.get("exp", 0) < (now or time.time()):
            return None
        user = body.get("u")
        return user if isinstance(user, str) and user else None

    def _mac(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Oidc:
    """A Slack app's Sign in with Slack credentials and where Slack answers."""

    client_id: str
    client_secret: str
    api_url: str  # the Web API base, e.g. https://slack.com/api/

    @property
    def authorize_url(self) -> str:
        """/openid/connect/authorize on the host serving the Web API."""
        return self.api_url.rstrip("/").removesuffix("/api") + "/openid/connect/authorize"

    def redirect(self, redirect_uri: str, state: str, nonce: str) -> str:
        """Where to send the browser to sign in."""
        query = {
            "response_type": "code",
            "scope": "openid profile email",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "nonce": nonce,
        }
        return f"{self.authorize_url}?{urlencode(query)}"

    def user_of(self, code: str, redirect_uri: str) -> str:
        """Exchange the code and read the person's Slack user id; Unauthorized if Slack says no."""
        with httpx.Client(base_url=self.api_url, timeout=10, trust_env=False) as http:
            token = http.post(
                "openid.connect.token",
                data={
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "grant_type": "authorization_code",
                },
            ).json()
            if not token.get("ok"):
                raise Unauthorized(f"Slack refused the sign-in: {token.get('error', 'error')}")
            info = http.post(
                "openid.connect.userInfo",
                headers={"Authorization": f"Bearer {token['access_token']}"},
            ).json()
        user = info.get("https://slack.com/user_id") if info.get("ok") else None
        if not user:
            raise Unauthorized(f"Slack did not say who signed in: {info.get('error', 'no user')}")
        return str(user)


def new_state() -> str:
    """An unguessable value tying the callback to the browser that started the sign-in."""
    return secrets.token_urlsafe(24)
