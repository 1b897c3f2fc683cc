"""MCP over streamable HTTP at /mcp: the agent key as Bearer, checked before the SDK sees a byte."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from anyio import to_thread
from fastapi import FastAPI
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bot.base.errors import Unauthorized
from bot.base.http_input import bearer
from bot.core.runtime import Runtime
from bot.reporting.agent_views import agent_of
from handlers.mcp import build_mcp

PATH = "/mcp"


class _Endpoint:
    """Refuses a request without a valid key (401, problem+json), hands the rest to the SDK."""

    def __init__(self, rt: Runtime, handle: Route) -> None:
        self.rt, self.handle = rt, handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = bearer(Request(scope).headers.get("authorization"))
        try:
            await to_thread.run_sync(agent_of, self.rt, token)
        except Unauthorized as exc:
            refusal = JSONResponse(
                {
                    "type": f"https://airlock.dev/problems/{exc.slug}",
                    "title": exc.title,
                    "status": 401,
                    "detail": exc.detail,
                },
                status_code=401,
                media_type="application/problem+json",
                headers={"WWW-Authenticate": 'Bearer realm="airlock"'},
            )
            await refusal(scope, receive, send)
            return
        await self.handle.app(scope, receive, send)


def mount_mcp(app: FastAPI, rt: Runtime) -> AbstractAsyncContextManager[None]:
    """Add /mcp to the app; returns what its lifespan must run while serving."""
    server = build_mcp(rt)
    sdk_app = server.streamable_http_app(
        streamable_http_path=PATH,
        # Stateless JSON: any replica can answer any request, no session affinity needed.
        stateless_http=True,
        json_response=True,
        max_request_body_size=rt.settings.max_body_bytes,
        # The SDK's DNS-rebinding guard allows loopback Host headers only; every request here
        # must carry an agent key, which a rebinding page cannot know, so the guard is off.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    sdk_route = next(r for r in sdk_app.routes if isinstance(r, Route) and r.path == PATH)
    app.router.routes.append(
        Route(PATH, _Endpoint(rt, sdk_route), methods=["GET", "POST", "DELETE"])
    )
    return server.session_manager.run()
