"""`airlock revert ITEM`: undo a write from the shell. Registered on the main app by bot/cli.py."""

from __future__ import annotations

from typing import Annotated

import typer

# Whoever runs the CLI holds the database and the deployment: they act as an admin.
CLI_ACTOR = "cli"


def revert(
    item_id: Annotated[str, typer.Argument(help="Item id, e.g. itm_01...")],
    reason: Annotated[str, typer.Option(help="Why, kept in the audit trail.")] = "",
) -> None:
    """Undo an item's write: Salesforce gets back the values it held before (a running
    `airlock serve` writes them; fields changed since are left alone)."""
    from bot.cli_common import _open
    from bot.core.runtime import open_runtime
    from bot.core.undo import request_undo

    rt = _open(open_runtime)
    request_undo(rt, item_id, CLI_ACTOR, reason or None, as_admin=True)
    typer.echo(f"revert of {item_id} queued; `airlock trace {item_id}` shows what was restored")
