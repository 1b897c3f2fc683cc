"""The `outcome` and `segment_by` spec sections: refused at load naming file, line and field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.base.canonical import canonical_hash
from bot.base.levels import Status
from bot.base.specs import load_spec_file
from bot.core import holdout
from bot.field_check import check_specs
from bot.salesforce.fields import FieldCatalog
from bot.sandbox.salesforce_standin import SalesforceStandin
from tests.test_specs import VALID, errors_of, write
from tests.writeback_support import sf_client

OUTCOME = """\
outcome:
  window: 14d
  holdout: 0.1
  metrics:
    - {name: stage_advanced, field: Opportunity.StageName, changed: true}
    - {name: next_step_set, field: Opportunity.NextStep, not_empty: true}
"""  # lines 16 to 21 after VALID


def with_outcome(tmp_path: Path, old: str = "", new: str = "", extra: str = "") -> Path:
    return write(tmp_path, VALID + OUTCOME.replace(old, new) + extra)


def test_load_outcome_section(tmp_path: Path) -> None:
    spec = load_spec_file(with_outcome(tmp_path, extra="segment_by: Account.Industry\n")).spec
    assert spec.outcome.window == timedelta(days=14) and spec.outcome.holdout == 0.1
    assert [m.name for m in spec.outcome.metrics] == ["stage_advanced", "next_step_set"]
    assert spec.outcome.revert_window == timedelta(days=14)
    assert spec.segment_by == "Account.Industry"


def test_outcome_absent_keeps_revert_window(tmp_path: Path) -> None:
    spec = load_spec_file(write(tmp_path, VALID)).spec
    assert spec.outcome.revert_window == timedelta(days=14) and not spec.outcome.measured


@pytest.mark.parametrize(
    ("old", "new", "where", "says"),
    [
        ("holdout: 0.1", "holdout: 0.7", "18: outcome.holdout", "less than or equal to 0.5"),
        ("holdout: 0.1", "holdout: -0.1", "18: outcome.holdout", "greater than or equal to 0"),
        ("window: 14d", "window: 30s", "17: outcome.window", "at least 1m"),
        ("window: 14d", "window: soon", "17: outcome.window", "not a duration"),
        ("Opportunity.NextStep", "NextStep", "21: outcome.metrics.1.field", "SObject.Field"),
        ("not_empty: true", "not_empty: false", "21: outcome.metrics.1", "must be true"),
        (", changed: true", "", "20: outcome.metrics.0", "exactly one of"),
        ("next_step_set", "stage_advanced", "19: outcome.metrics", "its own name"),
    ],
)
def test_bad_outcome_names_file_line_and_field(
    tmp_path: Path, old: str, new: str, where: str, says: str
) -> None:
    path = with_outcome(tmp_path, old, new)
    errors = errors_of(path)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{path}:{where}: "), errors
    assert says in errors[0]


def test_holdout_without_window_or_metrics_refused(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "outcome: {holdout: 0.2}\n")
    assert errors_of(path) == [
        f"{path}:16: outcome.holdout: a holdout measures nothing without metrics"
    ]


def test_segment_by_must_be_qualified(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "segment_by: Industry\n")
    (error,) = errors_of(path)
    assert error.startswith(f"{path}:16: segment_by: ") and "SObject.Field" in error


def test_unreadable_outcome_field_named_by_check(tmp_path: Path) -> None:
    extra = "segment_by: Account.Tier__c\n"
    path = with_outcome(tmp_path, "Opportunity.NextStep", "Opportunity.Next_Play__c", extra)
    loaded = load_spec_file(path)
    with SalesforceStandin() as standin:
        standin.hide_field("Opportunity", "StageName")
        client = sf_client(standin)
        try:
            lines = check_specs([loaded], FieldCatalog(client))
        finally:
            client.close()
    assert len(lines) == 4, lines  # StageName hidden (allowlist and metric), two missing
    assert any(
        line.startswith(f"{path}:20: outcome.metrics.0.field: Opportunity.StageName")
        for line in lines
    )
    assert any(
        line.startswith(f"{path}:21: outcome.metrics.1.field: Opportunity.Next_Play__c")
        for line in lines
    )
    assert any(line.startswith(f"{path}:22: segment_by: Account.Tier__c") for line in lines)


def test_holdout_is_stable_and_near_its_share(tmp_path: Path) -> None:
    spec = load_spec_file(with_outcome(tmp_path)).spec
    ids = [f"006Ai{n:010d}AAA" for n in range(4000)]
    held = [r for r in ids if holdout.route(spec, "Opportunity", r, Status.PENDING) != "pending"]
    assert 0.08 < len(held) / len(ids) < 0.12  # binomial sd at 4000 draws: 0.0047
    again = [r for r in ids if holdout.route(spec, "Opportunity", r, Status.PENDING) != "pending"]
    assert held == again
    # Not measured on this sObject, shadow mode, or no record: never held out.
    assert holdout.route(spec, "Account", held[0], Status.PENDING) is Status.PENDING
    assert holdout.route(spec, "Opportunity", held[0], Status.SHADOWED) is Status.SHADOWED
    assert holdout.route(spec, "Opportunity", None, Status.PENDING) is Status.PENDING
    assert holdout.route(spec, "Opportunity", held[0], Status.BLOCKED) is Status.HELD_OUT


def test_version_unchanged_without_outcome_changed_with_it(tmp_path: Path) -> None:
    plain = load_spec_file(write(tmp_path, VALID, "a.yml"))
    dumped = plain.spec.model_dump(mode="json")
    later = ("outcome", "segment_by", "review", "promote")  # sections added after the first specs
    before = {k: v for k, v in dumped.items() if k not in later}
    for section, option in (
        ("writeback", "undo_window"),
        ("writeback", "task_on_revert"),
        ("auto_pause", "revert_rate_over"),
    ):
        del before[section][option]
    # The hash a spec had before these sections existed: an upgrade keeps promotions in force.
    assert plain.version == canonical_hash(before)[:16]
    measured = load_spec_file(with_outcome(tmp_path))
    assert measured.version != plain.version
