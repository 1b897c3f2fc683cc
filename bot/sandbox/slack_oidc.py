"""Sign in with Slack on the stand-in: /openid/connect/authorize, openid.connect.token, .userInfo.

As Slack documents it (docs.slack.dev "Sign in with Slack"; the discovery document at
https://slack.com/.well-known/openid-configuration: response type `code`, scopes openid, profile,
email, client_secret_post): authorize sends the browser back to `redirect_uri` with a one-time
`code` and the `state` it was given; `openid.connect.token` trades the code, with the client's id
and secret and the same redirect URI, for an access token (`invalid_code`, `bad_client_secret`,
`bad_redirect_uri` otherwise) and an `id_token`, a JWT whose claims name the issuer
(`https://slack.com`), the app (`aud`), the person and workspace (`https://slack.com/user_id`,
`https://slack.com/team_id`) and echo the `nonce` the authorize step was given (docs.slack.dev
"Sign in with Slack", the example id_token; openid.connect.token). Slack signs it RS256 with the
keys at /openid/connect/keys; the stand-in signs HS256 with the client secret (Airlock takes the
token from the token endpoint over TLS and does not check its signature, see
handlers/console_auth.py). `openid.connect.userInfo` answers who that token belongs to, with
`https://slack.com/user_id`. The stand-in has no Slack session cookie to know who is at the
browser, so authorize shows the workspace's members to pick from (the `stand_in_user` parameter).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlencode

import jwt

from bot.sandbox.slack_api import TEAM_ID, Body, Params, SlackApiFailure, SlackUser

METHODS = frozenset({"openid.connect.token", "openid.connect.userInfo"})
AUTHORIZE_PATH = "/openid/connect/authorize"


@dataclass(frozen=True)
class _Grant:
    user: str
    client_id: str
    redirect_uri: str
    nonce: str


@dataclass
class OidcProvider:
    """Registered clients, outstanding codes and issued tokens."""

    clients: dict[str, str] = field(default_factory=dict)  # client_id -> client_secret
    codes: dict[str, _Grant] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> user id
    # people signing in with an account of another workspace (user id -> team id)
    teams: dict[str, str] = field(default_factory=dict)

    def authorize(self, query: dict[str, str], users: dict[str, SlackUser]) -> tuple[int, str]:
        """(302, where to) with a code, or (200, a page to pick a member), or (400, why)."""
        client_id, redirect_uri = query.get("client_id", ""), query.get("redirect_uri", "")
        if client_id not in self.clients:
            return 400, "invalid_client_id"
        if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
            return 400, "invalid_scope: ask for response_type=code and the openid scope"
        user = users.get(query.get("stand_in_user", ""))
        if user is None or user.deleted:
            return 200, _picker(query, users)
        code = secrets.token_urlsafe(16)
        self.codes[code] = _Grant(user.id, client_id, redirect_uri, query.get("nonce", ""))
        answer = urlencode({"code": code, "state": query.get("state", "")})
        return 302, f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{answer}"

    def answer(self, method: str, params: Params, authorization: str | None,
               users: dict[str, SlackUser]) -> Body:  # fmt: skip
        """The Web API answer of one of METHODS; SlackApiFailure as Slack would refuse."""
        if method == "openid.connect.token":
            return self._token(params, users)
        token = (authorization or "").removeprefix("Bearer ").strip()
        user = users.get(self.tokens.get(token, ""))
        if user is None:
            raise SlackApiFailure("invalid_auth")
        return self._person(user.id, users) | {"email_verified": True}

    def _person(self, user_id: str, users: dict[str, SlackUser]) -> Body:
        user = users[user_id]
        return {
            "sub": user.id,
            "https://slack.com/user_id": user.id,
            "https://slack.com/team_id": self.teams.get(user.id, TEAM_ID),
            "email": user.email,
            "name": user.real_name,
        }

    def _token(self, params: Params, users: dict[str, SlackUser]) -> Body:
        client_id = str(params.get("client_id", ""))
        if client_id not in self.clients:
            raise SlackApiFailure("invalid_client_id")
        if not secrets.compare_digest(
            str(params.get("client_secret", "")), self.clients[client_id]
        ):
            raise SlackApiFailure("bad_client_secret")
        grant = self.codes.pop(str(params.get("code", "")), None)  # a code is used once
        if grant is None or grant.client_id != client_id:
            raise SlackApiFailure("invalid_code")
        if str(params.get("redirect_uri", "")) != grant.redirect_uri:
            raise SlackApiFailure("bad_redirect_uri")
        token = f"xoxp-oidc-{secrets.token_hex(12)}"
        self.tokens[token] = grant.user
        now = int(time.time())
        claims = {"iss": "https://slack.com", "aud": client_id, "iat": now, "exp": now + 3600}
        claims |= {"auth_time": now, "nonce": grant.nonce} | self._person(grant.user, users)
        id_token = jwt.encode(claims, self.clients[client_id], algorithm="HS256")
        return {"access_token": token, "token_type": "Bearer", "id_token": id_token,
                "expires_in": 43200}  # fmt: skip


def _as(query: dict[str, str], user: str) -> str:
    return AUTHORIZE_PATH + "?" + urlencode(query | {"stand_in_user": user})


def _picker(query: dict[str, str], users: dict[str, SlackUser]) -> str:
    rows = "".join(
        f'<li><a href="{escape(_as(query, u.id))}">{escape(u.real_name)} ({escape(u.id)})</a></li>'
        for u in sorted(users.values(), key=lambda u: u.real_name)
        if not u.deleted
    )
    return (
        "<!doctype html><title>Sign in with Slack (stand-in)</title>"
        f"<h1>Sign in with Slack (stand-in)</h1><p>Who is signing in?</p><ul>{rows}</ul>"
    )
