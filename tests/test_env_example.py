"""Every setting Airlock reads is in .env.example and in the README's configuration table."""

from __future__ import annotations

from pathlib import Path

from bot.base.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def variables() -> list[str]:
    return sorted(str(f.alias) for f in Settings.model_fields.values() if f.alias)


def test_env_example_lists_every_variable() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    named = {line.lstrip("# ").split("=", 1)[0] for line in lines if "=" in line}
    assert [v for v in variables() if v not in named] == []


def test_readme_documents_every_variable() -> None:
    readme = (ROOT / "README.md").read_text()
    assert [v for v in variables() if f"`{v}`" not in readme] == []
