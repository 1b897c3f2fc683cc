"""`airlock audit verify` as a command: read exported checkpoints, show progress, print findings."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import func
from sqlmodel import select

from bot.base.db import Database
from bot.core.audit import verify
from bot.core.audit_checkpoints import Exported, check_exported, parse_exported
from bot.core.audit_report import Report
from models import Event


def read_exported(source: str) -> list[Exported]:
    """`-` reads stdin, an existing path reads that file, anything else is the line itself."""
    if source == "-":
        text = sys.stdin.read()
    elif Path(source).is_file():
        text = Path(source).read_text(encoding="utf-8")
    else:
        text = source
    return parse_exported(text)


def run_verify(db: Database, key: str | None, checkpoint: str | None) -> int:
    """Verify the trail (and exported checkpoints), print what was found; the exit code."""
    try:
        exported = read_exported(checkpoint) if checkpoint is not None else []
    except (ValueError, OSError) as exc:
        typer.echo(f"airlock: --checkpoint: {exc}", err=True)
        return 2
    with db.read() as session:
        total = session.exec(select(func.count()).select_from(Event)).one()
        with _progress(total) as bar:
            report = verify(session, key, progress=bar.update if bar else None)
        check_exported(session, exported, report)
    return _print(report)


def _progress(total: int) -> AbstractContextManager[Any]:
    # Drawn on a terminal only: piped or logged output carries the findings and nothing else.
    if not sys.stderr.isatty():
        return nullcontext(None)
    return typer.progressbar(length=total, label="verifying events", file=sys.stderr)


def _print(report: Report) -> int:
    for note in report.notes:
        typer.echo(f"note: {note}", err=True)
    for p in report.problems:
        typer.echo(f"TAMPERED {p}", err=True)
    if report.problems:
        typer.echo(f"{len(report.problems)} problem(s) in {report.checked} chains", err=True)
        return 1
    typer.echo(
        f"ok: {report.checked} chains, {report.events} events and {report.checkpoints} "
        "checkpoint(s) verified, no tampering found"
    )
    return 0
