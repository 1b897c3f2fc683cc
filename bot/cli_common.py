"""What the `airlock` command modules share: settings, a migrated database, a runtime.

Kept apart from bot/cli.py so the command modules (cli_specs, cli_outbox, cli_report) use them
without importing the entry point.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from bot.base.config import ConfigError, Settings, load_settings
from bot.base.db import Database
from bot.base.specs import SpecError

if TYPE_CHECKING:
    from bot.core.runtime import Runtime


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        typer.echo(f"airlock: {exc}", err=True)
        raise typer.Exit(2) from None


def _migrated_db(settings: Settings) -> Database:
    db = Database(settings.database_url, settings.audit_key_value)
    db.upgrade()
    return db


def _open(opener: Callable[[Settings], Runtime]) -> Runtime:
    try:
        return opener(_settings())
    except SpecError as exc:
        typer.echo("airlock: invalid workflow specs:\n  " + "\n  ".join(exc.errors), err=True)
        raise typer.Exit(2) from None
