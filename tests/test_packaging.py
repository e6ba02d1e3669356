"""The wheel installs one import package, `trident`, and nothing imports the folders by their own names."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.static_checks import REPO, SUBPACKAGES

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
SOURCE_DIRS = ["trident", *SUBPACKAGES, "tests", "benchmarks"]


def test_every_package_folder_is_listed_in_pyproject() -> None:
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = {"trident"} | {
        ".".join(["trident", *init.parent.relative_to(REPO).parts])
        for name in SUBPACKAGES
        for init in (REPO / name).rglob("__init__.py")
    }
    assert listed == on_disk


def test_no_module_imports_a_folder_by_its_own_name() -> None:
    """`import agent` works from the repo root but not once installed: only `trident.…` is allowed."""
    bad = []
    for folder in SOURCE_DIRS:
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                bad += [f"{path.relative_to(REPO)}: {n}" for n in names if n.split(".")[0] in SUBPACKAGES]
    assert not bad, "\n".join(bad)


@pytest.mark.slow
def test_the_wheel_holds_only_the_trident_package(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: setuptools writes build/ and *.egg-info beside the sources
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
        timeout=240,
    )
    (wheel,) = tmp_path.glob("trident_agent-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        scripts = archive.read(entry_points).decode()
    tops = {name.split("/")[0] for name in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"trident"}
    assert "trident = trident.cli:main" in scripts
    for expected in (
        "trident/agent/loop.py",
        "trident/agent/system_prompt.md",
        "trident/tools/read.md",
        "trident/sandbox/runner.py",
        "trident/evals/data/trident_lcb.jsonl",
    ):
        assert expected in names
