"""`airlock init`: a working folder with the example workflows and a `.env` template.

The examples ship inside the package (bot/examples links to the repository's workflows/ and
.env.example), so a pip-installed Airlock can start in an empty folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent / "examples"
EXAMPLE_WORKFLOWS = EXAMPLES / "workflows"


@dataclass
class Scaffold:
    """What `init` wrote, and what it left alone because it already existed."""

    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)


def init_folder(target: Path) -> Scaffold:
    """Write workflows/*.yml and .env into `target`; never overwrite a file that exists."""
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"{target} exists and is not a folder: choose another path")
    result = Scaffold()
    (target / "workflows").mkdir(parents=True, exist_ok=True)
    sources = sorted(EXAMPLE_WORKFLOWS.glob("*.yml"))
    if not sources:
        raise FileNotFoundError(f"no example workflows in {EXAMPLE_WORKFLOWS}: reinstall Airlock")
    pairs = [(src, target / "workflows" / src.name) for src in sources]
    pairs.append((EXAMPLES / "env.example", target / ".env"))
    for src, dest in pairs:
        if dest.exists():
            result.kept.append(dest)
            continue
        dest.write_text(src.read_text())
        if dest.name == ".env":
            dest.chmod(0o600)  # it will hold tokens and keys: readable by this user only
        result.written.append(dest)
    return result
