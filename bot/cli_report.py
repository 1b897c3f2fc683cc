"""`airlock report` and `airlock export-evals`: decisions as metrics and as eval data.

Registered on the main app by bot/cli.py.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Annotated

import typer


def report(
    since: Annotated[str, typer.Option(help="Only items received in this window, e.g. 7d.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Acceptance, edit and rejection rates, reasons, time to decision, escalation, write-back."""
    from dataclasses import asdict

    from bot.base.spec_model import parse_duration
    from bot.cli_common import _open
    from bot.core.runtime import open_runtime
    from bot.reporting.outcomes import render_outcomes, workflow_outcomes
    from bot.reporting.report import (
        render_report,
        report_rows,
        rubber_stamp_lines,
        usage_line,
    )
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
        found = workflow_outcomes(rt)
        if found:
            typer.echo(f"\nOutcomes against the holdout (all time):\n{render_outcomes(found)}")
        for line in rubber_stamp_lines(rt):
            typer.echo(line)
        typer.echo(f"\n{usage_line(rt.settings)}")


def export_evals(
    out: Annotated[str, typer.Option(help="File to write; '-' for standard output.")] = "-",
    workflow: Annotated[str, typer.Option(help="Only this workflow.")] = "",
) -> None:
    """Write JSONL eval data: input, agent output, human verdict, corrected output."""
    from bot.cli_common import _open
    from bot.core.runtime import open_runtime
    from bot.reporting.evals_export import judged_count, write_evals

    rt = _open(open_runtime)
    if workflow:
        rt.spec(workflow)
    with _destination(out) as sink, _progress(lambda: judged_count(rt, workflow or None)) as step:
        count = write_evals(rt, sink, workflow or None, progress=step)
    typer.echo(f"exported {count} judged item(s) to {out if out != '-' else 'stdout'}", err=True)


@contextlib.contextmanager
def _destination(out: str) -> Iterator[IO[str]]:
    """Standard output, or the file, written line by line as the export goes."""
    if out == "-":
        yield sys.stdout
        return
    with Path(out).open("w", encoding="utf-8") as sink:
        yield sink


@contextlib.contextmanager
def _progress(total: Callable[[], int]) -> Iterator[Callable[[int], None]]:
    """A progress bar on standard error when it is a terminal; nothing at all otherwise."""
    if not sys.stderr.isatty():
        yield lambda _n: None
        return
    with typer.progressbar(length=total(), label="exporting", file=sys.stderr) as bar:
        yield bar.update
