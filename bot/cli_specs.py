"""`airlock workflows` and `airlock keys`: operating specs and agent API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from bot.base.config import Settings
from bot.base.specs import load_specs

if TYPE_CHECKING:
    from bot.base.specs import LoadedSpec

workflows_app = typer.Typer(help="Workflow operating specs.", no_args_is_help=True)
keys_app = typer.Typer(help="Agent API keys.", no_args_is_help=True)


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
    from bot.cli_common import _settings

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
    from bot.cli_common import _open
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
    from bot.cli_common import _open
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
    from bot.cli_common import _migrated_db, _settings
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
    from bot.cli_common import _migrated_db, _settings
    from bot.core import keys

    db = _migrated_db(_settings())
    with db.write() as session:
        row = keys.revoke_key(session, key_id.removeprefix("alk_").split("_")[0])
    typer.echo(f"revoked key {row.id} ({row.agent})")
