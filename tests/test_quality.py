"""The code stays ruff- and mypy-clean: checked as part of the test suite, so CI enforces it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.static_checks import commands, installed_view, run

CHECKS = {"ruff-check": 0, "ruff-format": 1, "mypy": 2}


@pytest.mark.parametrize("check", list(CHECKS))
def test_static_checks_pass(check: str, tmp_path: Path) -> None:
    view = installed_view(tmp_path)
    result = run(commands(view)[CHECKS[check]], view)
    assert result.returncode == 0, result.stdout + result.stderr
