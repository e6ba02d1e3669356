"""ruff and mypy over the whole tree; `python -m tests.static_checks` runs them as the tests do.

mypy finds modules by their place on disk, and the repository's folders (`agent/`, `tools/`, ...)
are installed under other names (`trident.agent`, ...) by setuptools' package-dir mapping, which
mypy cannot read from an editable install. So mypy checks a view of the tree as it is installed:
a `trident/` folder of symlinks in a temporary directory, the tests and benchmarks beside it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SUBPACKAGES = ("agent", "tools", "sandbox", "evals")  # as in pyproject.toml's [tool.setuptools.package-dir]


def installed_view(dest: Path) -> Path:
    """`dest/trident`: the import package as the wheel lays it out, each file a symlink into the repo."""
    package = dest / "trident"
    package.mkdir(parents=True)
    for entry in (REPO / "trident").iterdir():
        if entry.suffix == ".py":
            (package / entry.name).symlink_to(entry)
    for name in SUBPACKAGES:
        (package / name).symlink_to(REPO / name, target_is_directory=True)
    return dest


def commands(view: Path) -> list[list[str]]:
    return [
        [sys.executable, "-m", "ruff", "check", "."],
        [sys.executable, "-m", "ruff", "format", "--check", "."],
        [sys.executable, "-m", "mypy", str(view / "trident"), "tests", "benchmarks"],
    ]


def run(command: list[str], view: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MYPYPATH": str(view)}
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="trident-typecheck-") as tmp:
        view = installed_view(Path(tmp))
        failed = 0
        for command in commands(view):
            result = run(command, view)
            print(f"$ {' '.join(command[2:])}\n{result.stdout}{result.stderr}", end="")
            failed |= result.returncode != 0
        return failed


if __name__ == "__main__":
    raise SystemExit(main())
