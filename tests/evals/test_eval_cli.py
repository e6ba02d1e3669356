"""`trident eval` as a subprocess: given code, scripted models, agentic mode, resume, exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.evals.agent_sessions import write_check_and_stop, wrong_then_right
from tests.evals.toy_problems import ADD, MAXIMUM, PROBLEMS, RIGHT, TWICE, WRONG, fenced, write_dataset
from tests.helpers import write_session
from trident.agent.config import ConfigError
from trident.evals.lcb.problems import bundled_data_dir

REPORT_FILES = {
    "summary.json",
    "summary.md",
    "pass1_by_difficulty.png",
    "verdicts.png",
    "run.json",
    "grades.jsonl",
}


def trident_eval(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trident", "eval", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ,
    )


def generations_file(path: Path, codes: dict[str, list[str]]) -> Path:
    path.write_text(json.dumps([{"question_id": q, "code_list": c} for q, c in codes.items()]))
    return path


def summary_of(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return data


@pytest.mark.slow
def test_bundled_references_all_pass(tmp_path: Path) -> None:
    references = json.loads((bundled_data_dir() / "references.json").read_text())
    given = generations_file(tmp_path / "refs.json", {q: [code] for q, code in references.items()})
    result = trident_eval(
        "--generations", str(given), "--sandbox", "local", "--out", str(tmp_path), "--run", "refs"
    )
    assert result.returncode == 0, result.stderr
    out = tmp_path / "refs"
    assert REPORT_FILES | {"codegeneration_1_0.2_eval_all.json"} <= {p.name for p in out.iterdir()}
    summary = summary_of(out)
    assert summary["data"]["count"] == len(references) and summary["data"]["release"] is None
    assert summary["scenarios"]["codegeneration"]["pass@1"] == 100.0
    records = json.loads((out / "codegeneration_1_0.2_eval_all.json").read_text())
    assert sorted(r["question_id"] for r in records) == sorted(references)
    assert all(r["graded_list"] == [True] for r in records)
    assert result.stdout.strip() == str(out / "summary.md")


def given_mixed(tmp_path: Path) -> list[str]:
    """Two samples per toy problem: ADD right twice, TWICE wrong then right, MAXIMUM broken twice."""
    codes = {
        ADD.question_id: [RIGHT[ADD.question_id]] * 2,
        TWICE.question_id: [WRONG[TWICE.question_id], RIGHT[TWICE.question_id]],
        MAXIMUM.question_id: [WRONG[MAXIMUM.question_id], "raise ValueError('boom')"],
    }
    data = write_dataset(tmp_path / "data" / "toy.jsonl")
    given = generations_file(tmp_path / "given.json", codes)
    return ["--data", str(data.parent), "--generations", str(given), "--out", str(tmp_path), "--run", "mixed"]


def check_mixed(out: Path) -> None:
    summary = summary_of(out)["scenarios"]["codegeneration"]
    assert summary["pass@1"] == 50.0 and summary["pass@k"] == {"pass@1": 50.0}
    assert summary["verdicts"] == {"pass": 3, "wrong_answer": 1, "compile_error": 1, "runtime_error": 1}
    assert {k: v["pass@1"] for k, v in summary["by_difficulty"].items()} == {
        "easy": 100.0,
        "medium": 50.0,
        "hard": 0.0,
    }
    records = {
        r["question_id"]: r for r in json.loads((out / "codegeneration_2_0.2_eval_all.json").read_text())
    }
    assert records[TWICE.question_id]["graded_list"] == [False, True]
    assert records[MAXIMUM.question_id]["verdict_list"] == ["compile_error", "runtime_error"]
    # upstream's compute_scores reads these records: its pass@1 (mean of per-record pass@1) is ours
    upstream = 100 * sum(r["pass@1"] for r in records.values()) / len(records)
    assert round(upstream, 2) == summary["pass@1"]
    for record in records.values():  # ISO dates, as upstream's records carry them (raises otherwise)
        datetime.fromisoformat(record["contest_date"])
    assert "| **overall** | **50.0** [0.0, 100.0] (3) |" in (out / "summary.md").read_text()


def test_given_code_gets_each_verdict_locally(tmp_path: Path) -> None:
    result = trident_eval(*given_mixed(tmp_path), "--sandbox", "local")
    assert result.returncode == 0, result.stderr
    check_mixed(tmp_path / "mixed")


def test_given_code_in_docker(tmp_path: Path, sandbox_image: str) -> None:
    result = trident_eval(*given_mixed(tmp_path), "--sandbox", "docker", "--image", sandbox_image)
    assert result.returncode == 0, result.stderr
    check_mixed(tmp_path / "mixed")


def test_given_code_with_a_window_grades_the_window(tmp_path: Path) -> None:
    # as upstream's compute_scores filters its records by date: code for the problems outside the
    # window is not graded, and the summary says how much there was
    args = given_mixed(tmp_path)
    result = trident_eval(*args, "--sandbox", "local", "--end-date", "2024-01-14")
    assert result.returncode == 0, result.stderr
    summary = summary_of(tmp_path / "mixed")
    score = summary["scenarios"]["codegeneration"]
    assert score["problems"] == 2 and score["samples"] == 4 and score["pass@1"] == 75.0
    assert summary["generations_outside_window"] == {"problems": 1, "samples": 2}  # MAXIMUM, 2024-11
    assert "given code outside the window (not graded" in (tmp_path / "mixed" / "summary.md").read_text()
    limited = trident_eval(*args[:-1], "limited", "--sandbox", "local", "--limit", "1")
    assert limited.returncode == 0, limited.stderr
    summary = summary_of(tmp_path / "limited")
    assert summary["scenarios"]["codegeneration"]["problems"] == 1
    assert summary["generations_outside_window"] == {"problems": 2, "samples": 4}


def test_timings_add_up_over_resumed_runs_and_a_cutoff_only_rereports(tmp_path: Path) -> None:
    args = given_mixed(tmp_path)
    assert trident_eval(*args, "--sandbox", "local").returncode == 0
    first = summary_of(tmp_path / "mixed")
    assert first["invocations"] == 1 and first["cumulative_durations_s"] == first["durations_s"]
    assert first["scenarios"]["codegeneration"]["latency_s"]["grade"]["count"] == 6
    assert "cutoff" in first and first["cutoff"] is None
    again = trident_eval(*args, "--sandbox", "local", "--cutoff", "2024-01-14")  # nothing left to grade
    assert again.returncode == 0, again.stderr
    second = summary_of(tmp_path / "mixed")
    assert second["invocations"] == 2 and second["durations_s"]["grade"] < first["durations_s"]["grade"]
    for stage, seconds in second["cumulative_durations_s"].items():
        assert seconds == round(first["durations_s"][stage] + second["durations_s"][stage], 2)
    split = second["scenarios"]["codegeneration"]["by_cutoff"]
    assert {k: (g["problems"], g["pass@1"]) for k, g in split.items()} == {
        "contaminated": (1, 100.0),  # ADD, 2023-06
        "clean": (2, 25.0),  # TWICE 2024-01-14T00:00 (1 of 2), MAXIMUM (0 of 2)
    }
    assert "time over the run's 2 invocations" in (tmp_path / "mixed" / "summary.md").read_text()
    assert (tmp_path / "mixed" / "pass1_by_month.png").is_file()


def scripted_model(root: Path) -> Path:
    """Plain answers: right for ADD and MAXIMUM, wrong for TWICE; agent sessions: wrong, tests fail, right."""
    for problem in PROBLEMS:
        code = (WRONG if problem is TWICE else RIGHT)[problem.question_id]
        write_session(
            root / "codegeneration" / f"{problem.question_id}.jsonl",
            [{"reasoning": "hm", "content": fenced(code)}],
        )
        wrong_then_right(
            root / "agentic" / f"{problem.question_id}.jsonl",
            WRONG[problem.question_id],
            RIGHT[problem.question_id],
        )
    return root


def failed_tool_results(runs: list[dict[str, Any]]) -> list[tuple[str, list[str], list[str]]]:
    """Per run: its id, step efforts and the failed tool results, to explain an unexpected sequence."""
    explained = []
    for run in runs:
        events = [json.loads(line) for line in Path(run["trajectory"]).read_text().splitlines()]
        failed = [e["output"][:600] for e in events if e["type"] == "tool_result" and not e["ok"]]
        explained.append((run["question_id"], run["step_efforts"], failed))
    return explained


@pytest.mark.slow
def test_plain_and_agentic_side_by_side_then_resume(tmp_path: Path, sandbox_flags: list[str]) -> None:
    """In both sandboxes: the agents' public tests and the grading run in them."""
    data = write_dataset(tmp_path / "toy.jsonl")
    model = scripted_model(tmp_path / "model")
    args = ["--data", str(data), "--model", f"scripted:{model}", "--agentic", *sandbox_flags]
    args += ["--out", str(tmp_path / "results"), "--run", "both"]
    result = trident_eval(*args)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "results" / "both"
    summary = summary_of(out)
    plain, agentic = summary["scenarios"]["codegeneration"], summary["scenarios"]["agentic"]
    assert plain["pass@1"] == round(200 / 3, 2) and agentic["pass@1"] == 100.0
    high = plain["by_effort"]["high"]
    assert (high["problems"], high["samples"], high["pass@1"]) == (3, 3, round(200 / 3, 2))
    assert summary["paired"]["agentic vs codegeneration"]["second_better"] == [TWICE.question_id]
    assert agentic["by_effort"]["high"]["pass@1"] == 100.0  # every agent escalated after failing tests
    assert agentic["notes"]["escalated to high"] == 3
    pair = {"agentic better": [TWICE.question_id], "codegeneration better": []}
    assert summary["differences"] == {"agentic vs codegeneration": pair}
    runs = [json.loads(line) for line in (out / "agentic.jsonl").read_text().splitlines()]
    expected = ["none", "none", "high", "high", "none"]  # failing tests raise it, two calm steps lower it
    assert [r["step_efforts"] for r in runs] == [expected] * 3, failed_tool_results(runs)
    assert all(Path(r["trajectory"]).is_file() for r in runs)
    table = (out / "summary.md").read_text()
    assert (
        "| | `codegeneration` | `agentic` |" in table
        and "| **overall** | **66.7** [9.4, 99.2] (3) | **100.0** [29.2, 100.0] (3) |" in table
    )
    before = {
        name: (out / name).read_text() for name in ("generations.jsonl", "agentic.jsonl", "grades.jsonl")
    }
    shutil.rmtree(model)  # the same command continues: nothing is asked, run or graded again
    again = trident_eval(*args)
    assert again.returncode == 0, again.stderr
    assert {name: (out / name).read_text() for name in before} == before
    assert summary_of(out)["scenarios"] == summary["scenarios"]


