"""The `airlock` command: serve, database, workflows, keys, trace, audit and outbox."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError

from bot import cli_mcp
from bot.base import eventlog
from bot.base.config import ConfigError
from bot.base.errors import AirlockError
from bot.base.specs import SpecError
from bot.cli_common import _migrated_db, _settings
from bot.cli_evidence import evidence_app
from bot.cli_outbox import outbox_app
from bot.cli_outcomes import outcomes
from bot.cli_report import export_evals, report
from bot.cli_revert import revert
from bot.cli_specs import keys_app, workflows_app

app = typer.Typer(
    help="Airlock: runtime controls for AI agents in sales teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(workflows_app, name="workflows")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(outbox_app, name="outbox")
app.add_typer(evidence_app, name="evidence")
app.command("mcp")(cli_mcp.mcp)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "",
) -> None:
    """Run the HTTP server, workers and scheduler (sandbox stand-ins when unconfigured)."""
    import uvicorn

    from bot.base.http_server import server_config
    from bot.listen import listening_socket
    from bot.sandbox.boot import WARNING, check_sandbox
    from bot.sandbox.session import banner, sandbox_settings, start_session
    from bot.service import build_service

    settings = sandbox_settings(_settings())
    bind = host or ("127.0.0.1" if settings.sandbox_active else "0.0.0.0")
    check_sandbox(settings, bind)
    # Before the database, stand-ins or keys exist: a busy port changes nothing.
    sock = listening_socket(bind, settings.port)
    eventlog.configure()
    service = build_service(settings)
    session = start_session(service, bind, settings.port)
    if session is not None:
        typer.echo(WARNING, err=True)
        typer.echo(banner(session))
    typer.echo(
        f"airlock: {len(service.rt.specs.specs)} workflows loaded; "
        f"listening on http://{bind}:{settings.port}"
    )
    config = server_config(
        service.app, host=bind, port=settings.port, log_level="info", timeout_graceful_shutdown=10
    )
    uvicorn.Server(config).run(sockets=[sock])


@app.command()
def demo(
    workflows: Annotated[
        Path | None, typer.Option(help="Folder holding the example workflows.")
    ] = None,
) -> None:
    """Run a scripted review loop on the Slack and Salesforce stand-ins and narrate it."""
    from bot.demo import DemoError, run_demo

    try:
        run_demo(workflows)
    except DemoError as exc:
        typer.echo(f"airlock demo failed: {exc}", err=True)
        raise typer.Exit(1) from None


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Folder to set up (created if missing).")] = Path(
        "."
    ),
) -> None:
    """Write the example workflows and a .env template into FOLDER, keeping existing files."""
    from bot.scaffold import init_folder

    try:
        done = init_folder(folder)
    except OSError as exc:
        typer.echo(f"airlock init: {exc}", err=True)
        raise typer.Exit(2) from None
    for path in done.written:
        typer.echo(f"wrote {path}")
    for path in done.kept:
        typer.echo(f"kept  {path} (exists)")
    where = "" if folder.resolve() == Path.cwd() else f"cd {folder} && "
    typer.echo(
        f"next: {where}airlock serve  (local Slack and Salesforce stand-ins until .env has yours)"
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations up to the newest."""
    settings = _settings()
    _migrated_db(settings)
    typer.echo(f"database at {settings.database_url.split('@')[-1]} is up to date")


@db_app.command("rebuild-stats")
def db_rebuild_stats() -> None:
    """Recompute the counters behind stats, Home and report from the items (idempotent)."""
    from bot.core.rollups_rebuild import rebuild_command

    typer.echo(rebuild_command(_migrated_db(_settings())))


@app.command()
def trace(
    item_id: Annotated[str, typer.Argument(help="Item id, e.g. itm_01...")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the whole story of one item: inputs, checks, gate, decisions, writes."""
    from bot.core.trace import item_view, render_trace

    db = _migrated_db(_settings())
    with db.read() as session:
        view = item_view(session, item_id)
    typer.echo(json.dumps(view, indent=2, default=str) if as_json else render_trace(view))


@audit_app.command("verify")
def audit_verify(
    checkpoint: Annotated[
        str | None,
        typer.Option(
            "--checkpoint",
            help="An exported checkpoint (`#N time signature`), a file of them, or - for stdin: "
            "fail if it is missing from the database or differs.",
        ),
    ] = None,
) -> None:
    """Check every chain, item row, MAC and signed checkpoint; exit 1 naming each problem."""
    from bot.audit_run import run_verify

    settings = _settings()
    code = run_verify(_migrated_db(settings), settings.audit_key_value, checkpoint)
    if code:
        raise typer.Exit(code)


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the current stream heads now; print the newest checkpoint to keep off this machine."""
    from bot.core.checkpoint import latest, write_checkpoint

    settings = _settings()
    db = _migrated_db(settings)
    write_checkpoint(db, settings.audit_key_value)
    with db.read() as session:
        cp = latest(session)
    if cp is None:
        typer.echo("no audit events yet: nothing to checkpoint")
        return
    typer.echo(f"checkpoint #{cp.seq} {cp.at.isoformat()} {cp.signature}")


# Registered here, after the commands above, so `airlock --help` keeps its order.
app.command()(report)
app.command("export-evals")(export_evals)
app.command()(outcomes)
app.command("revert")(revert)


def main() -> None:
    """Console entry point: domain and configuration errors become one readable line."""
    try:
        app()
    except AirlockError as exc:
        typer.echo(f"airlock: {exc.detail}", err=True)
        sys.exit(1)
    except (ConfigError, SpecError) as exc:
        typer.echo(f"airlock: {exc}", err=True)
        sys.exit(2)
    except OperationalError as exc:
        # Unreachable or refusing database: one line that says what to check, not a traceback.
        reason = str(exc.orig or exc).strip().splitlines()[0]
        typer.echo(
            f"airlock: cannot use the database in DATABASE_URL ({reason}): check that it is "
            "running and that the URL, user and password are right",
            err=True,
        )
        sys.exit(2)
