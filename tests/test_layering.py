"""The import structure stays a layered house: no cycles between modules, no arrow running back up.

Every import of a `trident` module is read from the source (function-level and TYPE_CHECKING
imports included). Top-level packages and the rooms of `trident.agent` each have a floor; a module
may import only from its own room or from a lower floor. ARCHITECTURE.md states the same order.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.static_checks import REPO, SUBPACKAGES

# Lowest first. A room is a sub-package or a module directly in its package.
TOP_FLOORS = ["sandbox", "tools", "agent", "evals", "cli"]
AGENT_FLOORS = [
    ["core"],
    ["config"],
    ["intake"],
    ["llm"],
    ["policies"],
    ["history"],
    ["state"],
    ["loop", "prompt"],
    ["wiring"],
    ["scale"],
    ["headless", "session"],
    ["tui"],
]


def _modules() -> dict[str, Path]:
    """Every module of the installed package, by its dotted name."""
    found: dict[str, Path] = {}
    roots = {"trident": REPO / "trident", **{f"trident.{name}": REPO / name for name in SUBPACKAGES}}
    for package, root in roots.items():
        pattern = "*.py" if package == "trident" else "**/*.py"
        for path in root.glob(pattern):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: len(name.split(".")) - node.level + is_package]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _floor(module: str) -> tuple[int, int]:
    """(top-level floor, floor inside agent) of a module."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 and parts[1] in SUBPACKAGES else "cli"
    inner = 0
    if top == "agent" and len(parts) > 2:
        inner = next(i for i, room in enumerate(AGENT_FLOORS, 1) if parts[2] in room)
    return TOP_FLOORS.index(top), inner


def _room(module: str) -> tuple[str, ...]:
    """A top-level package is one room, except `trident.agent`, whose rooms are its sub-packages."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1] not in SUBPACKAGES:
        return ("trident",)
    return tuple(parts[:3]) if parts[1] == "agent" else tuple(parts[:2])


def test_every_agent_room_has_a_floor() -> None:
    rooms = {name.split(".")[2] for name in graph() if name.startswith("trident.agent.")}
    floored = {room for floor in AGENT_FLOORS for room in floor}
    assert rooms == floored, (
        f"rooms without a floor: {rooms - floored}; floors without a room: {floored - rooms}"
    )


def test_no_import_runs_back_up() -> None:
    upward = []
    for module, targets in graph().items():
        for target in targets:
            if target in ("trident", "trident.agent") or module in ("trident", "trident.agent"):
                continue  # the packages' faces hold no code
            if _room(module) != _room(target) and _floor(target) >= _floor(module):
                upward.append(f"{module} -> {target}")
    assert not upward, "imports that run back up (or sideways between rooms):\n" + "\n".join(sorted(upward))


def test_no_import_cycles() -> None:
    edges = graph()
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_checker_sees_arrows() -> None:
    edges = graph()
    assert "trident.agent.core.events" in edges["trident.agent.loop"]
    assert "trident.sandbox.base" in edges["trident.tools.base"]
    assert (
        _floor("trident.agent.tui.app") > _floor("trident.agent.session.chat") > _floor("trident.agent.loop")
    )


def test_architecture_lists_every_module() -> None:
    """ARCHITECTURE.md stays true: every module of the package is named in it by its path."""
    text = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")
    missing = [
        str(path.relative_to(REPO))
        for path in _modules().values()
        if path.name != "__init__.py" and str(path.relative_to(REPO)) not in text
    ]
    assert not missing, "modules ARCHITECTURE.md does not list:\n" + "\n".join(sorted(missing))