def test_two_effort_levels_are_two_scenarios(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "toy.jsonl", [ADD])
    model = tmp_path / "model"
    write_session(
        model / "codegeneration-none" / f"{ADD.question_id}.jsonl",
        [{"content": fenced(WRONG[ADD.question_id])}],
    )
    write_session(
        model / "codegeneration-high" / f"{ADD.question_id}.jsonl",
        [{"content": fenced(RIGHT[ADD.question_id])}],
    )
    args = [
        "--data",
        str(data),
        "--model",
        f"scripted:{model}",
        "--effort",
        "none,high",
        "--sandbox",
        "local",
    ]
    result = trident_eval(*args, "--out", str(tmp_path), "--run", "efforts")
    assert result.returncode == 0, result.stderr
    scenarios = summary_of(tmp_path / "efforts")["scenarios"]
    assert {name: s["pass@1"] for name, s in scenarios.items()} == {
        "codegeneration-none": 0.0,
        "codegeneration-high": 100.0,
    }
    assert "| effort: none | 0.0 [0.0, 97.5] (1) | – |" in (tmp_path / "efforts" / "summary.md").read_text()
    summary = summary_of(tmp_path / "efforts")
    flips = summary["paired"]["codegeneration-high vs codegeneration-none"]
    assert flips["second_better"] == [ADD.question_id] and flips["p_value"] == 1.0
    assert flips["test"].startswith("McNemar's exact test")
    sent = summary["provenance"]["sampling"]
    assert sent["codegeneration-none"] == {
        "reasoning_effort": "none",
        "temperature": 0.2,
        "top_p": None,  # never sent: the backend's default
        "max_tokens": summary["settings"]["max_tokens"],  # the CLI's default, sent
        "seed": None,
        "samples": 1,
    }
    assert sent["codegeneration-high"]["reasoning_effort"] == "high"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--release", "v9", "--generations", "GIVEN"], "out of range"),
        (["--release", "nonsense", "--generations", "GIVEN"], "unknown release"),
        (["--data", "/nonexistent", "--generations", "GIVEN"], "no such file or directory"),
        (["--start-date", "2030-01-01", "--generations", "GIVEN"], "no problems selected"),
        ([], "give --model SPEC"),
        (["--generations", "/nonexistent.json"], "no such file"),
        (["--generations", "GIVEN"], "not among the"),
        (["--model", "nope"], "scheme:target"),
        (["--start-date", "2024-13-01"], "is not a date"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, flags: list[str], message: str) -> None:
    given = generations_file(tmp_path / "given.json", {"no_such_problem": ["print(1)"]})
    flags = [str(given) if flag == "GIVEN" else flag for flag in flags]
    result = trident_eval(*flags, "--sandbox", "local", "--out", str(tmp_path))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


