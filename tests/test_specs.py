"""Workflow specs: the examples load, durations parse, and bad files name file, line and field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.base.levels import Kind, Level
from bot.base.spec_model import Escalation, format_duration, parse_duration
from bot.base.specs import SpecError, load_spec_file, load_specs, spec_version

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "workflows").glob("*.yml"))

# Line numbers matter below: tests edit this text line by line.
VALID = """\
id: probe
name: Probe
owner: U0OLIVIA
trigger: nightly
inputs: [call transcripts]
task: Propose updates
level: crm_write
allowed_outputs:
  kinds: [field_update, task]
  fields: [Opportunity.StageName]
checks:
  grounded:
    min_sources: 1
failure_modes: [stale data]
success_metric: accuracy
"""


def write(folder: Path, text: str, name: str = "probe.yml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def replace_line(text: str, number: int, new: str) -> str:
    lines = text.splitlines()
    lines[number - 1] = new
    return "\n".join(lines) + "\n"


def errors_of(path: Path) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_spec_file(path)
    return info.value.errors


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_load_spec_file_example(path: Path) -> None:
    loaded = load_spec_file(path)
    assert loaded.id == path.stem
    assert loaded.path == path
    assert len(loaded.version) == 16


def test_load_specs_examples_folder() -> None:
    result = load_specs(ROOT / "workflows")
    assert result.errors == []
    assert sorted(result.specs) == sorted(p.stem for p in EXAMPLES)
    assert result.get("opp-hygiene") is not None
    assert result.get("no-such-workflow") is None


def test_load_spec_file_valid_probe(tmp_path: Path) -> None:
    spec = load_spec_file(write(tmp_path, VALID)).spec
    assert spec.level is Level.CRM_WRITE
    assert spec.allowed_outputs.kinds == [Kind.FIELD_UPDATE, Kind.TASK]
    assert spec.checks.grounded is not None and spec.checks.grounded.min_sources == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("4h", timedelta(hours=4)),
        ("2d", timedelta(days=2)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert format_duration(parse_duration(text)) == text


@pytest.mark.parametrize("text", ["4x", "0m", "-1h", "4", "h", "1.5h", ""])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_format_duration_picks_largest_exact_unit() -> None:
    assert format_duration(timedelta(hours=72)) == "3d"
    assert format_duration(timedelta(minutes=90)) == "90m"
    assert format_duration(timedelta(seconds=61)) == "61s"


def test_load_spec_file_bad_duration_names_field(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "escalation: {remind_after: 4x}\n")
    errors = errors_of(path)
    assert len(errors) == 1
    assert errors[0].startswith(f"{path}:16: escalation.remind_after: ")
    assert "'4x' is not a duration" in errors[0]


def test_load_spec_file_misspelled_key_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, replace_line(VALID, 7, "levle: crm_write"))
    errors = errors_of(path)
    assert any(e.startswith(f"{path}:7: levle: unknown field") for e in errors), errors
    assert any(e.startswith(f"{path}:1: level: required field is missing") for e in errors)


def test_load_spec_file_misspelled_block_key_names_key_line(tmp_path: Path) -> None:
    path = write(tmp_path, replace_line(VALID, 11, "chekcs:"))
    errors = errors_of(path)
    assert any(e.startswith(f"{path}:11: chekcs: unknown field") for e in errors), errors


def test_load_spec_file_nested_wrong_type_names_path(tmp_path: Path) -> None:
    path = write(tmp_path, replace_line(VALID, 13, "    min_sources: many"))
    errors = errors_of(path)
    assert len(errors) == 1
    assert errors[0].startswith(f"{path}:13: checks.grounded.min_sources: ")
    assert "integer" in errors[0]


def test_load_spec_file_missing_required_field(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("owner: U0OLIVIA\n", ""))
    assert errors_of(path) == [f"{path}:1: owner: required field is missing"]


def test_load_spec_file_missing_nested_field_points_at_section(tmp_path: Path) -> None:
    # The section key (line 8) is named, not the first line of its block.
    path = write(tmp_path, VALID.replace("  kinds: [field_update, task]\n", ""))
    assert errors_of(path) == [f"{path}:8: allowed_outputs.kinds: required field is missing"]


def test_load_spec_file_invalid_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, replace_line(VALID, 6, "task: Propose: updates"))
    errors = errors_of(path)
    assert len(errors) == 1
    assert errors[0].startswith(f"{path}:6: not valid YAML: ")


@pytest.mark.parametrize("text", ["", "- a list\n- not a mapping\n", "just text\n"])
def test_load_spec_file_not_a_mapping(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    assert errors_of(path) == [
        f"{path}:1: a workflow file must be a mapping of fields (id, name, ...)"
    ]


def test_load_spec_file_rejects_kind_above_level(tmp_path: Path) -> None:
    path = write(tmp_path, replace_line(VALID, 7, "level: recommendation"))
    errors = errors_of(path)
    assert len(errors) == 1
    assert errors[0].startswith(str(path))
    assert "allowed_outputs.kinds: 'field_update' is a crm_write output" in errors[0]
    assert "'recommendation'" in errors[0]


def test_load_spec_file_kind_above_level_names_kinds_line(tmp_path: Path) -> None:
    path = write(tmp_path, replace_line(VALID, 7, "level: recommendation"))
    assert errors_of(path)[0].startswith(f"{path}:9: allowed_outputs.kinds: ")


def test_load_spec_file_rejects_field_update_without_fields(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("  fields: [Opportunity.StageName]\n", ""))
    errors = errors_of(path)
    assert len(errors) == 1
    assert "allowed_outputs.fields: field_update is allowed but no fields are" in errors[0]


def test_load_spec_file_rejects_unqualified_field(tmp_path: Path) -> None:
    path = write(tmp_path, replace_line(VALID, 10, "  fields: [StageName]"))
    errors = errors_of(path)
    assert len(errors) == 1
    assert errors[0].startswith(f"{path}:10: allowed_outputs.fields: ")
    assert "SObject.Field" in errors[0]


def test_load_specs_duplicate_ids(tmp_path: Path) -> None:
    first = write(tmp_path, VALID, "a.yml")
    second = write(tmp_path, VALID.replace("name: Probe", "name: Other"), "b.yml")
    result = load_specs(tmp_path)
    assert list(result.specs) == ["probe"]
    assert result.specs["probe"].path == first
    assert result.errors == [f"{second}:1: id: 'probe' is already used by {first}"]


def test_load_specs_collects_every_bad_file(tmp_path: Path) -> None:
    bad_one = write(tmp_path, VALID.replace("owner: U0OLIVIA\n", ""), "a.yml")
    bad_two = write(tmp_path, "id: [\n", "b.yaml")
    write(tmp_path, VALID.replace("id: probe", "id: good"), "c.yml")
    result = load_specs(tmp_path)
    assert list(result.specs) == ["good"]
    assert [e.split(":")[0] for e in result.errors] == [str(bad_one), str(bad_two)]


def test_load_specs_missing_folder(tmp_path: Path) -> None:
    result = load_specs(tmp_path / "absent")
    assert result.specs == {}
    assert len(result.errors) == 1
    assert "AIRLOCK_WORKFLOWS" in result.errors[0]


def test_spec_version_ignores_comments_and_key_order(tmp_path: Path) -> None:
    lines = VALID.splitlines()
    reordered = "# a comment\n" + "\n".join([lines[1], lines[0], *lines[2:]]) + "  # trailing\n"
    flow = VALID.replace(
        "checks:\n  grounded:\n    min_sources: 1\n", "checks: {grounded: {min_sources: 1}}\n"
    )
    base = load_spec_file(write(tmp_path, VALID, "a.yml")).version
    assert load_spec_file(write(tmp_path, reordered, "b.yml")).version == base
    assert load_spec_file(write(tmp_path, flow, "c.yml")).version == base


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("min_sources: 1", "min_sources: 2"),
        ("level: crm_write", "level: external_message"),
        ("fields: [Opportunity.StageName]", "fields: [Opportunity.StageName, Opportunity.Amount]"),
    ],
)
def test_spec_version_changes_with_content(tmp_path: Path, old: str, new: str) -> None:
    base = load_spec_file(write(tmp_path, VALID, "a.yml")).version
    changed = load_spec_file(write(tmp_path, VALID.replace(old, new), "b.yml")).version
    assert changed != base


@pytest.mark.parametrize(
    "escalation",
    [
        {"remind_after": "1d", "escalate_after": "4h"},
        {"escalate_after": "3d", "expire_after": "2d"},
        {"remind_after": "4h", "escalate_after": "24h", "expire_after": "12h"},
        {"remind_after": "2d", "expire_after": "1d"},
    ],
)
def test_validate_escalation_rejects_out_of_order(escalation: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="remind_after < escalate_after < expire_after"):
        Escalation.model_validate(escalation)


def test_validate_escalation_accepts_in_order() -> None:
    esc = Escalation.model_validate({"remind_after": "90m", "expire_after": "2d"})
    assert esc.remind_after == timedelta(minutes=90)
    assert esc.escalate_after is None
    assert esc.expire_after == timedelta(days=2)


def test_validate_escalation_rejects_equal_steps() -> None:
    with pytest.raises(ValidationError):
        Escalation.model_validate({"remind_after": "4h", "escalate_after": "4h"})


GATED = VALID.replace(
    "checks:\n",
    "gate:\n  - when: {fields_any: [Opportunity.StageName]}\n    gate: manager\nchecks:\n",
)


def test_load_spec_file_accepts_gate_field_in_allowlist(tmp_path: Path) -> None:
    assert load_spec_file(write(tmp_path, GATED)).spec.gate[0].gate.value == "manager"


def test_load_spec_file_rejects_gate_field_typo(tmp_path: Path) -> None:
    # Opportunity.Amout is well formed, but no change can ever name it: the rule would never fire.
    path = write(tmp_path, GATED.replace("[Opportunity.StageName]}", "[Opportunity.Amout]}"))
    errors = errors_of(path)
    assert len(errors) == 1
    assert errors[0].startswith(f"{path}:12: gate.0.when.fields_any.0: ")
    assert "Opportunity.Amout" in errors[0] and "allowed_outputs.fields" in errors[0]


# The example workflows' versions as stored by earlier releases. A new spec option with a default
# must not change them: an upgrade would give every stored workflow a new version and so clear its
# promotion (bot.base.specs._ADDED_LATER keeps sections added later out of the hash when unset).
STORED_VERSIONS = {
    "account-brief": "65f2d5cc2901803d",
    "call-summary-cleanup": "3a62fc04b9992b04",
    "exec-outreach": "2cfb08000f532230",
    "opp-hygiene": "9293b1f00b2e0d1d",
    "renewal-risk": "d23dac24cfc7dcb8",
}


def test_upgrade_keeps_the_stored_versions_of_unchanged_specs() -> None:
    found = load_specs(ROOT / "workflows")
    assert not found.errors
    assert {k: spec_version(v.spec) for k, v in found.specs.items()} == STORED_VERSIONS
