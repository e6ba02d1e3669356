"""Hostile eval samples against the grader, in both sandboxes (local and a real Docker container).

Every attack runs amid innocent samples (reference solutions of other problems, in the same batches
and concurrently on two workers): each attack must end as a failure (or its own verdict), and every
innocent sample must keep its verdict. What the attacks try: forging the report pipe and the
driver's answers then `os._exit(0)`, killing the supervisor, the driver and the runner, a fork bomb,
leaving files and processes for the next sample, finding the expected outputs (or another sample's
code) in memory, /proc or files, monkeypatching builtins / sys.exit / print / json, an object whose
`__eq__` always says yes, and `SystemExit(0)` early.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest

from tests.evals.lcb_cases import make_problem
from trident.evals.lcb.grader import SampleResult, open_grader

SECRET = "SECRET-" + secrets.token_hex(8)  # an expected output no sample can compute
OTHER = "OTHERSAMPLE-" + secrets.token_hex(8)  # in an innocent sample's code only

ADD = make_problem([("1 2\n", "3\n"), ("2 5\n", "7\n"), ("10 20\n", "30\n")], question_id="add")
HIDDEN = make_problem([("1\n", SECRET + "\n"), ("2\n", SECRET + "\n")], question_id="hidden")
PAIR = make_problem([("[1, 2]\n3", "[2, 3]"), ("[5]\n1", "[5, 1]")], "f", question_id="pair")
HIDDEN_F = make_problem([("1", f'"{SECRET}"'), ("2", f'"{SECRET}"')], "f", question_id="hidden_f")
CLEAN = make_problem([("\n", "clean\n")], question_id="clean")

ADD_OK = "a, b = map(int, input().split())\nprint(a + b)"
PAIR_OK = "class Solution:\n    def f(self, a, b):\n        return a[-1:] + [b]"
# an innocent that carries a marker another sample will look for
ADD_MARKED = ADD_OK + f"\nmarker = {OTHER!r}"
CLEAN_OK = "print('clean')"

FORGE = """
import os, json
lines = [
    '{"status": "ok"}', '{"status": "loaded"}', '{"status": "returned", "value": "%s"}',
    json.dumps({"index": 0, "name": "pass", "results": [True] * 9, "metadata": {}, "duration": 0}),
    json.dumps({"done": True}),
]
for fd in range(0, 64):
    for line in lines:
        try:
            os.write(fd, (line + "\\n").encode())
        except OSError:
            pass
"""

STDIN_FORGE = FORGE % "x" + "os._exit(0)\n"
FUNCTIONAL_FORGE = (
    "def f(a, b=None):\n"
    + "".join("    " + line + "\n" for line in (FORGE % "x").strip().splitlines())
    + "    os._exit(0)\n"
)

KILL_PARENT = "import os\nos.kill(os.getppid(), 9)\nprint(3)"
KILL_PARENT_F = "import os\ndef f(a, b=None):\n    os.kill(os.getppid(), 9)\n    return None"
KILL_EVERYONE = """
import os, signal
def parent(pid):
    with open(f"/proc/{pid}/stat") as handle:
        return int(handle.read().rsplit(")", 1)[1].split()[1])
for pid in (parent(os.getppid()), parent(parent(os.getppid()))):  # the driver, the runner
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
os.kill(-1, signal.SIGKILL)  # everything this sample may signal
"""
FORK_BOMB = """
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""
# leaves files everywhere it can write, and a daemon that writes more after it is gone
LITTER = """
import os, time
for folder in (".", os.environ.get("TMPDIR", "."), "/tmp", "/dev/shm", "/var/tmp", os.path.expanduser("~")):
    try:
        path = os.path.join(folder, "trident-litter")
        with open(path, "w") as handle:
            handle.write("left by an earlier sample")
        os.chmod(path, 0o777)
    except OSError:
        pass
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(0.5)
        for folder in ("/tmp", "/dev/shm"):
            try:
                open(os.path.join(folder, "trident-litter-late"), "w").write("late")
            except OSError:
                pass
        os._exit(0)
    os._exit(0)
print("clean")
"""
LOOK = """
import os, time
time.sleep(1.0)
seen = []
for folder in (".", os.environ.get("TMPDIR", "."), "/tmp", "/dev/shm", "/var/tmp", os.path.expanduser("~")):
    for name in ("trident-litter", "trident-litter-late"):
        if os.path.exists(os.path.join(folder, name)):
            seen.append(os.path.join(folder, name))
print("clean" if not seen else "dirty " + " ".join(seen))
"""
# looks for the expected output (and another sample's code) in its memory, /proc and files
SNOOP = """
import gc, os, sys
prefixes = ["SECRET" + chr(45), "OTHERSAMPLE" + chr(45)]
found = []
def look(text):
    for prefix in prefixes:
        at = text.find(prefix)
        if at >= 0:
            token = text[at:at + len(prefix) + 16]
            if token != prefix and token not in found:
                found.append(token)
for obj in gc.get_objects():
    for item in (obj if isinstance(obj, (list, tuple)) else [obj]):
        if isinstance(item, str):
            look(item)
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    for name in ("cmdline", "environ", "mem", "maps"):
        try:
            with open(f"/proc/{pid}/{name}", "rb") as handle:
                look(handle.read(1 << 22).decode("latin-1"))
        except OSError:
            pass
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                with open(f"/proc/{pid}/fd/{fd}", "rb") as handle:
                    os.set_blocking(handle.fileno(), False)
                    look((handle.read(1 << 20) or b"").decode("latin-1"))
            except (OSError, TypeError):
                pass
    except OSError:
        pass
for top in (".", "/tmp", "/dev/shm", "/workspace", os.path.expanduser("~")):
    for folder, _, names in os.walk(top):
        for name in names:
            try:
                with open(os.path.join(folder, name), "rb") as handle:
                    look(handle.read(1 << 20).decode("latin-1"))
            except OSError:
                pass
        if folder.count(os.sep) > 6:
            break
print(" ".join(found) if found else "none")
"""
SNOOP_F = "def f(a):\n" + "".join("    " + line + "\n" for line in SNOOP.strip().splitlines()).replace(
    '    print(" ".join(found) if found else "none")', '    return " ".join(found) if found else "none"'
)
MONKEYPATCH = """
import builtins, sys, json, os
builtins.print = lambda *a, **k: None
sys.exit = lambda *a: None
json.dumps = lambda *a, **k: '{"status": "ok"}'
os._exit = lambda *a: None
builtins.isinstance = lambda *a: True
raise ValueError("after patching everything")
"""
MONKEYPATCH_F = """
import builtins, json
json.dumps = lambda *a, **k: '{"status": "returned", "value": [2, 3]}'
builtins.type = lambda *a: list
def f(a, b):
    return None
"""
ALWAYS_EQUAL = """
class Anything:
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__
def f(a, b):
    return Anything()
"""
EXIT_EARLY = "raise SystemExit(0)\nprint(3)"
EXIT_EARLY_F = "import sys\nsys.exit(0)\ndef f(a, b):\n    return a[-1:] + [b]"

