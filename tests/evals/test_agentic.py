"""Agentic mode: workspace, public tests as the test command, effort escalation, the final file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.evals.agent_sessions import write_and_stop, wrong_then_right
from tests.evals.toy_problems import ADD, MAXIMUM, RIGHT, TWICE, WRONG
from tests.helpers import write_session
from trident.agent.config import Settings
from trident.agent.core.events import EffortChange, StepStart, ToolResult
from trident.agent.core.messages import BackendError
from trident.agent.core.trajectory import load
from trident.evals.agentic import AgentRun, solve, solve_all, workspace_files
from trident.evals.backends import ModelSource
from trident.evals.lcb.problems import Problem
from trident.evals.store import Store

# recorded sessions that end early: no premature-finish nudges (tests/agent/test_nudge.py has them)
SETTINGS = Settings.model_validate(
    {"sandbox": {"kind": "local"}, "limits": {"max_steps": 10, "max_nudges": 0}}
)


def public_tests(
    tmp_path: Path, problem: Problem, code: str, timeout_s: float | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a workspace's test_public.py the way the agent's test command does."""
    tmp_path.mkdir()
    for name, text in workspace_files(problem).items():
        (tmp_path / name).write_text(text)
    if timeout_s is not None:
        spec = json.loads((tmp_path / "public_tests.json").read_text())
        (tmp_path / "public_tests.json").write_text(json.dumps({**spec, "timeout_s": timeout_s}))
    (tmp_path / "solution.py").write_text(code + "\n")
    return subprocess.run(
        [sys.executable, "-m", "unittest", "-v", "test_public"], cwd=tmp_path, capture_output=True, text=True
    )


@pytest.mark.parametrize("problem", [ADD, TWICE, MAXIMUM], ids=lambda p: p.question_id)
def test_public_tests_pass_the_right_code_and_fail_the_wrong(tmp_path: Path, problem: Problem) -> None:
    right = public_tests(tmp_path / "right", problem, RIGHT[problem.question_id])
    wrong = public_tests(tmp_path / "wrong", problem, WRONG[problem.question_id])
    assert right.returncode == 0, right.stderr
    assert f"Ran {len(problem.public_tests)} test" in right.stderr
    assert wrong.returncode == 1 and "FAILED (failures=1)" in wrong.stderr


@pytest.mark.parametrize(
    ("code", "timeout_s", "message"),
    [
        ("while True: pass", 1.0, "time limit: more than 1s of CPU time"),  # computes: the CPU limit
        ("import time; time.sleep(60)", 0.2, "time limit: no answer within 2s (wall clock)"),  # waits
    ],
    ids=["busy", "sleeping"],
)
@pytest.mark.slow
def test_public_tests_limit_cpu_time_and_wall_time(
    tmp_path: Path, code: str, timeout_s: float, message: str
) -> None:
    done = public_tests(tmp_path / "ws", ADD, code, timeout_s=timeout_s)
    assert done.returncode == 1 and message in done.stderr, done.stderr


def test_the_starter_workspace_is_valid_python(tmp_path: Path) -> None:
    files = workspace_files(TWICE)
    compile(files["solution.py"], "solution.py", "exec")
    assert json.loads(files["public_tests.json"])["func_name"] == "twice"
    assert "Return twice the sum" in files["PROBLEM.md"]


async def test_failing_public_tests_raise_effort_and_the_final_file_is_kept(tmp_path: Path) -> None:
    model = tmp_path / "model"
    wrong_then_right(model / f"{ADD.question_id}.jsonl", WRONG[ADD.question_id], RIGHT[ADD.question_id])
    run = await solve(
        ADD, 0, ModelSource(f"scripted:{model}", SETTINGS), SETTINGS, tmp_path / "agentic", "agentic"
    )
    assert run.status == "finished" and run.steps == 5
    assert run.code.strip() == RIGHT[ADD.question_id]
    # raised after the failing test run (step 2), lowered after two good steps (hysteresis 2)
    assert run.step_efforts == ["none", "none", "high", "high", "none"]
    assert run.effort == "high"
    changes = [(c.step, c.previous, c.effort) for c in run.effort_changes]
    assert changes == [(2, "none", "high"), (4, "high", "none")]
    assert "`run_tests` failed" in run.effort_changes[0].reason
    events = load(run.trajectory)
    change = next(e for e in events if isinstance(e, EffortChange))
    assert change.effort == "high"
    assert [e.effort for e in events if isinstance(e, StepStart)] == run.step_efforts


