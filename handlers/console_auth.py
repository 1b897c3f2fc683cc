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
import jwt

from bot.base.errors import Forbidden, Unauthorized

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


ISSUER = "https://slack.com"  # the discovery document's `issuer`
TEAM_CLAIM = "https://slack.com/team_id"


@dataclass
class Oidc:
    """A Slack app's Sign in with Slack credentials and where Slack answers.

    Only members of the workspace Airlock is installed in may sign in: Sign in with Slack signs
    in anyone with a Slack account, so the id_token's `https://slack.com/team_id` must be the
    workspace the bot token belongs to (`auth.test`, read once). The id_token's `nonce` must be
    the one this browser's sign-in sent (OpenID Connect Core 1.0, 3.1.3.7 and 15.5.2). The token
    comes straight from Slack's token endpoint over TLS, which that section accepts instead of
    checking its RS256 signature against Slack's keys.
    """

    client_id: str
    client_secret: str
    api_url: str  # the Web API base, e.g. https://slack.com/api/
    bot_token: str = ""
    team_id: str | None = None  # the installed workspace, once auth.test said it

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

    def user_of(self, code: str, redirect_uri: str, nonce: str) -> str:
        """Exchange the code and read the person's Slack user id; Unauthorized if Slack says no,
        the id_token is not for this sign-in, or the person is from another workspace."""
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
            claims = self._claims(str(token.get("id_token") or ""), nonce)
            self._same_workspace(http, claims.get(TEAM_CLAIM))
            info = http.post(
                "openid.connect.userInfo",
                headers={"Authorization": f"Bearer {token['access_token']}"},
            ).json()
        user = info.get("https://slack.com/user_id") if info.get("ok") else None
        if not user or user != claims.get("https://slack.com/user_id"):
            raise Unauthorized(f"Slack did not say who signed in: {info.get('error', 'no user')}")
        return str(user)

    def _claims(self, id_token: str, nonce: str) -> dict[str, object]:
        try:
            claims = jwt.decode(
                id_token,
                options={"verify_signature": False},
                audience=self.client_id,
                issuer=ISSUER,
                algorithms=["RS256", "HS256"],
            )
        except jwt.PyJWTError as error:
            raise Unauthorized(f"Slack's id_token is not for this app: {error}") from None
        if not nonce or not secrets.compare_digest(str(claims.get("nonce") or ""), nonce):
            raise Unauthorized("the sign-in answer belongs to another sign-in (nonce): try again")
        return dict(claims)

    def _same_workspace(self, http: httpx.Client, team: object) -> None:
        if self.team_id is None:
            found = http.post(
                "auth.test", headers={"Authorization": f"Bearer {self.bot_token}"}
            ).json()
            if not found.get("ok"):
                error = found.get("error", "error")
                raise Unauthorized(f"cannot tell which workspace Airlock is in: auth.test {error}")
            self.team_id = str(found["team_id"])
        if team != self.team_id:
            raise Forbidden(
                f"you signed in with a Slack account of workspace {team}; the console is for "
                f"members of workspace {self.team_id}, where Airlock is installed"
            )


def new_state() -> str:
    """An unguessable value tying the callback to the browser that started the sign-in."""
    return secrets.token_urlsafe(24)
