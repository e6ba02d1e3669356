"""Every result file of an eval run, in one folder: LCB records, summary JSON and markdown, plots."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from trident.evals import plots
from trident.evals.extras import MissingExtra
from trident.evals.lcb.problems import Problem
from trident.evals.report import Scenario, Summary, eval_all_records, markdown


def write_report(
    out: Path, problems: list[Problem], summary: Summary, scenarios: list[Scenario]
) -> list[Path]:
    """Write every result file of the run into `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for scenario in scenarios:
        path = out / scenario.eval_all_name
        path.write_text(json.dumps(eval_all_records(problems, scenario), indent=2) + "\n", encoding="utf-8")
        written.append(path)
    summary_path = out / "summary.json"
    summary_path.write_text(summary.model_dump_json(indent=2, by_alias=True) + "\n", encoding="utf-8")
    markdown_path = out / "summary.md"
    markdown_path.write_text(markdown(summary), encoding="utf-8")
    written += [summary_path, markdown_path]
    try:
        written.append(plots.plot_pass_by_difficulty(summary, out / "pass1_by_difficulty.png"))
        written.append(plots.plot_verdicts(summary, out / "verdicts.png"))
        if any(score.by_month for score in summary.scenarios.values()):
            written.append(plots.plot_pass_by_month(summary, out / "pass1_by_month.png"))
    except MissingExtra as exc:
        print(f"trident eval: no plots written (summary.json and summary.md are): {exc}", file=sys.stderr)
    return written
