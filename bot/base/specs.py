"""Load workflow YAML files into validated specs; errors name the file, line and field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.base.canonical import canonical_hash
from bot.base.spec_model import WorkflowSpec

_NAMED = re.compile(r"^([a-z_]+(?:\.[a-z_0-9]+)*): (.+)$", re.DOTALL)


class SpecError(Exception):
    """One or more workflow files are invalid; `errors` holds one readable line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec, where it came from, and its version (hash of its canonical content)."""

    spec: WorkflowSpec
    path: Path
    version: str

    @property
    def id(self) -> str:
        """The workflow id."""
        return self.spec.id


@dataclass
class SpecSet:
    """Every spec in a folder, plus the errors of the files that did not load."""

    specs: dict[str, LoadedSpec] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def get(self, workflow_id: str) -> LoadedSpec | None:
        """The spec with this id, if loaded."""
        return self.specs.get(workflow_id)


def load_spec_file(path: Path) -> LoadedSpec:
    """Parse and validate one file; raise SpecError naming file, line and field."""
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise SpecError([f"{path}{line}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if not isinstance(data, dict):
        raise SpecError([f"{path}:1: a workflow file must be a mapping of fields (id, name, ...)"])
    try:
        spec = WorkflowSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError([_describe(path, node, err) for err in exc.errors()]) from None
    return LoadedSpec(spec=spec, path=path, version=spec_version(spec))


# Sections added after specs were first stored, hashed only when the file writes them: an upgrade
# must not give every stored workflow a new version (that would clear its promotion).
_ADDED_LATER = frozenset({"outcome", "promote", "review", "segment_by"})
# Options added later inside older sections, by section: the same rule, one level down.
_ADDED_LATER_IN = {
    "writeback": frozenset({"undo_window", "task_on_revert"}),
    "auto_pause": frozenset({"revert_rate_over"}),
}


def spec_version(spec: WorkflowSpec) -> str:
    """Content hash of the validated spec: comments and key order do not change it."""
    exclude: dict[str, Any] = dict.fromkeys(_ADDED_LATER - spec.model_fields_set, True)
    for section, names in _ADDED_LATER_IN.items():
        unset = names - getattr(spec, section).model_fields_set
        if unset:
            exclude[section] = dict.fromkeys(unset, True)
    return canonical_hash(spec.model_dump(mode="json", exclude=exclude))[:16]


def load_specs(folder: Path) -> SpecSet:
    """Load every `*.yml`/`*.yaml` in `folder`; collect errors instead of stopping at the first."""
    result = SpecSet()
    if not folder.is_dir():
        result.errors.append(
            f"{folder.absolute()}: workflows folder not found: set AIRLOCK_WORKFLOWS to a folder "
            "of workflow YAML files, or run `airlock init` here to write the examples"
        )
        return result
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        try:
            loaded = load_spec_file(path)
        except SpecError as exc:
            result.errors.extend(exc.errors)
            continue
        if loaded.id in result.specs:
            first = result.specs[loaded.id].path
            result.errors.append(f"{path}:1: id: {loaded.id!r} is already used by {first}")
            continue
        result.specs[loaded.id] = loaded
    return result


def _describe(path: Path, node: yaml.Node | None, err: Any) -> str:
    loc: list[Any] = [p for p in err.get("loc", ()) if p != "__root__"]
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    # Cross-field checks have no location; they name their field at the start of the message.
    # A nested section's check names its own field (`window: ...`): appended to the section's.
    named = _NAMED.match(message)
    if named:
        loc = [*loc, *(int(p) if p.isdigit() else p for p in named.group(1).split("."))]
        message = named.group(2)
    where = ".".join(str(p) for p in loc) or "(file)"
    line = _line_of(node, loc)
    if err.get("type") == "missing":
        message = "required field is missing"
    elif err.get("type") == "extra_forbidden":
        message = "unknown field (check the spelling against docs/workflow-spec.md)"
    return f"{path}:{line}: {where}: {message}"


def _line_of(node: yaml.Node | None, loc: list[Any]) -> int:
    """The 1-based line of the deepest YAML node the error path reaches."""
    best = node.start_mark.line + 1 if node is not None else 1
    for key in loc:
        child = None
        line = None
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(key)), None)
            if pair:
                # Point at the key, not at a block value that starts on the next line.
                child, line = pair[1], pair[0].start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child = node.value[key]
            line = child.start_mark.line + 1
        if child is None or line is None:
            break
        node, best = child, line
    return best


def line_in_file(path: Path, loc: list[str], value: str | None = None) -> int:
    """The line of a spec path such as gate.0.when.fields_any, or of `value` in the list there."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return 1
    keys: list[Any] = [int(p) if p.isdigit() else p for p in loc]
    parent = _node_at(node, keys)
    if value is not None and isinstance(parent, yaml.SequenceNode):
        found = [
            i for i, child in enumerate(parent.value) if getattr(child, "value", None) == value
        ]
        keys.extend(found[:1])
    return _line_of(node, keys)


def _node_at(node: yaml.Node | None, loc: list[Any]) -> yaml.Node | None:
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == str(key)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return None
    return node
