"""The project's test command when none is configured: guessed from the repository's common layouts.

Read from the host's copy of the repository (file names and a few small config files; nothing is
run). The first that fits wins: pytest's own config, a `package.json` with a real `test` script,
`Cargo.toml`, `go.mod`, then Python test files (unittest when they use it and not pytest).
"""

from __future__ import annotations

import json
from pathlib import Path

PYTEST = "python -m pytest -q"
NPM_DEFAULT = 'echo "Error: no test specified"'  # the test script `npm init` writes
PYTEST_CONFIGS = (
    ("pytest.ini", ""),
    ("conftest.py", ""),
    ("pyproject.toml", "[tool.pytest"),
    ("setup.cfg", "[tool:pytest]"),
    ("tox.ini", "[pytest]"),
)
TEST_DIRS = (".", "tests", "test")
READ_BYTES = 256 * 1024


def _read(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(READ_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""


def _python_tests(repo: Path) -> list[Path]:
    found: list[Path] = []
    for folder in TEST_DIRS:
        where = repo / folder
        if where.is_dir():
            found += sorted(p for p in where.glob("test*.py") if p.is_file())
            found += sorted(p for p in where.glob("*_test.py") if p.is_file())
    return found


def detect_test_command(repo: Path) -> str | None:
    """A test command for `repo`'s layout, or None when nothing common fits."""
    for name, marker in PYTEST_CONFIGS:
        path = repo / name
        if path.is_file() and (not marker or marker in _read(path)):
            return PYTEST
    package = repo / "package.json"
    if package.is_file():
        try:
            scripts = json.loads(_read(package)).get("scripts") or {}
        except (ValueError, AttributeError):
            scripts = {}
        test = scripts.get("test") if isinstance(scripts, dict) else None
        if isinstance(test, str) and test.strip() and not test.startswith(NPM_DEFAULT):
            return "npm test"
    if (repo / "Cargo.toml").is_file():
        return "cargo test"
    if (repo / "go.mod").is_file():
        return "go test ./..."
    tests = _python_tests(repo)
    if not tests:
        return None
    sources = [_read(path) for path in tests[:50]]
    if any("pytest" in text for text in sources) or not any("unittest" in text for text in sources):
        return PYTEST
    start = next((folder for folder in TEST_DIRS[1:] if (repo / folder).is_dir()), None)
    return f"python -m unittest discover -s {start}" if start else "python -m unittest"