async def test_solve_all_runs_problems_concurrently_and_resumes(tmp_path: Path) -> None:
    model = tmp_path / "model"
    for problem in (ADD, TWICE, MAXIMUM):
        write_and_stop(model / f"{problem.question_id}.jsonl", RIGHT[problem.question_id])
    store: Store[AgentRun] = Store(tmp_path / "agentic.jsonl", AgentRun)
    root = tmp_path / "agentic"

    async def everything() -> None:
        source = ModelSource(f"scripted:{model}", SETTINGS)
        await solve_all(
            [ADD, TWICE, MAXIMUM], source, SETTINGS, store, root=root, scenario="agentic", n=1, concurrency=3
        )

    await everything()
    assert {r.question_id: r.code.strip() for r in store.records.values()} == RIGHT
    assert all(r.effort == "none" and r.step_efforts == ["none", "none"] for r in store.records.values())
    for session in model.iterdir():
        session.unlink()  # nothing may be asked again
    await everything()
    assert len(store.records) == 3


async def test_a_backend_failure_stops_the_eval(tmp_path: Path) -> None:
    model = tmp_path / "model"
    write_session(
        model / f"{ADD.question_id}.jsonl", [{"tool_calls": [{"name": "run_tests", "arguments": {}}]}]
    )
    with pytest.raises(BackendError, match="abc001_a sample 0"):
        await solve(
            ADD, 0, ModelSource(f"scripted:{model}", SETTINGS), SETTINGS, tmp_path / "agentic", "agentic"
        )


async def test_after_a_backend_failure_the_next_eval_continues_the_run(tmp_path: Path) -> None:
    """The session breaks off after three turns; once it is whole, the run goes on from step 4."""
    model = tmp_path / "model"
    session = wrong_then_right(
        model / f"{TWICE.question_id}.jsonl", WRONG[TWICE.question_id], RIGHT[TWICE.question_id]
    )
    whole = [json.loads(line) for line in session.read_text().splitlines()]
    write_session(session, whole[:3])
    source = ModelSource(f"scripted:{model}", SETTINGS)
    root = tmp_path / "agentic"
    with pytest.raises(BackendError, match="asked for turn 4"):
        await solve(TWICE, 0, source, SETTINGS, root, "agentic")
    write_session(session, whole)
    run = await solve(TWICE, 0, source, SETTINGS, root, "agentic")
    assert run.status == "finished" and run.code.strip() == RIGHT[TWICE.question_id]
    assert run.step_efforts == ["none", "none", "high", "high", "none"]  # the policy's state carried over
    events = load(run.trajectory)
    assert [e.seq for e in events] == list(range(len(events)))
    kinds = [e.type for e in events]
    assert kinds.count("run_start") == 1 and kinds.count("run_resumed") == 1
    assert len([e for e in events if isinstance(e, StepStart)]) == 5  # steps 1-3 were not run again


async def test_a_run_that_ended_before_a_crash_is_not_run_again(tmp_path: Path) -> None:
    """The agent finished but the eval died before storing it: the trajectory is the record."""
    model = tmp_path / "model"
    session = wrong_then_right(
        model / f"{TWICE.question_id}.jsonl", WRONG[TWICE.question_id], RIGHT[TWICE.question_id]
    )
    source, root = ModelSource(f"scripted:{model}", SETTINGS), tmp_path / "agentic"
    first = await solve(TWICE, 0, source, SETTINGS, root, "agentic")
    session.unlink()  # asking the model again would fail
    again = await solve(TWICE, 0, source, SETTINGS, root, "agentic")
    assert again.model_dump(exclude={"duration_s"}) == first.model_dump(exclude={"duration_s"})
    assert [e.type for e in load(again.trajectory)].count("run_start") == 1


async def test_the_public_check_is_protected_from_the_file_tools(tmp_path: Path) -> None:
    model = tmp_path / "model"
    cheat = {"path": "test_public.py", "content": "print('all good')\n"}
    write_session(
        model / f"{ADD.question_id}.jsonl",
        [{"tool_calls": [{"name": "write", "arguments": cheat}]}, {"content": "Done."}],
    )
    run = await solve(
        ADD, 0, ModelSource(f"scripted:{model}", SETTINGS), SETTINGS, tmp_path / "agentic", "agentic"
    )
    assert run.step_efforts == ["none", "high"]  # the refused write was a failing step
    events = load(run.trajectory)
    refused = next(e for e in events if isinstance(e, ToolResult))
    assert not refused.ok and "protected" in refused.output
    workspace = tmp_path / "agentic" / f"{ADD.question_id}.0" / "workspace"
    assert "unittest" in (workspace / "test_public.py").read_text()
