"""Tool-call intake throughput: cached compiled validators vs compiling the schema for every call.

Prints calls per second for both, measured in the same run, and their ratio.
Run: python -m benchmarks.intake [--calls N]
"""

from __future__ import annotations

import argparse
import json
import time

from jsonschema import Draft202012Validator

from trident.agent.core.events import RawToolCall
from trident.agent.intake.calls import Accepted, Intake
from trident.tools.registry import default_tools

CALLS = [
    RawToolCall(id="abcdefgh1", name="read", arguments='{"path": "src/app.py", "offset": 10}'),
    RawToolCall(
        id="abcdefgh2", name="edit", arguments=json.dumps({"path": "a.py", "old_text": "x", "new_text": "y"})
    ),
    RawToolCall(id="abcdefgh3", name="bash", arguments='```json\n{"command": "ls -la",}\n```'),
    RawToolCall(id="abcdefgh4", name="write", arguments='{"path": 3}'),
]


class UncachedIntake(Intake):
    """The baseline: what intake costs when every call compiles its validator afresh."""

    def validator(self, name: str) -> Draft202012Validator:
        return Draft202012Validator(self._tools[name].parameters)


def rate(intake: Intake, n: int) -> float:
    started = time.perf_counter()
    accepted = 0
    for i in range(n):
        accepted += isinstance(intake.check(CALLS[i % len(CALLS)]), Accepted)
    assert accepted == 3 * n // 4
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    n = parser.parse_args().calls
    specs = default_tools().specs()
    rate(Intake(specs), 200)  # warm-up
    baseline = rate(UncachedIntake(specs), n)
    cached = rate(Intake(specs), n)
    print(f"intake, validator compiled per call: {baseline:,.0f} calls/s")
    print(f"intake, cached validators:           {cached:,.0f} calls/s")
    print(f"ratio (cached / per call): {cached / baseline:.2f}x")


if __name__ == "__main__":
    main()
