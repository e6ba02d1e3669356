"""trident and a peer agent (mini-swe-agent) on the same live model, endpoint and bug-fix tasks.

    python -m benchmarks.live_model start                # the model (prints its URL)
    pip install mini-swe-agent                           # the peer: its `mini` on PATH, or --mini PATH
    python -m benchmarks.live --url http://127.0.0.1:8431/v1 [--tasks 3] [--max-steps 6]

Each task (written here: a small package whose unittest suite fails on one bug) runs through
`trident run` (Docker sandbox, trident's own verdict) and through mini-swe-agent's `mini` with its
default config (tool calling, `bash` only) in a Docker container of trident's sandbox image, the
copy of the task mounted, no network; mini's result is judged by running the same tests on that
copy afterwards. Printed per agent: solve rate, valid-call rate (model turns that made at least one
well-formed structured call), steps and seconds per task, and trident's ratio to the peer.

A 1.5B model's solve rate is low, for both; what this measures is whether trident carries the
model at least as far as the peer does. Speed is not compared: both wait on the same server.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.live_model import MODEL_NAME

TEST_CMD = "python3 -m unittest"
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Task:
    name: str
    text: str
    files: dict[str, str]


def _example() -> Task:
    root = REPO / "examples" / "timefmt"
    files = {p.name: p.read_text(encoding="utf-8") for p in (root / "repo").iterdir() if p.is_file()}
    return Task("timefmt", (root / "task.md").read_text(encoding="utf-8"), files)


TASKS = [
    _example(),
    Task(
        "clamp",
        "`clamp(5, 0, 3)` returns 0 instead of 3. Fix `clamp` in bounds.py ; see test_bounds.py.",
        {
            "bounds.py": "def clamp(x, lo, hi):\n    if x < lo:\n        return lo\n"
            "    if x > hi:\n        return lo\n    return x\n",
            "test_bounds.py": "import unittest\nfrom bounds import clamp\n\n\n"
            "class Clamp(unittest.TestCase):\n"
            "    def test_inside(self):\n        self.assertEqual(clamp(2, 0, 3), 2)\n\n"
            "    def test_below(self):\n        self.assertEqual(clamp(-1, 0, 3), 0)\n\n"
            "    def test_above(self):\n        self.assertEqual(clamp(5, 0, 3), 3)\n",
        },
    ),
    Task(
        "words",
        "`count_words('a  b')` returns 3 instead of 2: repeated spaces count as words. Fix it in words.py.",
        {
            "words.py": "def count_words(text):\n    return len(text.split(' '))\n",
            "test_words.py": "import unittest\nfrom words import count_words\n\n\n"
            "class Words(unittest.TestCase):\n"
            "    def test_plain(self):\n        self.assertEqual(count_words('a b c'), 3)\n\n"
            "    def test_spaces(self):\n        self.assertEqual(count_words('a  b'), 2)\n\n"
            "    def test_empty(self):\n        self.assertEqual(count_words(''), 0)\n",
        },
    ),
]


@dataclass
class Result:
    solved: bool
    turns: int
    valid_turns: int  # turns with at least one well-formed structured call
    steps: int
    seconds: float
    end: str


def _copy(task: Task, root: Path) -> Path:
    for name, text in task.files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def run_trident(task: Task, url: str, max_steps: int, image: str, scratch: Path) -> Result:
    repo = _copy(task, scratch / "repo")
    command = [sys.executable, "-m", "trident", "run", "--repo", str(repo), "--task", task.text]
    command += [
        "--test-cmd",
        TEST_CMD,
        "--model",
        f"openai:{MODEL_NAME}@{url}",
        "--max-steps",
        str(max_steps),
    ]
    command += ["--sandbox", "docker", "--image", image, "--json"]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    seconds = time.monotonic() - started
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    accepted = {e["call_id"] for e in events if e["type"] == "tool_call"}
    turns = [e for e in events if e["type"] == "assistant_turn"]
    valid = sum(any(c["id"] in accepted for c in t["tool_calls"]) for t in turns)
    end = next((e for e in events if e["type"] == "run_end"), None)
    steps, status = (int(end["steps"]), str(end["status"])) if end else (0, "none")
    return Result(done.returncode == 0, len(turns), valid, steps, seconds, status)


def run_mini(task: Task, url: str, max_steps: int, image: str, mini: str, scratch: Path) -> Result:
    repo = _copy(task, scratch / "repo")
    trajectory = scratch / "mini.traj.json"
    overrides = [
        "mini.yaml",
        f"model.model_kwargs.api_base={url}",
        "model.cost_tracking=ignore_errors",
        f"agent.step_limit={max_steps}",
        "agent.cost_limit=0",
        f"environment.image={image}",
        "environment.cwd=/repo",
        f'environment.run_args=["--rm","--network","none","-v","{repo}:/repo"]',
    ]
    command = [mini, "-m", f"openai/{MODEL_NAME}", "-t", task.text, "-y", "--exit-immediately"]
    command += ["--environment-class", "docker", "-o", str(trajectory)]
    for override in overrides:
        command += ["-c", override]
    env = {
        **os.environ,
        "OPENAI_API_KEY": "none",
        "MSWEA_CONFIGURED": "true",
        "MSWEA_COST_TRACKING": "ignore_errors",
    }
    started = time.monotonic()
    subprocess.run(command, capture_output=True, text=True, timeout=3600, env=env, stdin=subprocess.DEVNULL)
    seconds = time.monotonic() - started
    data = json.loads(trajectory.read_text()) if trajectory.exists() else {}
    info = data.get("info", {})
    turns = int(info.get("model_stats", {}).get("api_calls", 0))  # a turn without a call is not kept
    valid = sum(bool(m.get("tool_calls")) for m in data.get("messages", []) if m.get("role") == "assistant")
    tests = subprocess.run(TEST_CMD.split(), cwd=repo, capture_output=True, timeout=120)
    return Result(tests.returncode == 0, turns, valid, turns, seconds, str(info.get("exit_status", "none")))


def _rate(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def report(name: str, results: list[Result]) -> dict[str, float]:
    n = len(results)
    row = {
        "solve": _rate(sum(r.solved for r in results), n),
        "valid_calls": _rate(sum(r.valid_turns for r in results), sum(r.turns for r in results)),
        "steps": _rate(sum(r.steps for r in results), n),
        "seconds": _rate(sum(r.seconds for r in results), n),
    }
    ends = ", ".join(r.end for r in results)
    print(
        f"{name:<14} solve {row['solve']:.0%}  valid-call turns {row['valid_calls']:.0%}  "
        f"steps/task {row['steps']:.1f}  s/task {row['seconds']:.0f}  ends: {ends}"
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=os.environ.get("TRIDENT_LIVE_MODEL_URL", "http://127.0.0.1:8431/v1"))
    parser.add_argument("--tasks", type=int, default=len(TASKS), help=f"the first N of {len(TASKS)}")
    parser.add_argument("--max-steps", type=int, default=6)
    parser.add_argument("--mini", default=shutil.which("mini") or "mini", help="mini-swe-agent's `mini`")
    args = parser.parse_args()
    from trident.sandbox.docker import docker_client
    from trident.sandbox.image import ensure_image

    image = ensure_image(docker_client())
    ours: list[Result] = []
    peer: list[Result] = []
    for task in TASKS[: args.tasks]:
        for agent, results in (("trident", ours), ("mini-swe-agent", peer)):
            with tempfile.TemporaryDirectory() as scratch:
                (Path(scratch) / "repo").mkdir()
                if agent == "trident":
                    result = run_trident(task, args.url, args.max_steps, image, Path(scratch))
                else:
                    result = run_mini(task, args.url, args.max_steps, image, args.mini, Path(scratch))
            results.append(result)
            print(f"  {task.name:<8} {agent:<14} {result}", flush=True)
    print(f"{len(ours)} tasks, model at {args.url}, at most {args.max_steps} steps each")
    a, b = report("trident", ours), report("mini-swe-agent", peer)
    for key in ("solve", "valid_calls"):
        ratio = f"{a[key] / b[key]:.2f}x" if b[key] else ("equal (both 0)" if not a[key] else "peer 0")
        print(f"ratio trident/mini-swe-agent, {key}: {ratio}")


if __name__ == "__main__":
    main()
