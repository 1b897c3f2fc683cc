"""The container files agree with the code: real command, real settings, real port."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.base.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_compose_sets_only_known_variables() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    known = {str(f.alias) for f in Settings.model_fields.values() if f.alias}
    airlock = compose["services"]["airlock"]
    assert set(airlock["environment"]) <= known
    assert airlock["ports"] == ["3000:3000"]
    assert airlock["depends_on"]["db"]["condition"] == "service_healthy"


def test_dockerfile_serves_on_all_interfaces_as_non_root() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    assert 'CMD ["airlock", "serve", "--host", "0.0.0.0"]' in lines
    assert "USER airlock" in lines
    copied = {line.split()[1] for line in lines if line.startswith("COPY ")}
    # Every top-level package the distribution installs must be in the image.
    assert {"bot", "handlers", "models", "workflows"} <= copied