def test_a_missing_scripted_session_is_a_backend_error(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "toy.jsonl")
    model = tmp_path / "model"
    write_session(model / f"{ADD.question_id}.jsonl", [{"content": fenced(RIGHT[ADD.question_id])}])
    result = trident_eval(
        "--data", str(data), "--model", f"scripted:{model}", "--sandbox", "local", "--out", str(tmp_path)
    )
    assert result.returncode == 5, result.stderr
    assert "no session for codegeneration" in result.stderr


def test_a_run_continued_with_other_settings_is_refused(tmp_path: Path) -> None:
    args = given_mixed(tmp_path)
    assert trident_eval(*args, "--sandbox", "local").returncode == 0
    result = trident_eval(*args, "--sandbox", "local", "--temperature", "0.7")
    assert result.returncode == 2 and "temperature differ" in result.stderr
    other = trident_eval(*args, "--sandbox", "docker")  # another sandbox: refused before grading
    assert other.returncode == 2 and "sandbox differ" in other.stderr
    image = trident_eval(*args, "--sandbox", "local", "--image", "python:3.12-slim")
    assert image.returncode == 2 and "image differ" in image.stderr


def test_summary_records_provenance(tmp_path: Path) -> None:
    args = given_mixed(tmp_path)
    assert trident_eval(*args, "--sandbox", "local").returncode == 0
    provenance = summary_of(tmp_path / "mixed")["provenance"]
    data = Path(args[1]) / "toy.jsonl"
    assert provenance["data_sha256"] == {str(data): hashlib.sha256(data.read_bytes()).hexdigest()}
    assert provenance["sandbox"] == "local" and provenance["image_id"] is None
    assert provenance["trident_version"] and provenance["bootstrap_seed"] == 0
    assert provenance["sampling"] == {"codegeneration": None} and provenance["seed"] is None
    assert provenance["git_commit"] is None or len(provenance["git_commit"].split("-")[0]) == 40


