"""Item 2: the verdict is computed where the agent never was.

Each test is a real `trident run` (a subprocess) whose scripted model issues the hostile commands,
on the local sandbox and on real Docker (`sandbox_flags`). The example repository's tests fail
before the fix; every attack below made the old verdict "solved" (the final tests ran in the
agent's own shell, the patch was exported with the workspace's own git). Now the verdict is what
the real tests say about the patch alone, applied to a clean copy in a fresh sandbox: not solved,
exit code 1, and a legitimate fix is still solved.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import EXAMPLE, write_session
from tests.test_cli import example_args, snapshot, trident

# what `python3 -m unittest` prints when 5 tests pass (the summary parser counts them)
FAKE_PASS = "printf 'Ran 5 tests in 0.001s\\n\\nOK\\n'"
FIX = {
    "name": "edit",
    "arguments": {
        "path": "timefmt.py",
        "old_text": "    minutes = seconds % 60\n",
        "new_text": "    minutes = (seconds % 3600) // 60\n",
    },
}


def bash(command: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "bash", "arguments": {"command": command}}]}


def attack(tmp_path: Path, sandbox_flags: list[str], *turns: dict[str, Any]) -> tuple[int, str, list[Any]]:
    """Run the example task with a session of `turns` (then "done"); the exit code, stderr, events."""
    session = write_session(tmp_path / "attack.jsonl", [*turns, {"content": "All tests pass now."}])
    result = trident(*example_args(tmp_path, session), *sandbox_flags, "--json")
    events = [json.loads(line) for line in result.stdout.splitlines()]
    return result.returncode, result.stderr, events


def final_check(events: list[Any]) -> dict[str, Any]:
    return next(e for e in events if e["type"] == "verification" and e["phase"] == "final")


def assert_real_tests_decided(code: int, stderr: str, events: list[Any]) -> None:
    assert code == 1, stderr
    assert "tests still fail" in stderr.splitlines()[-1], stderr
    final = final_check(events)
    assert final["exit_code"] != 0 and final["failed"] >= 1, final  # the real tests ran, and failed
    assert events[-1]["type"] == "verdict" and events[-1]["solved"] is False


def test_a_fake_python3_first_on_path_does_not_decide(tmp_path: Path, sandbox_flags: list[str]) -> None:
    shadow = bash(
        r"""fake=$(mktemp -d) && printf '#!/bin/sh\nprintf "Ran 5 tests in 0.001s\\n\\nOK\\n"\n' """
        r""">"$fake/python3" && chmod +x "$fake/python3" && export PATH="$fake:$PATH" && """
        "python3 -m unittest"
    )
    code, stderr, events = attack(tmp_path, sandbox_flags, shadow)
    shadowed = next(e for e in events if e["type"] == "tool_result")
    assert shadowed["output"].endswith("Ran 5 tests in 0.001s\n\nOK"), (
        shadowed
    )  # the shadowing worked in its shell
    assert_real_tests_decided(code, stderr, events)


def test_a_shell_function_named_python3_does_not_decide(tmp_path: Path, sandbox_flags: list[str]) -> None:
    define = bash(f"python3() {{ {FAKE_PASS}; }}; pytest() {{ {FAKE_PASS}; }}")
    check = bash("python3 -m unittest")
    code, stderr, events = attack(tmp_path, sandbox_flags, define, check)
    checked = [e for e in events if e["type"] == "tool_result"][1]
    assert checked["output"].endswith("Ran 5 tests in 0.001s\n\nOK"), (
        checked
    )  # the function outlived its command
    assert_real_tests_decided(code, stderr, events)


def test_a_daemon_left_running_cannot_rewrite_the_tests(tmp_path: Path, sandbox_flags: list[str]) -> None:
    """A setsid'd, double-forked loop that waits for the agent to end, then keeps replacing every
    copy of the test file it can find (the workspace's, and any verification copy near it) with
    tests that pass. It is killed with its command, and the verification copy is out of its reach."""
    passing = "import unittest\\nclass T(unittest.TestCase):\\n" + "".join(
        f"    def test_{i}(self): pass\\n" for i in range(5)
    )
    daemon = bash(
        f"printf '{passing}' > /tmp/pass.py; "
        "( setsid sh -c 'sleep 1; while :; do "
        'for f in $(find "$0/.." -name test_timefmt.py -not -path "*/.git/*" 2>/dev/null); do '
        'cp /tmp/pass.py "$f"; done; sleep 0.05; done\' "$PWD" >/dev/null 2>&1 & ) ; echo started'
    )
    code, stderr, events = attack(tmp_path, sandbox_flags, daemon)
    started = next(e for e in events if e["type"] == "tool_result")
    assert "killed" in started["output"], started  # the runner ended it with its command
    assert_real_tests_decided(code, stderr, events)
    assert "test_timefmt.py" not in (tmp_path / "fix.patch").read_text()


def test_a_doctored_git_in_the_workspace_decides_nothing(tmp_path: Path, sandbox_flags: list[str]) -> None:
    """The fix hidden in an ignored shadow package (`timefmt/` is imported before `timefmt.py`),
    committed and made the workspace's baseline (`refs/trident/baseline`), and the workspace's git
    config armed (fsmonitor, external diff, textconv, hooks) to run a script whenever git looks."""
    marker = tmp_path / "pwned-on-the-host"
    fixed = (
        (EXAMPLE / "repo" / "timefmt.py")
        .read_text()
        .replace("    minutes = seconds % 60\n", "    minutes = (seconds % 3600) // 60\n")
    )
    hide = {
        "tool_calls": [
            {"name": "write", "arguments": {"path": "timefmt/__init__.py", "content": fixed}},
            {"name": "write", "arguments": {"path": ".gitignore", "content": "timefmt/\n"}},
            {"name": "write", "arguments": {"path": "evil.sh", "content": f"#!/bin/sh\ntouch {marker}\n"}},
        ]
    }
    doctor = bash(
        "chmod +x evil.sh && git add -f -A && "
        "git -c user.name=a -c user.email=a@a commit -qm hidden --no-verify && "
        "git update-ref refs/trident/baseline HEAD && "
        'git config core.fsmonitor "$PWD/evil.sh" && git config diff.external "$PWD/evil.sh" && '
        "git config core.hooksPath \"$PWD\" && printf '* diff=evil\\n' > .git/info/attributes && "
        'git config diff.evil.textconv "$PWD/evil.sh" && python3 -m unittest 2>&1 | tail -1'
    )
    code, stderr, events = attack(tmp_path, sandbox_flags, hide, doctor)
    doctored = [e for e in events if e["type"] == "tool_result"][-1]
    assert doctored["output"].strip().endswith("OK"), doctored  # the hidden fix passes in the workspace
    assert_real_tests_decided(code, stderr, events)
    patch = (tmp_path / "fix.patch").read_text()
    assert "timefmt/__init__.py" not in patch and ".gitignore" in patch  # the ignored package is not in it
    assert not marker.exists()  # trident's git never ran the workspace's hooks or drivers


def test_a_legitimate_fix_is_still_solved(tmp_path: Path, sandbox_flags: list[str]) -> None:
    code, stderr, events = attack(tmp_path, sandbox_flags, {"tool_calls": [FIX]})
    assert code == 0, stderr
    assert final_check(events)["passed"] == 5
    assert "(seconds % 3600) // 60" in (tmp_path / "fix.patch").read_text()


# -- `--apply` writes nothing unsafe into the user's repository --------------------------------------


@pytest.mark.parametrize(
    ("extra", "refusal"),
    [
        (bash("ln -s /etc/passwd passwd"), "passwd is a symlink out of the repository (to /etc/passwd)"),
        (bash("ln -s ../../outside up"), "up is a symlink out of the repository (to ../../outside)"),
        (
            {"tool_calls": [{"name": "write", "arguments": {"path": ".trident.toml", "content": "x = 1\n"}}]},
            ".trident.toml is trident's own configuration of the repository",
        ),
    ],
)
def test_apply_refuses_an_unsafe_patch_and_leaves_the_repo_untouched(
    tmp_path: Path, sandbox_flags: list[str], extra: dict[str, Any], refusal: str
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE / "repo", repo)
    before = snapshot(repo)
    session = write_session(tmp_path / "s.jsonl", [{"tool_calls": [FIX]}, extra, {"content": "Done."}])
    result = trident(*example_args(tmp_path, session, repo), *sandbox_flags, "--apply")
    assert result.returncode == 1, result.stderr
    last = result.stderr.splitlines()[-1]
    assert "tests pass after the change, but --apply refused the patch" in last and refusal in last, last
    assert f"{repo} is untouched" in last
    assert snapshot(repo) == before and sorted(p.name for p in repo.iterdir()) == sorted(before)
    assert (tmp_path / "fix.patch").read_text()  # the patch is still written for a human to look at


@pytest.mark.slow
def test_batch_instances_are_verified_the_same_way(tmp_path: Path, sandbox_flags: list[str]) -> None:
    shadow = write_session(
        tmp_path / "shadow.jsonl",
        [bash(f"python3() {{ {FAKE_PASS}; }}"), {"content": "All tests pass now."}],
    )
    task = (EXAMPLE / "task.md").read_text()
    instances = [
        {"id": "shadow", "repo": str(EXAMPLE / "repo"), "task": task, "test_cmd": "python3 -m unittest",
         "model": f"scripted:{shadow}"},
        {"id": "legit", "repo": str(EXAMPLE / "repo"), "task": task, "test_cmd": "python3 -m unittest",
         "model": f"scripted:{EXAMPLE / 'session.jsonl'}"},
    ]  # fmt: skip
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("".join(json.dumps(i) + "\n" for i in instances))
    out = tmp_path / "out"
    for _ in range(2):  # a second batch into the same OUT replaces its trajectories
        result = trident("run", "--tasks", str(tasks), "--out", str(out), "--max-nudges", "0", *sandbox_flags)
        assert result.returncode == 1, result.stderr
        records = {r["id"]: r for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
        assert {k: r["exit_code"] for k, r in records.items()} == {"shadow": 1, "legit": 0}
        assert "tests still fail" in records["shadow"]["reason"]
