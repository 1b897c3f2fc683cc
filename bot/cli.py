"""The `airlock` command: serve, database, workflows, keys, trace, audit and outbox."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy.exc import OperationalError

from bot.base import eventlog
from bot.base.config import ConfigError, Settings, load_settings
from bot.base.db import Database
from bot.base.errors import AirlockError
from bot.base.specs import SpecError, load_specs

if TYPE_CHECKING:
    from bot.base.specs import LoadedSpec
    from bot.core.runtime import Runtime

app = typer.Typer(
    help="Airlock: runtime controls for AI agents in sales teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
workflows_app = typer.Typer(help="Workflow operating specs.", no_args_is_help=True)
keys_app = typer.Typer(help="Agent API keys.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
outbox_app = typer.Typer(
    help="Side effects not getting delivered: list them, requeue them.",
    invoke_without_command=True,
)
app.add_typer(db_app, name="db")
app.add_typer(workflows_app, name="workflows")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(outbox_app, name="outbox")


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        typer.echo(f"airlock: {exc}", err=True)
        raise typer.Exit(2) from None


def _migrated_db(settings: Settings) -> Database:
    db = Database(settings.database_url)
    db.upgrade()
    return db


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


@workflows_app.command("check")
def workflows_check(
    salesforce: Annotated[
        bool,
        typer.Option(
            "--salesforce",
            help="Also read describe() of every allowlisted sObject and report fields that do "
            "not exist or that the integration user cannot update.",
        ),
    ] = False,
) -> None:
    """Validate every spec; exit 1 and name file, line and field on any error."""
    settings = _settings()
    specs = load_specs(settings.workflows_dir)
    errors = list(specs.errors)
    if salesforce:
        errors += _salesforce_problems(settings, list(specs.specs.values()))
    failed = {e.split(":", 1)[0] for e in errors}
    for loaded in specs.specs.values():
        if str(loaded.path) not in failed:
            typer.echo(f"ok    {loaded.path}  ({loaded.id}, version {loaded.version})")
    for error in errors:
        typer.echo(f"error {error}", err=True)
    if errors:
        typer.echo(f"{len(errors)} error(s) in {settings.workflows_dir}", err=True)
        raise typer.Exit(1)


def _salesforce_problems(settings: Settings, specs: list[LoadedSpec]) -> list[str]:
    from bot.field_check import check_specs, salesforce_client
    from bot.salesforce.fields import FieldCatalog

    with salesforce_client(settings) as client:
        return check_specs(specs, FieldCatalog(client))


@workflows_app.command("list")
def workflows_list() -> None:
    """Show each workflow's level, mode, owner and whether it is paused."""
    from bot.core.runtime import open_runtime

    rt = _open(open_runtime)
    from models import Workflow

    with rt.db.read() as session:
        rows = {w.id: w for w in session.query(Workflow).all()}
    typer.echo(f"{'workflow':<24}{'level':<19}{'mode':<10}{'state':<8}owner")
    for wid, loaded in sorted(rt.specs.specs.items()):
        state = "paused" if rows.get(wid) and rows[wid].paused else "active"
        typer.echo(
            f"{wid:<24}{loaded.spec.level.value:<19}{loaded.spec.mode.value:<10}"
            f"{state:<8}{loaded.spec.owner}"
        )


@keys_app.command("create")
def keys_create(
    agent: Annotated[str, typer.Option(help="Name of the agent using the key.")],
    workflows: Annotated[str, typer.Option(help="Comma-separated workflow ids, or '*'.")],
) -> None:
    """Create a key; it is printed once, alone on the last line."""
    from bot.core import keys
    from bot.core.runtime import open_runtime

    rt = _open(open_runtime)
    wanted = [w.strip() for w in workflows.split(",") if w.strip()]
    unknown = [w for w in wanted if w != "*" and w not in rt.specs.specs]
    if not wanted or unknown:
        known = ", ".join(sorted(rt.specs.specs))
        typer.echo(
            f"airlock: unknown workflow(s) {', '.join(unknown) or '(none given)'}; known: {known}",
            err=True,
        )
        raise typer.Exit(2)
    with rt.db.write() as session:
        row, secret = keys.create_key(session, agent=agent, workflows=wanted)
    typer.echo(f"created key {row.id} for agent {agent!r}, workflows: {', '.join(wanted)}")
    typer.echo("store it now; it is not shown again:")
    typer.echo(secret)


