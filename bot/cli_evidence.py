"""`airlock evidence`: a signed bundle of one workflow's specs, items and events, and its check."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

evidence_app = typer.Typer(help="Evidence for an auditor: export a signed bundle, verify one.")


def _day(value: str, option: str) -> datetime:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date: write YYYY-MM-DD", param_hint=option
        ) from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@evidence_app.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="Where to write the bundle (JSON lines).")],
    workflow: Annotated[str, typer.Option(help="The workflow id.")],
    since: Annotated[str, typer.Option(help="First day, YYYY-MM-DD (UTC).")],
    until: Annotated[str, typer.Option(help="Last day, YYYY-MM-DD (UTC), included.")],
) -> None:
    """Write the workflow's specs, and the items (with every event) that arrived in the period."""
    from bot.cli_common import _migrated_db, _settings
    from bot.core.evidence import bundle_lines, known_workflow

    start, end = _day(since, "--since"), _day(until, "--until") + timedelta(days=1)
    if end <= start:
        raise typer.BadParameter("--until is before --since", param_hint="--until")
    settings = _settings()
    db = _migrated_db(settings)
    with db.read() as session:
        known_workflow(session, workflow)
        key = settings.audit_key_value
        with file.open("w", encoding="utf-8") as out:
            for line in bundle_lines(session, workflow, start, end, key, datetime.now(UTC)):
                out.write(line)
    signed = "signed with AIRLOCK_AUDIT_KEY" if key else "UNSIGNED (no AIRLOCK_AUDIT_KEY)"
    typer.echo(f"wrote {file} ({signed}); check it with: airlock evidence verify {file}")


@evidence_app.command("verify")
def verify_bundle(
    file: Annotated[Path, typer.Argument(help="A bundle written by `airlock evidence export`.")],
) -> None:
    """Check a bundle offline: event chains, the digest of every line, the signature."""
    from bot.cli_common import _settings
    from bot.core.evidence_check import verify

    if not file.is_file():
        raise typer.BadParameter(f"{file} does not exist", param_hint="FILE")
    with file.open(encoding="utf-8") as lines:
        verdict = verify(lines, _settings().audit_key_value)
    for note in verdict.notes:
        typer.echo(f"note: {note}", err=True)
    for problem in verdict.problems:
        typer.echo(f"TAMPERED {problem}", err=True)
    if verdict.problems:
        raise typer.Exit(1)
    typer.echo(
        f"ok: {verdict.workflow}: {verdict.items} items, {verdict.events} events, "
        f"{'signature' if verdict.signed else 'digest'} verified"
    )
