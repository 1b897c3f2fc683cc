"""The package map holds: no import cycles, and every import points down the layers.

Read from the source (every `import` and `from ... import`, also inside functions and under
TYPE_CHECKING, since a hidden import is still a dependency). The layers, top to bottom:

    entry points (bot/*.py: cli, service, server, app, demo...)  ->  handlers
      -> bot.sandbox -> bot.delivery -> bot.slack -> bot.reporting -> bot.core
      -> bot.salesforce -> bot.base -> models

(bot.migrations sits just above bot.core.) A package may import itself and anything below it,
never above. Every module also stays under MAX_FILE_LINES and every function under
MAX_FUNCTION_LINES (the migrations excepted: a revision is written once and never grows).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Bottom first: each layer may import the layers listed before it, and itself.
LAYERS = [
    "models",
    "bot.base",
    "bot.salesforce",
    "bot.core",
    "bot.migrations",  # a data migration may use the core's code; nothing imports a migration
    "bot.reporting",
    "bot.slack",
    "bot.delivery",
    "bot.sandbox",
    "handlers",
    "bot",  # the entry points left at the top of bot/
]
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 40


def modules() -> dict[str, Path]:
    """Every module of the runtime by dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for top in ("bot", "handlers", "models"):
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of this tree that `name` imports, wherever the import statement stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # `from bot.core import keys` imports the module bot.core.keys
            targets = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def layer_of(name: str) -> str:
    """The layer a module belongs to: the longest layer name that prefixes it."""
    return max(
        (layer for layer in LAYERS if name == layer or name.startswith(layer + ".")), key=len
    )


def graph() -> dict[str, set[str]]:
    """Module -> the modules it imports, over bot/, handlers/ and models/."""
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other in a loop (Tarjan's strongly connected sets)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def wrong_way(edges: dict[str, set[str]]) -> list[str]:
    """Every import from a lower layer to a higher one, as 'a -> b (layer -> layer)'."""
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    bad = []
    for name, targets in sorted(edges.items()):
        mine = layer_of(name)
        for target in sorted(targets):
            theirs = layer_of(target)
            if rank[theirs] > rank[mine]:
                bad.append(f"{name} -> {target} ({mine} may not import {theirs})")
    return bad


def test_no_import_cycles() -> None:
    """Modules never import each other in a loop, not even through a function-level import."""
    loops = cycles(graph())
    assert not loops, "import cycles (break each by moving the shared code down a layer):\n" + (
        "\n".join(" <-> ".join(group) for group in loops)
    )


def test_imports_point_down_the_layers() -> None:
    """No package imports a package above it (see the layers in this module's docstring)."""
    bad = wrong_way(graph())
    assert not bad, "imports pointing up the layers (move the code, or the import):\n" + (
        "\n".join(bad)
    )


def test_the_checks_catch_what_they_guard() -> None:
    """A planted loop and a planted upward import are both reported."""
    planted = {"bot.core.a": {"bot.core.b"}, "bot.core.b": {"bot.core.a", "bot.slack.blocks"}}
    assert cycles(planted) == [["bot.core.a", "bot.core.b"]]
    assert wrong_way(planted) == [
        "bot.core.b -> bot.slack.blocks (bot.core may not import bot.slack)"
    ]
    assert wrong_way({"bot.slack.blocks": {"bot.core.a", "models"}}) == []


def test_every_package_says_what_it_owns() -> None:
    """Each package of bot/ opens with a docstring (what it owns, what it may import)."""
    bare = [
        str(init.relative_to(ROOT))
        for init in sorted((ROOT / "bot").glob("*/__init__.py"))
        if init.parent.name != "migrations" and not ast.get_docstring(ast.parse(init.read_text()))
    ]
    assert not bare, f"packages without a docstring: {bare}"


def oversized(name: str, source: str) -> list[str]:
    """The module if longer than MAX_FILE_LINES, and each function longer than MAX_FUNCTION_LINES.

    A function is measured from its `def` line to its last line (docstring and nested functions
    included, decorators not).
    """
    found = []
    lines = len(source.splitlines())
    if lines > MAX_FILE_LINES:
        found.append(f"{name}: {lines} lines (at most {MAX_FILE_LINES})")
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(
                    f"{name}:{node.lineno} {node.name}(): {length} lines "
                    f"(at most {MAX_FUNCTION_LINES})"
                )
    return found


def test_modules_and_functions_stay_small() -> None:
    """No module of bot/, handlers/ or models/ past 300 lines, no function past 40."""
    found = [
        problem
        for name, path in sorted(modules().items())
        if layer_of(name) != "bot.migrations"
        for problem in oversized(str(path.relative_to(ROOT)), path.read_text())
    ]
    assert not found, "split these by a real seam (one job per module, helpers by name):\n" + (
        "\n".join(found)
    )


def test_the_size_check_names_what_grew() -> None:
    """A planted long module and long function are reported with their sizes; the limit passes."""
    body = "".join(f"    x = {n}\n" for n in range(MAX_FUNCTION_LINES - 1))
    at_limit = f"def fits():\n{body}"
    assert oversized("ok.py", at_limit) == []
    too_long = f"async def grew():\n{body}    x = 0\n"
    assert oversized("f.py", too_long) == [
        f"f.py:1 grew(): {MAX_FUNCTION_LINES + 1} lines (at most {MAX_FUNCTION_LINES})"
    ]
    long_module = "x = 0\n" * (MAX_FILE_LINES + 1)
    assert oversized("m.py", long_module) == [
        f"m.py: {MAX_FILE_LINES + 1} lines (at most {MAX_FILE_LINES})"
    ]


def test_the_readme_states_the_import_order() -> None:
    """The README's one-line order is LAYERS read from the top (migrations aside)."""
    names = {"bot": "entry points", "handlers": "handlers", "models": "models"}
    order = [names.get(layer, layer.removeprefix("bot.")) for layer in reversed(LAYERS)]
    line = " → ".join(o for o in order if o != "migrations")
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"Imports point down this list and never up: {line}" in readme
