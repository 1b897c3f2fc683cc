"""What `airlock audit verify` found: problems named by stream, notes on what it left unchecked."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChainProblem:
    """One broken chain: which stream, and what is wrong with it."""

    stream: str
    problem: str

    def __str__(self) -> str:
        return f"{self.stream}: {self.problem}"


@dataclass
class Report:
    """What `airlock audit verify` found."""

    checked: int = 0
    checkpoints: int = 0
    events: int = 0
    unkeyed: int = 0
    unchecked_macs: int = 0
    problems: list[ChainProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
