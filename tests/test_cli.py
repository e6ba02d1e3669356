"""The real `trident` CLI as a subprocess: exit codes, patch, trajectory, interruption and resume."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import EXAMPLE, write_session
from trident.agent.core.events import Event, RunEnd, RunResumed, RunStart, ToolCall, ToolResult
from trident.agent.core.trajectory import load

TRIDENT = [sys.executable, "-m", "trident"]


def trident(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TRIDENT, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


def example_args(tmp_path: Path, session: Path | None = None, repo: Path | None = None) -> list[str]:
    """`trident run` on the example with a recorded session. A recording that ends early was made
    without premature-finish nudges (a nudge would ask it for a turn it does not have), so they are
    off here; `test_finished_but_tests_still_failing_is_nudged_then_exits_1` runs with them."""
    return [
        "run",
        "--repo",
        str(repo or EXAMPLE / "repo"),
        "--task-file",
        str(EXAMPLE / "task.md"),
        "--test-cmd",
        "python3 -m unittest",
        "--model",
        f"scripted:{session or EXAMPLE / 'session.jsonl'}",
        "--trajectory-out",
        str(tmp_path / "trajectory.jsonl"),
        "--patch-out",
        str(tmp_path / "fix.patch"),
        "--max-nudges",
        "0",
    ]


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_version_and_help() -> None:
    assert trident("--version").stdout.startswith("trident ")
    help_text = trident("run", "--help").stdout
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "5 ", "130"):
        assert f"\n  {code}" in help_text


def test_example_is_solved_and_its_patch_applies(tmp_path: Path) -> None:
    before = snapshot(EXAMPLE / "repo")
    result = trident(*example_args(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().endswith("trident: tests pass after the change")
    assert "effort none → high" in result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["type"] == "run_start" and events[-1]["type"] == "verdict"
    assert events[-1]["exit_code"] == 0 and events[-1]["solved"] is True
    assert next(e for e in events if e["type"] == "run_end")["status"] == "finished"
    checks = [(e["phase"], e["exit_code"] != 0, e["passed"]) for e in events if e["type"] == "verification"]
    assert checks == [("baseline", True, 2), ("final", False, 5)]  # trident ran the tests itself
    assert next(e for e in events if e["type"] == "effort_change")["effort"] == "high"
    assert snapshot(EXAMPLE / "repo") == before  # the host repository was not touched
    copy = tmp_path / "copy"
    shutil.copytree(EXAMPLE / "repo", copy)
    subprocess.run(["git", "init", "-q"], cwd=copy, check=True)
    subprocess.run(["git", "apply", str(tmp_path / "fix.patch")], cwd=copy, check=True)
    assert subprocess.run([sys.executable, "-m", "unittest"], cwd=copy, capture_output=True).returncode == 0


def test_finished_but_tests_still_failing_is_nudged_then_exits_1(
    tmp_path: Path, sandbox_flags: list[str]
) -> None:
    stops = [{"content": "Looks fine to me."}, {"content": "It is fine."}, {"content": "Nothing to do."}]
    session = write_session(tmp_path / "s.jsonl", stops)
    args = example_args(tmp_path, session)[:-2]  # the default: 2 nudges
    result = trident(*args, *sandbox_flags, "--json")
    assert result.returncode == 1, result.stderr
    assert "tests still fail" in result.stderr.splitlines()[-1]
    events = [json.loads(line) for line in result.stdout.splitlines()]
    nudges = [e for e in events if e["type"] == "correction"]
    assert [e["kind"] for e in nudges] == ["nudge", "nudge"]  # told twice (limits.max_nudges), then ended
    assert "nothing has been changed yet" in nudges[0]["text"] and "never run" in nudges[0]["text"]
    assert result.stderr.count("nudge: ended with the task unchecked") == 2
    end = next(e for e in events if e["type"] == "run_end")
    assert end["status"] == "finished" and end["steps"] == 3


GUT = {"name": "write", "arguments": {"path": "test_timefmt.py", "content": "import unittest\n"}}


def test_deleting_the_failing_tests_is_not_a_fix(tmp_path: Path) -> None:
    session = write_session(tmp_path / "s.jsonl", [{"tool_calls": [GUT]}, {"content": "All green now."}])
    result = trident(*example_args(tmp_path, session))
    assert result.returncode == 1, result.stderr
    assert "tests regressed: 2 passed before the change, 0 after" in result.stderr.splitlines()[-1]


def test_protected_paths_of_the_repo_config_hold_in_a_headless_run(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE / "repo", repo)
    (repo / ".trident.toml").write_text('protected_paths = ["test_*.py"]\n')
    session = write_session(tmp_path / "s.jsonl", [{"tool_calls": [GUT]}, {"content": "All green now."}])
    result = trident(*example_args(tmp_path, session, repo), "--json")
    assert result.returncode == 1, result.stderr
    refused = next(json.loads(line) for line in result.stdout.splitlines() if '"tool_result"' in line)
    assert not refused["ok"] and "test_timefmt.py is protected" in refused["output"]
    assert "test_timefmt.py" not in (tmp_path / "fix.patch").read_text()


def test_apply_writes_the_fix_into_the_repo(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE / "repo", repo)
    args = example_args(tmp_path)
    args[args.index("--repo") + 1] = str(repo)
    result = trident(*args, "--apply")
    assert result.returncode == 0, result.stderr
    assert "applied to" in result.stderr.splitlines()[-1]
    assert "(seconds % 3600) // 60" in (repo / "timefmt.py").read_text()
    assert subprocess.run([sys.executable, "-m", "unittest"], cwd=repo, capture_output=True).returncode == 0


def test_step_budget_exits_3(tmp_path: Path, sandbox_flags: list[str]) -> None:
    result = trident(*example_args(tmp_path), "--max-steps", "2", *sandbox_flags)
    assert result.returncode == 3, result.stderr
    assert "max_steps" in result.stderr.splitlines()[-1]


def test_broken_endpoint_exits_5(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = tmp_path / "config.toml"
    config.write_text("[openai]\nmax_retries = 0\n")
    args = example_args(tmp_path)
    args[args.index("--model") + 1] = f"openai:some-model@http://127.0.0.1:{port}/v1"
    result = trident(*args, env={"TRIDENT_CONFIG": str(config)})
    assert result.returncode == 5, result.stderr
    assert "cannot connect" in result.stderr.splitlines()[-1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--repo", ".", "--task", "x", "--effort", "medium"], "invalid choice"),
        (["run", "--repo", "."], "--task"),
        (["run", "--repo", "/nonexistent/dir", "--task", "x", "--model", "scripted:x"], "not a directory"),
        (["run", "--repo", ".", "--task", "x"], "no model configured"),
        (["run", "--repo", ".", "--task", "x", "--model", "gpt"], "scheme:target"),
        (["run", "--repo", ".", "--task", "x", "--max-steps", "0", "--model", "scripted:x"], "max_steps"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = trident(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


def assert_usage_error(result: subprocess.CompletedProcess[str], message: str) -> None:
    """Exit 2, one line on stderr naming the problem, no traceback."""
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    assert message in result.stderr, result.stderr


def test_a_binary_task_file_is_a_usage_error(tmp_path: Path) -> None:
    for name, data in (("latin1.md", "café".encode("latin-1")), ("nul.md", b"fix\x00it")):
        (tmp_path / name).write_bytes(data)
        args = example_args(tmp_path)
        args[args.index("--task-file") + 1] = str(tmp_path / name)
        assert_usage_error(trident(*args), f"--task-file {tmp_path / name} is not a UTF-8 text file")
    assert not runs_left(tmp_path)


def test_an_existing_trajectory_out_is_a_usage_error_and_stays_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "trajectory.jsonl").write_text("another run's events\n")
    result = trident(*example_args(tmp_path), "--sandbox", "local")
    assert_usage_error(result, f"--trajectory-out {tmp_path / 'trajectory.jsonl'} already exists")
    assert (tmp_path / "trajectory.jsonl").read_text() == "another run's events\n"
    assert not runs_left(tmp_path)


def test_an_unwritable_trajectory_out_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    args = example_args(tmp_path)
    args[args.index("--trajectory-out") + 1] = str(tmp_path / "a-file" / "trajectory.jsonl")
    assert_usage_error(trident(*args, "--sandbox", "local"), f"--trajectory-out {tmp_path / 'a-file'}")
    assert not runs_left(tmp_path)


def runs_left(tmp_path: Path) -> list[Path]:
    """What runs left in the state directory (workspaces, trident's stores, verification copies)."""
    return sorted((tmp_path / "xdg-state" / "trident" / "runs").glob("*/*"))


def test_a_run_that_cannot_be_resumed_leaves_no_workspace(tmp_path: Path, sandbox_image: str) -> None:
    # the sandbox never starts: no event was recorded, so there is nothing to resume
    args = [*example_args(tmp_path), "--sandbox", "docker", "--image", "trident-no-such-image:0"]
    result = trident(*args)
    assert result.returncode == 4 and "not found" in result.stderr.splitlines()[-1], result.stderr
    assert not runs_left(tmp_path) and not (tmp_path / "trajectory.jsonl").exists()
    # a model spec that cannot be read: the same
    args = example_args(tmp_path, tmp_path / "no-such-session.jsonl")
    result = trident(*args, "--sandbox", "local")
    assert result.returncode == 5, result.stderr
    assert not runs_left(tmp_path) and not (tmp_path / "trajectory.jsonl").exists()
    # a finished run (solved or not) cannot be resumed either; an interrupted one keeps its workspace
    result = trident(*example_args(tmp_path), "--sandbox", "local")
    assert result.returncode == 0, result.stderr
    assert not runs_left(tmp_path)


def test_bad_config_file_exits_2_naming_file_and_field(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[limits]\nmax_steps = "ten"\n')
    result = trident("run", "--repo", ".", "--task", "x", env={"TRIDENT_CONFIG": str(config)})
    assert result.returncode == 2
    assert str(config) in result.stderr and "limits.max_steps" in result.stderr


def slow_session(tmp_path: Path) -> Path:
    """The example session plus a step that blocks once, in a repository holding a `block` file.

    The marker lives in the workspace's `.git` (never in the patch); a repository without `block`
    never blocks. In Docker the workspace is the container's own copy (pulled to the host after
    each step), so the test puts the marker in the host copy before resuming (`unblock`).
    """
    turns: list[dict[str, Any]] = [
        json.loads(line) for line in (EXAMPLE / "session.jsonl").read_text().splitlines()
    ]
    block = "if [ -e block ] && [ ! -e .git/blocked ]; then touch .git/blocked; sleep 60; fi; echo checked"
    turns.insert(2, {"content": "", "tool_calls": [{"name": "bash", "arguments": {"command": block}}]})
    return write_session(tmp_path / "slow.jsonl", turns)


def blocking_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "blocking-repo"
    shutil.copytree(EXAMPLE / "repo", repo)
    (repo / "block").write_text("")
    return repo


def _as_from_a_terminal() -> None:
    """Ctrl-C reaches trident as it does from a terminal: a test suite started in the background by a
    non-interactive shell has SIGINT ignored, and an ignored signal is inherited (POSIX)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_and_wait(args: list[str], trajectory: Path) -> subprocess.Popen[str]:
    """Start `trident run` and wait until its blocking step runs (its call is in the trajectory, and
    a moment has passed for the command to start)."""
    proc = subprocess.Popen(
        [*TRIDENT, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_as_from_a_terminal,
    )
    deadline = time.monotonic() + 120
    while not any(
        isinstance(e, ToolCall) and "blocked" in json.dumps(e.arguments)
        for e in (load(trajectory) if trajectory.exists() and trajectory.stat().st_size else [])
    ):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the blocking step never started"
        time.sleep(0.05)
    time.sleep(1.0)
    return proc


def unblock(state: Path) -> None:
    """The blocking step's marker, in the run's host copy: the step runs again on resume, unblocked."""
    for git in state.glob("trident/runs/*/workspace/.git"):
        (git / "blocked").touch()


def shape(events: list[Event]) -> list[tuple[Any, ...]]:
    """What must match between an uninterrupted run and a killed-and-resumed one."""
    out: list[tuple[Any, ...]] = []
    workspace = next(e.workspace for e in events if isinstance(e, RunStart))
    for e in events:
        if e.type == "run_resumed":
            continue
        data = e.model_dump(
            exclude={"seq", "ts", "duration_s", "call_id", "tool_calls", "run_id", "workspace"}
        )
        data.pop("settings", None)
        if e.type == "run_end":
            data = {"status": data["status"], "steps": data["steps"]}
        if e.type == "system_message":
            data = {}
        text = json.dumps(data, sort_keys=True).replace(workspace, "<workspace>")
        out.append((e.type, re.sub(r"\d+\.\d+s\b", "<seconds>", text)))  # test runners print timings
    return out


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_records_every_event_once(
    tmp_path: Path, sandbox_flags: list[str]
) -> None:
    reference_dir, killed_dir = tmp_path / "reference", tmp_path / "killed"
    reference_dir.mkdir()
    killed_dir.mkdir()
    session = slow_session(tmp_path)
    reference = trident(*example_args(reference_dir, session), *sandbox_flags)  # the example repo: no block
    assert reference.returncode == 0, reference.stderr

    killed_args = [*example_args(killed_dir, session, blocking_repo(tmp_path)), *sandbox_flags]
    trajectory = killed_dir / "trajectory.jsonl"
    proc = start_and_wait(killed_args, trajectory)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    unblock(tmp_path / "xdg-state")
    assert not isinstance(load(trajectory)[-1], RunEnd)

    killed = load(trajectory)
    in_flight = [e.call_id for e in killed if isinstance(e, ToolCall)][-1]  # the blocking `bash`
    assert not any(isinstance(e, ToolResult) and e.call_id == in_flight for e in killed)
    # the killed run keeps its workspace and trident's store, to resume (and, in Docker, the
    # checkpoint saying which event its copy covers)
    assert {p.name for p in runs_left(tmp_path)} - {"checkpoint.json"} == {"baseline.git", "workspace"}

    resumed = trident("run", "--resume", str(trajectory), "--patch-out", str(killed_dir / "fix.patch"))
    assert resumed.returncode == 0, resumed.stderr
    events = load(trajectory)
    # the call in flight when trident was killed ran again (at least once), and the trajectory says so
    marked = next(e for e in events if isinstance(e, RunResumed))
    assert marked.rerun_calls == [in_flight]
    # the blocking command has one result: the call's own (local), or the step's again (Docker:
    # the host copy covers completed steps only, so the step is asked again and its call has a new id)
    blocking = {e.call_id for e in events if isinstance(e, ToolCall) and "blocked" in json.dumps(e.arguments)}
    assert len([e for e in events if isinstance(e, ToolResult) and e.call_id in blocking]) == 1
    assert not runs_left(tmp_path)
    assert [e.seq for e in events] == list(range(len(events)))
    assert shape(events) == shape(load(reference_dir / "trajectory.jsonl"))
    assert (killed_dir / "fix.patch").read_text() == (reference_dir / "fix.patch").read_text()


@pytest.mark.slow
def test_sigint_exits_130_with_the_trajectory_intact_and_resumable(
    tmp_path: Path, sandbox_flags: list[str]
) -> None:
    session = slow_session(tmp_path)
    args = [*example_args(tmp_path, session, blocking_repo(tmp_path)), *sandbox_flags]
    proc = start_and_wait(args, tmp_path / "trajectory.jsonl")
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    unblock(tmp_path / "xdg-state")
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr.splitlines()[-1]
    end = load(tmp_path / "trajectory.jsonl")[-1]
    assert isinstance(end, RunEnd) and end.status == "interrupted"
    resumed = trident("run", "--resume", str(tmp_path / "trajectory.jsonl"))
    assert resumed.returncode == 0, resumed.stderr
    ends = [e for e in load(tmp_path / "trajectory.jsonl") if isinstance(e, RunEnd)]
    assert [e.status for e in ends] == ["finished"]


@pytest.mark.slow
def test_batch_runs_instances_in_parallel_and_writes_one_record_each(tmp_path: Path) -> None:
    repo = tmp_path / "upstream"
    shutil.copytree(EXAMPLE / "repo", repo)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "buggy"], cwd=repo, check=True)
    buggy = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True
    ).stdout.strip()
    (repo / "NOTES.md").write_text("a later commit\n")
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "later"], cwd=repo, check=True)
    giving_up = write_session(tmp_path / "giving-up.jsonl", [{"content": "I cannot fix this."}])
    task = (EXAMPLE / "task.md").read_text()
    instances = [
        {"id": "fix-at-commit", "repo": str(repo), "commit": buggy, "task": task,
         "test_cmd": "python3 -m unittest", "model": f"scripted:{EXAMPLE / 'session.jsonl'}"},
        {"id": "gives-up", "repo": str(repo), "commit": buggy, "task": task,
         "test_cmd": "python3 -m unittest", "model": f"scripted:{giving_up}"},
        {"id": "plain-dir", "repo": str(EXAMPLE / "repo"), "task": task,
         "test_cmd": "python3 -m unittest", "model": f"scripted:{EXAMPLE / 'session.jsonl'}"},
    ]  # fmt: skip
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("".join(json.dumps(i) + "\n" for i in instances))
    result = trident(
        "run", "--tasks", str(tasks), "--workers", "2", "--out", str(tmp_path / "out"), "--max-nudges", "0"
    )
    assert result.returncode == 1, result.stderr  # one instance was not solved
    records = {
        r["id"]: r for r in map(json.loads, (tmp_path / "out" / "results.jsonl").read_text().splitlines())
    }
    assert {k: r["exit_code"] for k, r in records.items()} == {
        "fix-at-commit": 0,
        "gives-up": 1,
        "plain-dir": 0,
    }
    assert "(seconds % 3600) // 60" in Path(records["fix-at-commit"]["patch"]).read_text()
    assert "NOTES.md" not in Path(records["fix-at-commit"]["patch"]).read_text()
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert (
        summary["instances"] == 3 and summary["solved"] == 2 and summary["by_exit_code"] == {"0": 2, "1": 1}
    )
    assert (repo / "NOTES.md").exists() and "% 60\n    secs" in (repo / "timefmt.py").read_text()


def test_batch_with_a_bad_tasks_file_exits_2(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"id": "x", "repo": "."}\n')
    result = trident("run", "--tasks", str(tasks))
    assert result.returncode == 2 and "tasks.jsonl:1: task: Field required" in result.stderr
