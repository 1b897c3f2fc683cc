"""The reference docs shipped in docs/ name every field the spec and the intake body accept."""

from __future__ import annotations

import types
import typing
from pathlib import Path

from pydantic import BaseModel

from bot.base.spec_model import WorkflowSpec
from bot.base.submission import Submission

DOCS = Path(__file__).resolve().parent.parent / "docs"


def field_names(model: type[BaseModel]) -> set[str]:
    """Every field name of a model and of the models nested in it."""
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(name)
        for inner in _models_in(info.annotation):
            names |= field_names(inner)
    return names


def _models_in(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) or args:
        return [m for arg in args for m in _models_in(arg)]
    return []


def test_spec_reference_names_every_spec_field() -> None:
    text = (DOCS / "workflow-spec.md").read_text()
    missing = sorted(n for n in field_names(WorkflowSpec) if f"`{n}" not in text)
    assert missing == [], f"document these spec fields in docs/workflow-spec.md: {missing}"


def test_intake_reference_names_every_body_field() -> None:
    text = (DOCS / "intake.md").read_text()
    missing = sorted(n for n in field_names(Submission) if f"`{n}" not in text)
    assert missing == [], f"document these intake fields in docs/intake.md: {missing}"