@keys_app.command("list")
def keys_list() -> None:
    """Show every key (never the secret)."""
    from bot.core import keys

    db = _migrated_db(_settings())
    with db.read() as session:
        rows = keys.list_keys(session)
    typer.echo(f"{'id':<14}{'agent':<22}{'state':<9}{'last used':<22}workflows")
    for k in rows:
        used = k.last_used_at.strftime("%Y-%m-%d %H:%M") if k.last_used_at else "never"
        state = "revoked" if k.revoked_at else "active"
        typer.echo(f"{k.id:<14}{k.agent:<22}{state:<9}{used:<22}{','.join(k.workflows)}")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="Key id from 'keys list'.")]) -> None:
    """Revoke a key; agents using it get 401 from then on."""
    from bot.core import keys

    db = _migrated_db(_settings())
    with db.write() as session:
        row = keys.revoke_key(session, key_id.removeprefix("alk_").split("_")[0])
    typer.echo(f"revoked key {row.id} ({row.agent})")


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
def audit_verify() -> None:
    """Check every chain, every item row and the signed checkpoints; exit 1 naming each problem."""
    from bot.core.audit import verify

    settings = _settings()
    db = _migrated_db(settings)
    with db.read() as session:
        found = verify(session, settings.audit_key_value)
    for note in found.notes:
        typer.echo(f"note: {note}", err=True)
    for p in found.problems:
        typer.echo(f"TAMPERED {p}", err=True)
    if found.problems:
        typer.echo(f"{len(found.problems)} problem(s) in {found.checked} chains", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"ok: {found.checked} chains and {found.checkpoints} checkpoint(s) verified, "
        "no tampering found"
    )


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


@app.command()
def report(
    since: Annotated[str, typer.Option(help="Only items received in this window, e.g. 7d.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Acceptance, edit and rejection rates, reasons, time to decision, escalation, write-back."""
    from dataclasses import asdict

    from bot.base.spec_model import parse_duration
    from bot.core.runtime import open_runtime
    from bot.reporting.report import render_report, report_rows, usage_line
    from models.types import utcnow

    try:
        window = parse_duration(since) if since else None
    except ValueError:
        raise typer.BadParameter(
            f"{since!r} is not a window: write a number and s, m, h or d, e.g. 24h or 7d",
            param_hint="--since",
        ) from None
    rt = _open(open_runtime)
    start = utcnow() - window if window else None
    rows = report_rows(rt, start)
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], indent=2, default=str))
    else:
        typer.echo(render_report(rows))
        typer.echo(f"\n{usage_line(rt.settings)}")


@app.command("export-evals")
def export_evals(
    out: Annotated[str, typer.Option(help="File to write; '-' for standard output.")] = "-",
    workflow: Annotated[str, typer.Option(help="Only this workflow.")] = "",
) -> None:
    """Write JSONL eval data: input, agent output, human verdict, corrected output."""
    from bot.core.runtime import open_runtime
    from bot.reporting.report import eval_records

    rt = _open(open_runtime)
    if workflow:
        rt.spec(workflow)
    lines = [
        json.dumps(r, ensure_ascii=False, default=str) for r in eval_records(rt, workflow or None)
    ]
    text = "".join(f"{line}\n" for line in lines)
    if out == "-":
        sys.stdout.write(text)
    else:
        Path(out).write_text(text, encoding="utf-8")
    typer.echo(
        f"exported {len(lines)} judged item(s) to {out if out != '-' else 'stdout'}", err=True
    )


@outbox_app.callback()
def outbox(ctx: typer.Context) -> None:
    """List stuck and dead outbox rows per kind (the same as `airlock outbox list`)."""
    if ctx.invoked_subcommand is None:
        outbox_list()


@outbox_app.command("list")
def outbox_list() -> None:
    """List stuck (failing, still retrying) and dead (given up) rows per kind."""
    from bot.core.outbox_admin import render, stuck_rows

    typer.echo(render(stuck_rows(_migrated_db(_settings()))))


@outbox_app.command("retry")
def outbox_retry(
    kind: Annotated[str, typer.Option(help="Only this kind, e.g. salesforce.write.")] = "",
    item: Annotated[str, typer.Option(help="Only this item's rows.")] = "",
) -> None:
    """Requeue stuck and dead rows now, with a fresh attempt budget; audited on each item."""
    from bot.core.outbox_admin import requeue

    rows = requeue(_migrated_db(_settings()), kind=kind or None, item_id=item or None)
    for row in rows:
        typer.echo(f"requeued #{row.id} {row.kind} {row.item_id or row.workflow_id or ''}")
    typer.echo(f"{len(rows)} row(s) requeued")


def _open(opener: Callable[[Settings], Runtime]) -> Runtime:
    try:
        return opener(_settings())
    except SpecError as exc:
        typer.echo("airlock: invalid workflow specs:\n  " + "\n  ".join(exc.errors), err=True)
        raise typer.Exit(2) from None


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