def test_a_run_graded_in_another_image_is_refused(tmp_path: Path) -> None:
    from trident.evals.run import EvalConfig, check_settings

    config = EvalConfig(run="r", sandbox="docker")
    check_settings(tmp_path, config, "sha256:aaa")
    check_settings(tmp_path, config)  # the start of a resume: the id is checked once the grader opens
    assert json.loads((tmp_path / "run.json").read_text())["image_id"] == "sha256:aaa"
    check_settings(tmp_path, config, "sha256:aaa")
    with pytest.raises(ConfigError, match="image id sha256:aaa then sha256:bbb"):
        check_settings(tmp_path, config, "sha256:bbb")


def test_a_missing_image_is_a_sandbox_error(tmp_path: Path, docker_client: Any) -> None:
    args = given_mixed(tmp_path)
    result = trident_eval(*args, "--sandbox", "docker", "--image", "trident-no-such-image:0")
    assert result.returncode == 4, result.stderr
    assert "sandbox error" in result.stderr


@pytest.mark.slow
def test_an_interrupted_agentic_run_continues_where_it_stopped(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "toy.jsonl", [ADD, TWICE])
    model = tmp_path / "model"
    write_check_and_stop(model / "agentic" / f"{ADD.question_id}.jsonl", RIGHT[ADD.question_id])
    block_once = "if [ ! -e .blocked ]; then touch .blocked; sleep 60; fi"
    write_right = {"path": "solution.py", "content": RIGHT[TWICE.question_id] + "\n"}
    slow: list[dict[str, Any]] = [
        {"tool_calls": [{"name": "bash", "arguments": {"command": block_once}}]},
        {"tool_calls": [{"name": "write", "arguments": write_right}]},
        {"tool_calls": [{"name": "run_tests", "arguments": {}}]},
        {"content": "done"},
    ]
    write_session(model / "agentic" / f"{TWICE.question_id}.jsonl", slow)
    plain = {p.question_id: [{"content": fenced(RIGHT[p.question_id])}] for p in (ADD, TWICE)}
    for question_id, turns in plain.items():
        write_session(model / "codegeneration" / f"{question_id}.jsonl", turns)
    args = ["--data", str(data), "--model", f"scripted:{model}", "--agentic", "--concurrency", "1"]
    args += ["--sandbox", "local", "--out", str(tmp_path), "--run", "killed"]
    out = tmp_path / "killed"
    process = subprocess.Popen(
        [sys.executable, "-m", "trident", "eval", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    trajectory = out / "agentic" / f"{TWICE.question_id}.0" / "trajectory.jsonl"
    deadline = time.monotonic() + 60
    while not (trajectory.parent / "workspace" / ".blocked").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "run the same command again" in stderr
    done = [json.loads(line)["question_id"] for line in (out / "agentic.jsonl").read_text().splitlines()]
    assert done == [ADD.question_id]  # the interrupted run left no record, only its trajectory
    (model / "agentic" / f"{ADD.question_id}.jsonl").unlink()  # finished work is not asked again
    result = trident_eval(*args)
    assert result.returncode == 0, result.stderr
    assert summary_of(out)["scenarios"]["agentic"]["pass@1"] == 100.0
    kinds = [json.loads(line)["type"] for line in trajectory.read_text().splitlines()]
    assert kinds.count("run_start") == 1 and kinds.count("run_resumed") == 1  # continued, not redone
    assert kinds.count("step_start") == 4  # the interrupted step ran again, then the rest


def test_humaneval_completions_and_whole_functions_both_grade(tmp_path: Path) -> None:
    from trident.evals.humaneval import load_humaneval

    tasks = load_humaneval()[:4]
    codes = {
        t.task_id: [t.canonical_solution, t.prompt + t.canonical_solution, "    return None"] for t in tasks
    }
    given = generations_file(tmp_path / "he.json", codes)
    args = ["--benchmark", "humaneval", "--limit", "4", "--generations", str(given), "--sandbox", "local"]
    result = trident_eval(*args, "--out", str(tmp_path), "--run", "he")
    assert result.returncode == 0, result.stderr
    summary = summary_of(tmp_path / "he")
    assert summary["data"]["count"] == 164 and summary["settings"]["problems"] == 4
    scores = summary["scenarios"]["codegeneration"]
    assert scores["verdicts"]["pass"] == 8 and scores["problems"] == 4
    assert scores["pass@1"] == round(100 * 2 / 3, 2)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--release", "v1"], "not HumanEval"),
        (["--agentic", "--model", "scripted:x"], "HumanEval has none"),
        (["--cutoff", "2024-01-01"], "HumanEval's have none"),
    ],
)
def test_humaneval_refuses_what_does_not_apply(tmp_path: Path, flags: list[str], message: str) -> None:
    given = generations_file(tmp_path / "he.json", {"HumanEval/0": ["pass"]})
    result = trident_eval(
        "--benchmark", "humaneval", "--generations", str(given), *flags, "--out", str(tmp_path)
    )
    assert result.returncode == 2 and message in result.stderr, result.stderr
