"""Each reliability test prints its figures, whether or not pytest captures output."""

from __future__ import annotations

import pytest


def report(capsys: pytest.CaptureFixture[str], name: str, **figures: object) -> None:
    """Print `name: key=value ...` past pytest's capture, so every run shows it."""
    line = ", ".join(f"{key.replace('_', ' ')}={value}" for key, value in figures.items())
    with capsys.disabled():
        print(f"\n[reliability] {name}: {line}", flush=True)
