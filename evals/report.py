"""The results of an eval run: LCB-compatible records, a summary (JSON and markdown), PNG plots.

`results/<run>/` gets, per scenario (`codegeneration` for plain generation, one per effort level
when several are asked; `agentic` for agent runs), `<scenario>_<n>_<T>_eval_all.json` with
upstream's per-problem records (question fields, `output_list`, `code_list`, `graded_list`,
`pass@1`, `metadata` as JSON strings) plus `effort_list` and `verdict_list`; then `summary.json`
(data window and problem count, settings, pass@1 and pass@k overall, by difficulty, platform and
effort, release, contest month and either side of a cut-off date, verdict counts, latencies),
`summary.md` (the same as tables, scenarios side by side), and the plots (`trident.evals.plots`).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from trident.evals import stats
from trident.evals.lcb.grader import SampleResult
from trident.evals.lcb.passk import mean_pass_at_k
from trident.evals.lcb.problems import LATEST, Problem, Window, in_dates, problem_fields, release_of_date

DIFFICULTIES = ("easy", "medium", "hard")
PLATFORMS = ("atcoder", "codeforces", "leetcode")
KS = (1, 5, 10)


class Sample(BaseModel):
    """A graded sample of one scenario."""

    question_id: str
    sample_index: int
    effort: str
    output: str
    code: str
    result: SampleResult
    duration_s: float | None = None  # producing it: the model's answer or the agent run (None: given)


@dataclass
class Scenario:
    name: str
    mode: str  # plain | agentic
    n: int
    temperature: float | None
    samples: list[Sample]
    notes: dict[str, Any] | None = None  # extra per-scenario facts (agentic: statuses, steps)

    @property
    def eval_all_name(self) -> str:
        return f"{self.name}_{self.n}_{self.temperature}_eval_all.json"


class Interval(BaseModel):
    """A 95% confidence interval on a pass@1, in % (`stats.pass1_interval` says how)."""

    low: float
    high: float
    method: str


class Group(BaseModel):
    problems: int
    samples: int
    pass_at_1: float = Field(serialization_alias="pass@1")
    pass_at_1_ci: Interval = Field(serialization_alias="pass@1 95% CI")


class Paired(BaseModel):
    """Two scenarios compared problem by problem, on the problems both have scored samples of."""

    problems: int  # in common
    first_better: list[str]  # problems the first scenario solves more often (one sample: it flips)
    second_better: list[str]
    pass_at_1_difference: float = Field(serialization_alias="pass@1 difference")  # second - first, %
    test: str
    p_value: float


class Scores(BaseModel):
    mode: str
    n: int
    temperature: float | None
    problems: int
    samples: int
    pass_at_1: float = Field(serialization_alias="pass@1")
    pass_at_1_ci: Interval = Field(serialization_alias="pass@1 95% CI")
    pass_at_k: dict[str, float] = Field(serialization_alias="pass@k")
    samples_per_problem: dict[str, int] = Field(default_factory=dict)  # scored: fewest, most
    infra_failures: list[str] = Field(
        default_factory=list
    )  # question_id#sample: not scored, regraded next run
    regraded_alone: dict[str, list[str]] = Field(default_factory=dict)  # sample -> why, each time
    by_difficulty: dict[str, Group]
    by_platform: dict[str, Group]
    by_effort: dict[str, Group]
    # LiveCodeBench's leaderboard views: by the release that added the problem (v1..v6), by contest
    # month (YYYY-MM), and split at the model's cut-off date: problems of contests before it
    # (`contaminated`: the model may have seen them) and from it on (`clean`)
    by_release: dict[str, Group] = Field(default_factory=dict)
    by_month: dict[str, Group] = Field(default_factory=dict)
    by_cutoff: dict[str, Group] = Field(default_factory=dict)
    # seconds per sample: `grade` (grading), `model` (one answer) or `agent` (one agent run);
    # count, mean, min, p50, p90, p95, p99, max
    latency_s: dict[str, dict[str, float]] = Field(default_factory=dict)
    verdicts: dict[str, int]
    eval_all: str
    notes: dict[str, Any] = Field(default_factory=dict)


class Summary(BaseModel):
    run: str
    model: str | None
    generations_file: str | None
    # given code for problems of the data outside the window (dates, release, --limit): not graded,
    # as upstream's scoring filters its records; {"problems", "samples"} (None: no given code)
    generations_outside_window: dict[str, int] | None = None
    data: Window
    settings: dict[str, Any]
    cutoff: date | None = None  # the model's cut-off date (`--cutoff`): splits by_cutoff
    durations_s: dict[str, float] = Field(default_factory=dict)  # this invocation's stages
    # every invocation of the run so far (a resumed run adds up), interrupted ones included
    cumulative_durations_s: dict[str, float] = Field(default_factory=dict)
    invocations: int = 1
    scenarios: dict[str, Scores]
    # per pair of scenarios "A vs B": problems A solves more often than B ("A better") and the reverse
    differences: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    # every pair of scenarios "B vs A" (A listed first): flips and an exact paired test
    paired: dict[str, Paired] = Field(default_factory=dict)
    # what produced these numbers: trident version and commit, data sha256s, sandbox and image,
    # the sampling parameters sent, seeds
    provenance: dict[str, Any] = Field(default_factory=dict)
    # where this invocation's agent runs and grades ran: executor kind, nodes, per-node throughput
    executor: dict[str, Any] = Field(default_factory=dict)


def _by_problem(samples: Iterable[Sample]) -> dict[str, list[Sample]]:
    grouped: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        grouped[sample.question_id].append(sample)
    return grouped


INFRA = "infra_failure"  # the grader failed, not the sample: never scored, listed in the summary


def _scored(samples: Iterable[Sample]) -> list[Sample]:
    return [s for s in samples if s.result.verdict_name != INFRA]


def _mean_pass(grouped: dict[str, list[Sample]], k: int = 1) -> float:
    """pass@k averaged over problems (the unbiased estimator per problem), as a fraction. Samples the
    grader failed on (infra_failure) are left out; pass@k needs k scored samples of every problem."""
    groups = [_scored(group) for group in grouped.values()]
    groups = [group for group in groups if group]
    if k > 1 and any(len(group) < k for group in groups):
        raise ValueError(f"pass@{k} needs {k} samples of every problem")
    counts = [(len(group), sum(s.result.passed for s in group)) for group in groups]
    return mean_pass_at_k(counts, k) if counts else 0.0


def _interval(grouped: dict[str, list[Sample]]) -> Interval:
    groups = [group for group in (_scored(g) for g in grouped.values()) if group]
    low, high, method = stats.pass1_interval([(len(g), sum(s.result.passed for s in g)) for g in groups])
    return Interval(low=round(100 * low, 2), high=round(100 * high, 2), method=method)


def _pass_at_k(grouped: dict[str, list[Sample]]) -> tuple[dict[str, float], dict[str, int]]:
    """pass@k as upstream reports it: only for k every problem has samples for; with the counts."""
    sizes = [len(_scored(group)) for group in grouped.values()]
    fewest = min(sizes, default=0)
    values = {f"pass@{k}": round(100 * _mean_pass(grouped, k), 2) for k in KS if k <= fewest}
    return values, {"fewest": fewest, "most": max(sizes, default=0)}


def _group(grouped: dict[str, list[Sample]]) -> Group:
    return Group(
        problems=sum(1 for samples in grouped.values() if _scored(samples)),
        samples=sum(len(s) for s in grouped.values()),
        pass_at_1=round(100 * _mean_pass(grouped), 2),
        pass_at_1_ci=_interval(grouped),
    )


def _split(
    grouped: dict[str, list[Sample]], label: dict[str, str], order: tuple[str, ...]
) -> dict[str, Group]:
    parts: dict[str, dict[str, list[Sample]]] = defaultdict(dict)
    for question_id, samples in grouped.items():
        parts[label[question_id]][question_id] = samples
    names = [name for name in order if name in parts] + sorted(set(parts) - set(order))
    return {name: _group(parts[name]) for name in names}


CONTAMINATED, CLEAN = "contaminated", "clean"
RELEASE_ORDER = (*(f"v{n}" for n in range(1, LATEST + 1)), "no release")


def release_label(problem: Problem) -> str:
    """The release that added the problem: as the loader found it (by file for upstream's files),
    else by its contest date."""
    number = problem.release if problem.release is not None else release_of_date(problem.contest_date.date())
    return f"v{number}" if number is not None else "no release"


def cutoff_label(problem: Problem, cutoff: date) -> str:
    """Before the cut-off's midnight: contaminated; from it on: clean (upstream's date semantics, so
    `--cutoff D` splits as `--end-date`/`--start-date D` select)."""
    return CLEAN if in_dates(problem.contest_date, cutoff, None) else CONTAMINATED


def _latency(scenario: Scenario) -> dict[str, dict[str, float]]:
    out = {"grade": stats.distribution([s.result.duration_s for s in scenario.samples])}
    produced = [s.duration_s for s in scenario.samples if s.duration_s is not None]
    if produced:
        out["agent" if scenario.mode == "agentic" else "model"] = stats.distribution(produced)
    return out


def scores(
    problems: list[Problem], scenario: Scenario, cutoff: date | None = None, dated: bool = True
) -> Scores:
    """A scenario's scores; `dated`: the problems' contest dates mean something (LiveCodeBench), so
    the by-release, by-month and cut-off views are given."""
    grouped = _by_problem(scenario.samples)
    months = {p.question_id: f"{p.contest_date:%Y-%m}" for p in problems}
    releases = {p.question_id: release_label(p) for p in problems}
    by_effort: dict[str, dict[str, list[Sample]]] = defaultdict(dict)
    for question_id, samples in grouped.items():
        for effort in sorted({s.effort for s in samples}):
            by_effort[effort][question_id] = [s for s in samples if s.effort == effort]
    verdicts = Counter(sample.result.verdict_name for sample in scenario.samples)
    pass_k, per_problem = _pass_at_k(grouped)
    infra = [f"{s.question_id}#{s.sample_index}" for s in scenario.samples if s.result.verdict_name == INFRA]
    regraded = [s for s in scenario.samples if s.result.regraded]
    return Scores(
        mode=scenario.mode,
        n=scenario.n,
        temperature=scenario.temperature,
        problems=len(grouped),
        samples=len(scenario.samples),
        pass_at_1=round(100 * _mean_pass(grouped), 2),
        pass_at_1_ci=_interval(grouped),
        pass_at_k=pass_k,
        samples_per_problem=per_problem,
        infra_failures=infra,
        regraded_alone={f"{s.question_id}#{s.sample_index}": s.result.regraded for s in regraded},
        by_difficulty=_split(grouped, {p.question_id: p.difficulty for p in problems}, DIFFICULTIES),
        by_platform=_split(grouped, {p.question_id: p.platform for p in problems}, PLATFORMS),
        by_effort={effort: _group(part) for effort, part in sorted(by_effort.items())},
        by_release=_split(grouped, releases, RELEASE_ORDER) if dated else {},
        by_month=_split(grouped, months, tuple(sorted(set(months.values())))) if dated else {},
        by_cutoff=(
            _split(grouped, {p.question_id: cutoff_label(p, cutoff) for p in problems}, (CONTAMINATED, CLEAN))
            if dated and cutoff is not None
            else {}
        ),
        latency_s=_latency(scenario),
        verdicts=dict(verdicts.most_common()),
        eval_all=scenario.eval_all_name,
        notes=scenario.notes or {},
    )


def differences(scenarios: list[Scenario]) -> dict[str, dict[str, list[str]]]:
    """For each scenario against the first one (plain vs agentic, effort none vs high): the problems
    whose pass rate differs, either way."""
    if len(scenarios) < 2:
        return {}
    rates = [
        {
            q: sum(s.result.passed for s in samples) / len(samples)
            for q, samples in _by_problem(_scored(sc.samples)).items()
        }
        for sc in scenarios
    ]
    base, out = scenarios[0].name, {}
    for scenario, rate in zip(scenarios[1:], rates[1:], strict=True):
        common = sorted(set(rate) & set(rates[0]))
        out[f"{scenario.name} vs {base}"] = {
            f"{scenario.name} better": [q for q in common if rate[q] > rates[0][q]],
            f"{base} better": [q for q in common if rate[q] < rates[0][q]],
        }
    return out


def _rates(scenario: Scenario) -> dict[str, float]:
    return {
        q: sum(s.result.passed for s in samples) / len(samples)
        for q, samples in _by_problem(_scored(scenario.samples)).items()
    }


def paired(scenarios: list[Scenario]) -> dict[str, Paired]:
    """Every pair of scenarios, problem by problem: which problems one solves more often than the
    other, and the exact sign test on them (McNemar's exact test with one sample per problem)."""
    out: dict[str, Paired] = {}
    for i, first in enumerate(scenarios):
        for second in scenarios[i + 1 :]:
            a, b = _rates(first), _rates(second)
            common = sorted(set(a) & set(b))
            first_better = [q for q in common if a[q] > b[q]]
            second_better = [q for q in common if b[q] > a[q]]
            single = all(
                len(_scored(g)) == 1
                for sc in (first, second)
                for q, g in _by_problem(sc.samples).items()
                if q in common
            )
            diff = sum(b[q] - a[q] for q in common) / len(common) if common else 0.0
            out[f"{second.name} vs {first.name}"] = Paired(
                problems=len(common),
                first_better=first_better,
                second_better=second_better,
                pass_at_1_difference=round(100 * diff, 2),
                test=stats.MCNEMAR if single else stats.SIGN_TEST,
                p_value=round(stats.sign_test(len(second_better), len(first_better)), 6),
            )
    return out


def eval_all_records(problems: list[Problem], scenario: Scenario) -> list[dict[str, Any]]:
    """Upstream's `*_eval_all.json` records, one per problem with samples, sorted by question_id."""
    grouped = _by_problem(scenario.samples)
    records: list[dict[str, Any]] = []
    for problem in sorted(problems, key=lambda p: p.question_id):
        samples = sorted(grouped.get(problem.question_id, []), key=lambda s: s.sample_index)
        if not samples:
            continue
        graded = [s.result.passed for s in samples]
        records.append(
            {
                **problem_fields(problem),
                "output_list": [s.output for s in samples],
                "code_list": [s.code for s in samples],
                "graded_list": graded,
                "pass@1": graded.count(True) / len(graded),
                "metadata": [json.dumps(s.result.metadata) for s in samples],
                "effort_list": [s.effort for s in samples],
                "verdict_list": [s.result.verdict_name for s in samples],
            }
        )
    return records


def _ci(interval: Interval) -> str:
    return f"[{interval.low:.1f}, {interval.high:.1f}]"


def _cell(group: Group | None) -> str:
    return "–" if group is None else f"{group.pass_at_1:.1f} {_ci(group.pass_at_1_ci)} ({group.problems})"


def _listed(ids: list[str], shown: int = 8) -> str:
    if not ids:
        return "0"
    return f"{len(ids)} ({', '.join(ids[:shown])}{' …' if len(ids) > shown else ''})"


def _rows(scored: list[Scores], field: str, order: tuple[str, ...], label: Callable[[str], str]) -> list[str]:
    """Table rows `| label(key) | cell | ... |`, one per key any scenario has."""
    keys = list(order) + sorted({key for s in scored for key in getattr(s, field)} - set(order))
    lines = []
    for key in keys:
        groups = [getattr(s, field).get(key) for s in scored]
        if any(groups):
            lines.append(f"| {label(key)} | " + " | ".join(_cell(g) for g in groups) + " |")
    return lines


def markdown(summary: Summary) -> str:
    """The summary as markdown tables: one column per scenario, side by side."""
    names = list(summary.scenarios)
    scored = [summary.scenarios[name] for name in names]
    window = summary.data
    dates = f"{window.start_date or '…'} to {window.end_date or '…'}"
    lines = [
        f"# trident eval `{summary.run}`",
        "",
        f"- model: `{summary.model or 'none (graded given code)'}`"
        + (f", generations `{summary.generations_file}`" if summary.generations_file else ""),
        f"- data: `{window.source}`, release {window.release or 'all'}, dates {dates}: "
        f"{window.count} problems",
        *(
            [
                f"- given code outside the window (not graded, as upstream's scoring filters): "
                f"{outside['samples']} samples of {outside['problems']} problems"
            ]
            if (outside := summary.generations_outside_window)
            else []
        ),
        "- settings: "
        + ", ".join(f"{key} {value}" for key, value in summary.settings.items() if value is not None),
        *(
            [
                "- time: "
                + ", ".join(f"{stage} {seconds:g} s" for stage, seconds in summary.durations_s.items())
            ]
            if summary.durations_s
            else []
        ),
        *(
            [
                f"- time over the run's {summary.invocations} invocations: "
                + ", ".join(
                    f"{stage} {seconds:g} s" for stage, seconds in summary.cumulative_durations_s.items()
                )
            ]
            if summary.invocations > 1 and summary.cumulative_durations_s
            else []
        ),
        "",
        "pass@1 in % [95% confidence interval] (problems); pass@1 per problem is the fraction of its"
        " samples that pass all tests.",
        "",
        "| | " + " | ".join(f"`{name}`" for name in names) + " |",
        "|---|" + "---:|" * len(names),
        "| **overall** | "
        + " | ".join(f"**{s.pass_at_1:.1f}** {_ci(s.pass_at_1_ci)} ({s.problems})" for s in scored)
        + " |",
    ]
    for k in KS[1:]:
        if any(f"pass@{k}" in s.pass_at_k for s in scored):
            cells = [f"{s.pass_at_k[f'pass@{k}']:.1f}" if f"pass@{k}" in s.pass_at_k else "–" for s in scored]
            lines.append(f"| pass@{k} | " + " | ".join(cells) + " |")
    rows: list[tuple[str, str, tuple[str, ...]]] = [
        ("difficulty", "by_difficulty", DIFFICULTIES),
        ("platform", "by_platform", PLATFORMS),
        ("effort", "by_effort", ()),
    ]
    for title, field, order in rows:
        lines += _rows(scored, field, order, f"{title}: {{}}".format)
    cutoff = summary.cutoff
    if cutoff is not None:
        names_at = {CONTAMINATED: f"contaminated (before {cutoff})", CLEAN: f"clean (from {cutoff})"}
        lines += _rows(scored, "by_cutoff", (CONTAMINATED, CLEAN), names_at.__getitem__)
    for title, field, order in (("release", "by_release", RELEASE_ORDER), ("contest month", "by_month", ())):
        if any(getattr(s, field) for s in scored):
            lines += ["", f"By {title}:", "", "| | " + " | ".join(f"`{name}`" for name in names) + " |"]
            lines.append("|---|" + "---:|" * len(names))
            lines += _rows(scored, field, order, str)
    verdict_names = sorted({v for s in scored for v in s.verdicts}, key=lambda v: (v != "pass", v))
    lines += ["", "Verdicts (samples):", "", "| verdict | " + " | ".join(f"`{n}`" for n in names) + " |"]
    lines.append("|---|" + "---:|" * len(names))
    for verdict in verdict_names:
        lines.append(f"| {verdict} | " + " | ".join(str(s.verdicts.get(verdict, 0)) for s in scored) + " |")
    for pair, sides in summary.differences.items():
        counts = ", ".join(f"{side}: {_listed(ids)}" for side, ids in sides.items())
        lines += ["", f"{pair}, problems whose pass rate differs: {counts}"]
    methods = sorted(
        {s.pass_at_1_ci.method for s in scored}
        | {
            g.pass_at_1_ci.method
            for s in scored
            for f in ("by_difficulty", "by_platform", "by_effort", "by_release", "by_month", "by_cutoff")
            for g in getattr(s, f).values()
        }
    )
    if methods:
        lines += ["", "Intervals: " + "; ".join(methods) + "."]
    if summary.paired:
        lines += [
            "",
            "Paired comparisons (problems both scored):",
            "",
            "| pair | problems | first better | second better | pass@1 difference | p | test |",
            "|---|---:|---|---|---:|---:|---|",
        ]
        for pair, item in summary.paired.items():
            lines.append(
                f"| {pair} | {item.problems} | {_listed(item.first_better, 4)} | "
                f"{_listed(item.second_better, 4)} | {item.pass_at_1_difference:+.1f} | "
                f"{item.p_value:.3g} | {item.test} |"
            )
    if summary.provenance:
        facts = ", ".join(
            f"{key} {json.dumps(value) if isinstance(value, dict | list) else value}"
            for key, value in summary.provenance.items()
            if value is not None
        )
        lines += ["", f"Provenance: {facts}"]
    for name, score in zip(names, scored, strict=True):
        per = score.samples_per_problem
        if per:
            lines += [
                "",
                f"`{name}`: {per.get('fewest')} to {per.get('most')} scored samples per problem"
                " (pass@k only for k up to the fewest)",
            ]
        if score.infra_failures:
            lines += [
                "",
                f"`{name}`: grader failures (not scored, graded again on the next run): "
                + _listed(score.infra_failures),
            ]
        if score.regraded_alone:
            lines += [
                "",
                f"`{name}`: graded again alone after a batch went wrong: "
                + _listed(sorted(score.regraded_alone)),
            ]
        if score.notes:
            facts = ", ".join(f"{key} {value}" for key, value in score.notes.items())
            lines += ["", f"`{name}`: {facts}"]
        for what, spread in score.latency_s.items():
            if spread.get("count"):
                lines += [
                    "",
                    f"`{name}`: seconds per sample ({what}): median {spread['p50']:g}, "
                    f"p90 {spread['p90']:g}, p99 {spread['p99']:g}, max {spread['max']:g}",
                ]
    return "\n".join(lines) + "\n"
