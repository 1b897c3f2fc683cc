"""`airlock outcomes`: what each measured workflow changed, against its holdout.

Registered on the main app by bot/cli.py.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer


def outcomes(
    workflow: Annotated[str, typer.Option(help="Only this workflow.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Per workflow and metric: treated vs holdout rate, absolute lift with a 95% interval."""
    from bot.cli_common import _open
    from bot.core.runtime import open_runtime
    from bot.reporting.outcomes import render_outcomes, workflow_outcomes

    rt = _open(open_runtime)
    found = workflow_outcomes(rt, workflow or None)
    if as_json:
        typer.echo(json.dumps([wf.as_dict() for wf in found], indent=2))
    else:
        typer.echo(render_outcomes(found))
