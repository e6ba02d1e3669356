"""Reports from SampleResults built here: scores, LCB records, markdown, PNGs."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from tests.evals.toy_problems import ADD, MAXIMUM, PROBLEMS, TWICE
from trident.evals.lcb.grader import SampleResult
from trident.evals.lcb.problems import Window
from trident.evals.report import (
    Sample,
    Scenario,
    Summary,
    differences,
    eval_all_records,
    markdown,
    paired,
    scores,
)
from trident.evals.results import write_report

VERDICTS = {"pass": 1, "wrong_answer": -2, "time_limit": -3, "runtime_error": -4, "infra_failure": -5}


def sample(question_id: str, index: int, verdict: str, effort: str = "high") -> Sample:
    result = SampleResult(
        question_id=question_id,
        sample_index=index,
        passed=verdict == "pass",
        verdict=VERDICTS[verdict],
        verdict_name=verdict,
        test_results=[True] if verdict == "pass" else [VERDICTS[verdict]],
        metadata={} if verdict == "pass" else {"error_code": VERDICTS[verdict]},
        duration_s=0.1,
    )
    return Sample(
        question_id=question_id,
        sample_index=index,
        effort=effort,
        output=f"out{index}",
        code=f"code{index}",
        result=result,
    )


# plain: ADD 2/2, TWICE 1/2, MAXIMUM 0/2 -> pass@1 (1 + 0.5 + 0) / 3 = 50%, pass@2 (1 + 1 + 0) / 3
PLAIN = Scenario(
    "codegeneration",
    "plain",
    2,
    0.2,
    [
        sample(ADD.question_id, 0, "pass"),
        sample(ADD.question_id, 1, "pass"),
        sample(TWICE.question_id, 0, "wrong_answer"),
        sample(TWICE.question_id, 1, "pass"),
        sample(MAXIMUM.question_id, 0, "time_limit"),
        sample(MAXIMUM.question_id, 1, "runtime_error"),
    ],
)
# agentic: ADD solved at none, TWICE solved after escalating, MAXIMUM failed at high
AGENTIC = Scenario(
    "agentic",
    "agentic",
    1,
    0.2,
    [
        sample(ADD.question_id, 0, "pass", "none"),
        sample(TWICE.question_id, 0, "pass", "high"),
        sample(MAXIMUM.question_id, 0, "wrong_answer", "high"),
    ],
    {"escalated to high": 2},
)
WINDOW = Window(source="/data", release="v1_v2", start_date=date(2023, 5, 1), end_date=None, count=3)


def summary() -> Summary:
    return Summary(
        run="test-run",
        model="scripted:x",
        generations_file=None,
        data=WINDOW,
        settings={"n": 2, "temperature": 0.2},
        scenarios={s.name: scores(PROBLEMS, s) for s in (PLAIN, AGENTIC)},
        differences=differences([PLAIN, AGENTIC]),
        paired=paired([PLAIN, AGENTIC]),
        provenance={"sandbox": "local", "data_sha256": {"/data/x.jsonl": "ab12"}},
    )


def test_scores_overall_and_by_group() -> None:
    plain = scores(PROBLEMS, PLAIN)
    assert plain.pass_at_1 == 50.0 and plain.pass_at_k == {"pass@1": 50.0}
    assert (plain.problems, plain.samples) == (3, 6)
    assert {k: g.pass_at_1 for k, g in plain.by_difficulty.items()} == {
        "easy": 100.0,
        "medium": 50.0,
        "hard": 0.0,
    }
    assert list(plain.by_platform) == ["atcoder", "codeforces", "leetcode"]
    assert plain.by_effort["high"].pass_at_1 == 50.0
    assert plain.verdicts == {"pass": 3, "wrong_answer": 1, "time_limit": 1, "runtime_error": 1}
    agentic = scores(PROBLEMS, AGENTIC)
    assert agentic.pass_at_1 == round(200 / 3, 2)
    assert {k: (g.problems, g.pass_at_1) for k, g in agentic.by_effort.items()} == {
        "high": (2, 50.0),
        "none": (1, 100.0),
    }


def test_pass_at_k_uses_the_unbiased_estimator() -> None:
    ten = Scenario(
        "x",
        "plain",
        10,
        0.2,
        [sample(ADD.question_id, i, "pass" if i < 3 else "wrong_answer") for i in range(10)],
    )
    result = scores(PROBLEMS, ten)
    assert result.pass_at_1 == 30.0
    # 1 - C(7,5)/C(10,5) = 1 - 21/252
    assert result.pass_at_k["pass@5"] == round(100 * (1 - 21 / 252), 2)
    assert result.pass_at_k["pass@10"] == 100.0


def test_eval_all_records_are_upstreams_shape() -> None:
    records = eval_all_records(PROBLEMS, PLAIN)
    assert [r["question_id"] for r in records] == sorted(p.question_id for p in PROBLEMS)
    twice = next(r for r in records if r["question_id"] == TWICE.question_id)
    assert twice["graded_list"] == [False, True] and twice["pass@1"] == 0.5
    assert twice["code_list"] == ["code0", "code1"] and twice["output_list"] == ["out0", "out1"]
    assert [json.loads(m) for m in twice["metadata"]] == [{"error_code": -2}, {}]
    assert (
        twice["contest_date"] == TWICE.contest_date.isoformat()
        and twice["starter_code"] == TWICE.starter_code
    )
    assert {"question_title", "question_content", "platform", "contest_id", "difficulty"} <= set(twice)


def test_markdown_puts_scenarios_side_by_side() -> None:
    text = markdown(summary())
    assert "| | `codegeneration` | `agentic` |" in text
    # plain: 2 samples a problem (bootstrap); agentic: 1 (Clopper-Pearson: 2 of 3)
    assert "| **overall** | **50.0** [0.0, 100.0] (3) | **66.7** [9.4, 99.2] (3) |" in text
    assert "| difficulty: medium | 50.0 [50.0, 50.0] (1) | 100.0 [2.5, 100.0] (1) |" in text
    assert "| effort: none | – | 100.0 [2.5, 100.0] (1) |" in text
    assert "Intervals: Clopper-Pearson exact binomial over problems; percentile bootstrap" in text
    assert "| agentic vs codegeneration | 3 | 0 | 1 (3001) | +16.7 | 1 | exact sign test" in text
    assert 'Provenance: sandbox local, data_sha256 {"/data/x.jsonl": "ab12"}' in text
    assert "| wrong_answer | 1 | 1 |" in text
    assert "release v1_v2, dates 2023-05-01 to …: 3 problems" in text
    # TWICE: 1/2 plain, 1/1 agentic; ADD and MAXIMUM the same both ways
    assert "agentic vs codegeneration, problems whose pass rate differs: agentic better: 1 (3001)" in text
    assert text.count("codegeneration better: 0\n") == 1


def test_write_report_writes_every_file(tmp_path: Path) -> None:
    written = write_report(tmp_path, PROBLEMS, summary(), [PLAIN, AGENTIC])
    names = sorted(p.name for p in written)
    assert names == sorted(
        [
            "codegeneration_2_0.2_eval_all.json",
            "agentic_1_0.2_eval_all.json",
            "summary.json",
            "summary.md",
            "pass1_by_difficulty.png",
            "pass1_by_month.png",
            "verdicts.png",
        ]
    )
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data["data"]["count"] == 3 and data["data"]["release"] == "v1_v2"
    assert data["scenarios"]["codegeneration"]["pass@1"] == 50.0
    assert data["scenarios"]["agentic"]["by_effort"]["none"]["pass@1"] == 100.0
    for png in ("pass1_by_difficulty.png", "pass1_by_month.png", "verdicts.png"):
        content = (tmp_path / png).read_bytes()
        assert content[:8] == b"\x89PNG\r\n\x1a\n" and len(content) > 5000


def test_infra_failures_are_not_scored_and_pass_at_k_needs_k_samples_everywhere() -> None:
    # ADD: 2 passes; TWICE: a wrong answer and a grader failure (not the sample's: left out)
    samples = [
        sample(ADD.question_id, 0, "pass"),
        sample(ADD.question_id, 1, "pass"),
        sample(TWICE.question_id, 0, "wrong_answer"),
        sample(TWICE.question_id, 1, "infra_failure"),
    ]
    scored = scores(PROBLEMS, Scenario("codegeneration", "plain", 2, 0.2, samples))
    assert scored.pass_at_1 == 50.0  # (1 + 0) / 2: the infra failure counts neither way
    assert scored.pass_at_k == {"pass@1": 50.0}  # TWICE has only one scored sample: no pass@2
    assert scored.samples_per_problem == {"fewest": 1, "most": 2}
    assert scored.infra_failures == [f"{TWICE.question_id}#1"]
    assert scored.verdicts["infra_failure"] == 1


def test_every_pass_at_1_has_a_95_percent_interval() -> None:
    agentic = scores(PROBLEMS, AGENTIC)  # one sample a problem: exact binomial, 2 of 3
    assert (agentic.pass_at_1_ci.low, agentic.pass_at_1_ci.high) == (9.43, 99.16)
    assert agentic.pass_at_1_ci.method.startswith("Clopper-Pearson")
    plain = scores(PROBLEMS, PLAIN)  # two a problem: bootstrap over problems, seeded
    assert (
        plain.pass_at_1_ci.method.startswith("percentile bootstrap") and "seed 0" in plain.pass_at_1_ci.method
    )
    assert plain.pass_at_1_ci == scores(PROBLEMS, PLAIN).pass_at_1_ci  # reproducible
    for group in [*plain.by_difficulty.values(), *plain.by_platform.values(), *plain.by_effort.values()]:
        assert group.pass_at_1_ci.low <= group.pass_at_1 <= group.pass_at_1_ci.high
    dumped = json.loads(summary().model_dump_json(by_alias=True))
    interval = dumped["scenarios"]["agentic"]["pass@1 95% CI"]
    assert interval["low"] == 9.43 and dumped["scenarios"]["agentic"]["by_effort"]["none"]["pass@1 95% CI"]


def test_paired_comparison_lists_flips_and_runs_mcnemars_exact_test() -> None:
    ids = [p.question_id for p in PROBLEMS]
    # 9 problem-like ids: the first scenario solves none, the second all but one (8 flips one way)
    many = [f"q{i}" for i in range(9)]
    none = Scenario("none", "plain", 1, 0.2, [sample(q, 0, "wrong_answer", "none") for q in many])
    high = Scenario(
        "high", "plain", 1, 0.2, [sample(q, 0, "pass" if q != "q0" else "wrong_answer") for q in many]
    )
    result = paired([none, high])["high vs none"]
    assert result.problems == 9 and result.first_better == [] and len(result.second_better) == 8
    assert result.test.startswith("McNemar's exact test")
    assert result.p_value == round(2 / 2**8, 6)  # two-sided: 2 * P(X <= 0 | 8, 1/2)
    assert result.pass_at_1_difference == round(100 * 8 / 9, 2)
    same = paired([AGENTIC, AGENTIC])["agentic vs agentic"]
    assert same.p_value == 1.0 and same.problems == len(ids)


def test_by_release_by_month_and_split_at_the_cutoff() -> None:
    # ADD 2023-06-01 (v1), TWICE 2024-01-14T00:00 (v1), MAXIMUM 2024-11-20 (v5); agentic solves ADD and
    # TWICE. The cut-off splits as upstream's date filters: a contest at its midnight is clean
    agentic = scores(PROBLEMS, AGENTIC, cutoff=date(2024, 1, 14))
    assert {k: (g.problems, g.pass_at_1) for k, g in agentic.by_release.items()} == {
        "v1": (2, 100.0),
        "v5": (1, 0.0),
    }
    assert {k: (g.problems, g.pass_at_1) for k, g in agentic.by_month.items()} == {
        "2023-06": (1, 100.0),
        "2024-01": (1, 100.0),
        "2024-11": (1, 0.0),
    }
    split = agentic.by_cutoff
    assert {k: (g.problems, g.pass_at_1) for k, g in split.items()} == {
        "contaminated": (1, 100.0),
        "clean": (2, 50.0),
    }
    assert (split["clean"].pass_at_1_ci.low, split["clean"].pass_at_1_ci.high) == (1.26, 98.74)
    assert split["clean"].pass_at_1_ci.method.startswith("Clopper-Pearson")
    later = scores(PROBLEMS, AGENTIC, cutoff=date(2024, 1, 15))
    assert {k: g.problems for k, g in later.by_cutoff.items()} == {"contaminated": 2, "clean": 1}
    assert scores(PROBLEMS, AGENTIC).by_cutoff == {}  # no --cutoff: no split
    undated = scores(PROBLEMS, AGENTIC, cutoff=date(2024, 1, 14), dated=False)  # HumanEval
    assert undated.by_release == undated.by_month == undated.by_cutoff == {}
    # the loader's release (by upstream's file) wins over the date
    filed = [p.model_copy(update={"release": 6}) if p is ADD else p for p in PROBLEMS]
    assert list(scores(filed, AGENTIC).by_release) == ["v1", "v5", "v6"]


def test_markdown_and_plot_show_the_cutoff(tmp_path: Path) -> None:
    cut = summary().model_copy(
        update={
            "cutoff": date(2024, 1, 14),
            "scenarios": {s.name: scores(PROBLEMS, s, date(2024, 1, 14)) for s in (PLAIN, AGENTIC)},
        }
    )
    text = markdown(cut)
    assert "| contaminated (before 2024-01-14) | 100.0 [100.0, 100.0] (1) | 100.0 [2.5, 100.0] (1) |" in text
    assert "| clean (from 2024-01-14) | 25.0 [0.0, 50.0] (2) | 50.0 [1.3, 98.7] (2) |" in text
    assert "By release:\n\n| | `codegeneration` | `agentic` |" in text and "| v5 | 0.0" in text
    assert "By contest month:" in text and "| 2024-11 | 0.0 [0.0, 0.0] (1) | 0.0 [0.0, 97.5] (1) |" in text
    data = json.loads(cut.model_dump_json(by_alias=True))
    assert data["cutoff"] == "2024-01-14"
    assert data["scenarios"]["agentic"]["by_cutoff"]["clean"]["pass@1 95% CI"]["high"] == 98.74
    write_report(tmp_path, PROBLEMS, cut, [PLAIN, AGENTIC])
    content = (tmp_path / "pass1_by_month.png").read_bytes()
    assert content[:8] == b"\x89PNG\r\n\x1a\n" and len(content) > 5000


def test_latency_per_sample_is_a_distribution() -> None:
    timed = Scenario(
        "codegeneration",
        "plain",
        1,
        0.2,
        [
            sample(q.question_id, 0, "pass").model_copy(update={"duration_s": seconds})
            for q, seconds in zip(PROBLEMS, (1.0, 2.0, 10.0), strict=True)
        ],
    )
    latency = scores(PROBLEMS, timed).latency_s
    assert latency["grade"] == {
        "count": 3, "mean": 0.1, "min": 0.1, "p50": 0.1, "p90": 0.1, "p95": 0.1, "p99": 0.1, "max": 0.1,
    }  # fmt: skip
    assert latency["model"]["p50"] == 2.0 and latency["model"]["max"] == 10.0
    assert latency["model"]["p90"] == 8.4  # linear between the order statistics: 2 + 0.8 * 8
    assert "seconds per sample (model): median 2, p90 8.4, p99 9.84, max 10" in markdown(
        summary().model_copy(update={"scenarios": {"codegeneration": scores(PROBLEMS, timed)}})
    )
    agentic = scores(PROBLEMS, AGENTIC).latency_s
    assert list(agentic) == ["grade"]  # no producing time known (given code): grading only