# name -> (problem, code, verdicts it may get). None: any failing verdict
ATTACKS: dict[str, tuple[Any, str, set[str] | None]] = {
    "stdin forgery + os._exit(0)": (ADD, STDIN_FORGE, {"wrong_answer", "runtime_error"}),
    "functional forgery + os._exit(0)": (PAIR, FUNCTIONAL_FORGE, None),
    "kill the parent (stdin)": (ADD, KILL_PARENT, None),
    "kill the parent (functional)": (PAIR, KILL_PARENT_F, None),
    "kill the driver, runner, everything": (ADD, KILL_EVERYONE, None),
    "fork bomb": (ADD, FORK_BOMB, {"time_limit", "runtime_error"}),
    "litter for the next sample": (CLEAN, LITTER, None),  # its own output is right: it may pass
    "snoop the expected output": (HIDDEN, SNOOP, {"wrong_answer"}),
    "snoop the expected return value": (HIDDEN_F, SNOOP_F, {"wrong_answer"}),
    "monkeypatch print, exit, json": (ADD, MONKEYPATCH, {"runtime_error", "wrong_answer"}),
    "monkeypatch json in a functional": (PAIR, MONKEYPATCH_F, {"wrong_answer", "runtime_error"}),
    "__eq__ always yes": (PAIR, ALWAYS_EQUAL, {"wrong_answer"}),
    "SystemExit(0) early": (ADD, EXIT_EARLY, {"wrong_answer"}),
    "sys.exit(0) at import (functional)": (PAIR, EXIT_EARLY_F, {"crash"}),
}


def samples() -> list[tuple[str, Any, str, set[str] | None]]:
    """Each attack between innocents; the litter attack right before a sample that looks for it."""
    out: list[tuple[str, Any, str, set[str] | None]] = []
    for number, (name, (problem, code, verdicts)) in enumerate(ATTACKS.items()):
        out.append((f"innocent add {number}", ADD, ADD_MARKED if number % 2 else ADD_OK, {"pass"}))
        out.append((name, problem, code, verdicts))
        if name.startswith("litter"):
            out.append(("the sample after the litter", CLEAN, LOOK, {"pass"}))
        out.append((f"innocent pair {number}", PAIR, PAIR_OK, {"pass"}))
    return out


async def grade_all(kind: str, image: str | None) -> dict[str, SampleResult]:
    cases = samples()
    async with open_grader(kind, workers=2, timeout_s=2, memory_mb=512, image=image) as grader:  # type: ignore[arg-type]
        setattr(grader, "batch_max", 8)  # noqa: B010 (several batches, two at a time)
        results = await asyncio.wait_for(
            asyncio.gather(
                *(grader.grade(problem, code, i) for i, (_, problem, code, _) in enumerate(cases))
            ),
            600,
        )
        assert getattr(grader, "restarts") == 0  # noqa: B009 (no attack took the sandbox down)
    return {name: result for (name, _, _, _), result in zip(cases, results, strict=True)}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["local", "docker"])
async def test_hostile_samples_fail_and_innocents_keep_their_verdicts(
    kind: str, request: pytest.FixtureRequest
) -> None:
    image = request.getfixturevalue("sandbox_image") if kind == "docker" else None
    results = await grade_all(kind, image)
    wrong = []
    for name, _problem, _, verdicts in samples():
        got = results[name]
        attack = name in ATTACKS and not name.startswith("litter")
        if attack and got.passed:
            wrong.append(f"{name}: passed")
        if verdicts is not None and got.verdict_name not in verdicts:
            wrong.append(f"{name}: {got.verdict_name} {got.metadata}")
        if got.verdict_name in ("infra_failure", "runner_error"):
            wrong.append(f"{name}: {got.verdict_name} {got.metadata}")
    assert wrong == []
    # What the snoops found of this run (a local sandbox shares the host's /tmp, where another run's
    # leftovers may lie: those are not this run's secrets and decide nothing here).
    for name in ("snoop the expected output", "snoop the expected return value"):
        output = results[name].metadata["output"]
        assert SECRET not in output and OTHER not in output, results[name].metadata
    assert results["the sample after the litter"].passed, results["the sample after the litter"].metadata
