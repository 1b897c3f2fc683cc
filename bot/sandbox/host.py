"""What the sandbox pages need of the running service, so the sandbox never imports the service.

`bot.service.Service` is the one host: it mounts the sandbox, and it passes itself in.
"""

from __future__ import annotations

from typing import Protocol

from fastapi import FastAPI

from bot.core.runtime import Runtime
from bot.sandbox.boot import Sandbox


class HostWiring(Protocol):
    """The outside world of the host: the stand-ins and the secret Slack signs requests with."""

    @property
    def signing_secret(self) -> str: ...

    @property
    def sandbox(self) -> Sandbox: ...


class Host(Protocol):
    """The runtime, the outside world and the FastAPI app of the process the sandbox runs in."""

    @property
    def rt(self) -> Runtime: ...

    @property
    def integrations(self) -> HostWiring: ...

    @property
    def app(self) -> FastAPI: ...
