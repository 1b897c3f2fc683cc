"""`airlock outbox`: side effects not getting delivered, listed and requeued."""

from __future__ import annotations

from typing import Annotated

import typer

outbox_app = typer.Typer(
    help="Side effects not getting delivered: list them, requeue them.",
    invoke_without_command=True,
)


@outbox_app.callback()
def outbox(ctx: typer.Context) -> None:
    """List stuck and dead outbox rows per kind (the same as `airlock outbox list`)."""
    if ctx.invoked_subcommand is None:
        outbox_list()


@outbox_app.command("list")
def outbox_list() -> None:
    """List stuck (failing, still retrying) and dead (given up) rows per kind."""
    from bot.cli_common import _migrated_db, _settings
    from bot.core.outbox_admin import render, stuck_rows

    typer.echo(render(stuck_rows(_migrated_db(_settings()))))


@outbox_app.command("retry")
def outbox_retry(
    kind: Annotated[str, typer.Option(help="Only this kind, e.g. salesforce.write.")] = "",
    item: Annotated[str, typer.Option(help="Only this item's rows.")] = "",
) -> None:
    """Requeue stuck and dead rows now, with a fresh attempt budget; audited on each item."""
    from bot.cli_common import _migrated_db, _settings
    from bot.core.outbox_admin import requeue

    rows = requeue(_migrated_db(_settings()), kind=kind or None, item_id=item or None)
    for row in rows:
        typer.echo(f"requeued #{row.id} {row.kind} {row.item_id or row.workflow_id or ''}")
    typer.echo(f"{len(rows)} row(s) requeued")
