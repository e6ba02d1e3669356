"""PNG plots of an eval summary (matplotlib, Agg backend: no display needed).

matplotlib comes with the `eval` extra; without it `MissingExtra` says how to install it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from trident.evals.extras import MissingExtra
from trident.evals.report import Summary


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as exc:
        raise MissingExtra("plotting", "matplotlib") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


VERDICT_COLORS = {
    "pass": "#2e7d32",
    "wrong_answer": "#c62828",
    "time_limit": "#ef6c00",
    "runtime_error": "#6a1b9a",
    "compile_error": "#283593",
    "timeout": "#8d6e63",
    "runner_error": "#546e7a",
}
SCENARIO_COLORS = ("#1565c0", "#f9a825", "#00897b", "#ad1457", "#5d4037")


def plot_pass_by_difficulty(summary: Summary, path: Path) -> Path:
    """Grouped bars: pass@1 overall and per difficulty, one bar per scenario, values on the bars."""
    plt = _pyplot()
    names = list(summary.scenarios)
    categories = ["overall"] + [
        d for d in ("easy", "medium", "hard") if any(d in s.by_difficulty for s in summary.scenarios.values())
    ]
    width = 0.8 / max(len(names), 1)
    figure, axes = plt.subplots(figsize=(2.0 + 1.6 * len(categories), 4.2), dpi=120)
    for number, name in enumerate(names):
        score = summary.scenarios[name]
        values, counts = [score.pass_at_1], [score.problems]
        for difficulty in categories[1:]:
            group = score.by_difficulty.get(difficulty)
            values.append(group.pass_at_1 if group else 0.0)
            counts.append(group.problems if group else 0)
        positions = [i + (number - (len(names) - 1) / 2) * width for i in range(len(categories))]
        bars = axes.bar(positions, values, width * 0.95, label=name, color=SCENARIO_COLORS[number % 5])
        for bar, value, count in zip(bars, values, counts, strict=True):
            axes.annotate(
                f"{value:.0f}%\n({count})",
                (bar.get_x() + bar.get_width() / 2, value),
                ha="center",
                va="bottom",
                fontsize=7,
            )
    axes.set_xticks(range(len(categories)), categories)
    axes.set_ylim(0, 115)
    axes.set_ylabel("pass@1 (%)")
    axes.legend(fontsize=8, loc="upper right")
    return _finish(plt, figure, axes, path, f"pass@1 by difficulty (problems in parentheses) · {summary.run}")


def _finish(plt: Any, figure: Any, axes: Any, path: Path, title: str) -> Path:
    """Title, grid, save, close: the end of a pass@1 plot."""
    axes.set_title(title, fontsize=10)
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def plot_verdicts(summary: Summary, path: Path) -> Path:
    """Stacked horizontal bars: the share of samples per verdict, one bar per scenario."""
    plt = _pyplot()
    names = list(summary.scenarios)
    verdicts = sorted(
        {v for s in summary.scenarios.values() for v in s.verdicts},
        key=lambda v: (list(VERDICT_COLORS).index(v) if v in VERDICT_COLORS else len(VERDICT_COLORS), v),
    )
    figure, axes = plt.subplots(figsize=(8, 1.0 + 0.6 * len(names)), dpi=120)
    left = [0.0] * len(names)
    for verdict in verdicts:
        shares = [
            100 * s.verdicts.get(verdict, 0) / s.samples if s.samples else 0.0
            for s in (summary.scenarios[n] for n in names)
        ]
        color = VERDICT_COLORS.get(verdict, "#9e9e9e")
        bars = axes.barh(names, shares, left=left, label=verdict, color=color)
        for bar, share in zip(bars, shares, strict=True):
            if share >= 6:
                axes.text(
                    bar.get_x() + bar.get_width() / 2,
                    bar.get_y() + bar.get_height() / 2,
                    f"{share:.0f}%",
                    ha="center",
                    va="center",
                    color="white",
                    fontsize=8,
                )
        left = [a + b for a, b in zip(left, shares, strict=True)]
    axes.set_xlim(0, 100)
    axes.set_xlabel("samples (%)")
    axes.invert_yaxis()
    axes.set_title(f"verdicts · {summary.run}", fontsize=10)
    axes.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    figure.savefig(path, bbox_inches="tight")
    plt.close(figure)
    return path


def plot_pass_by_month(summary: Summary, path: Path) -> Path:
    """pass@1 per contest month, one line per scenario with its 95% intervals as error bars; with a
    cut-off date (`--cutoff`), a dashed line at it, the months from it on shaded (clean), and each
    scenario's contaminated and clean pass@1 in the legend. LiveCodeBench's leaderboard view."""
    plt = _pyplot()
    from matplotlib import dates as mdates

    names = [name for name, score in summary.scenarios.items() if score.by_month]
    months = sorted({month for name in names for month in summary.scenarios[name].by_month})
    figure, axes = plt.subplots(figsize=(max(6.0, 1.0 + 0.32 * len(months)), 4.2), dpi=120)
    for number, name in enumerate(names):
        groups = summary.scenarios[name].by_month
        shown = [m for m in months if m in groups]
        x = [datetime.strptime(m + "-15", "%Y-%m-%d") for m in shown]
        y = [groups[m].pass_at_1 for m in shown]
        below = [groups[m].pass_at_1 - groups[m].pass_at_1_ci.low for m in shown]
        above = [groups[m].pass_at_1_ci.high - groups[m].pass_at_1 for m in shown]
        split = summary.scenarios[name].by_cutoff
        label = name + "".join(
            f" · {part} {split[part].pass_at_1:.1f} ({split[part].problems})"
            for part in ("contaminated", "clean")
            if part in split
        )
        style = {"fmt": "o-", "capsize": 2, "markersize": 4, "linewidth": 1, "elinewidth": 0.7}
        axes.errorbar(x, y, yerr=[below, above], color=SCENARIO_COLORS[number % 5], label=label, **style)
        if number == 0:
            for when, value, month in zip(x, y, shown, strict=True):
                axes.annotate(
                    str(groups[month].problems), (when, value), textcoords="offset points", xytext=(0, 5),
                    ha="center", fontsize=6, color="#555555",
                )  # fmt: skip
    if summary.cutoff is not None:
        cut = datetime.combine(summary.cutoff, datetime.min.time())
        axes.axvline(cut, color="#b71c1c", linestyle="--", linewidth=1.2, label=f"cut-off {summary.cutoff}")
        right = max([cut, *(datetime.strptime(m + "-28", "%Y-%m-%d") for m in months)])
        axes.axvspan(cut, right, color="#2e7d32", alpha=0.06)
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    axes.xaxis.set_major_locator(mdates.MonthLocator(interval=max(1, len(months) // 12)))
    figure.autofmt_xdate(rotation=45)
    axes.set_ylim(-5, 110)
    axes.set_ylabel("pass@1 (%), 95% CI")
    axes.legend(fontsize=7, loc="lower left")
    return _finish(
        plt, figure, axes, path, f"pass@1 by contest month (problems above the points) · {summary.run}"
    )
