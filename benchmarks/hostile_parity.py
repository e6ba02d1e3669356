"""The hostile set in the grading benchmark's parity table: `python -m benchmarks.grading --hostile`.

The samples are the hostile-sample test's (tests/security/test_grading_attacks.py): each attack
between innocent reference solutions of other problems. Graded once by each grader of the run, the
table shows per sample the verdict each gave, and per grader how many attacks passed (the grader
was fooled) and how many innocents lost their pass (an attack reached them).

trident's grader runs every sample in its sandbox. The baselines (upstream's in-process design, and
upstream's evaluator) have no sandbox: they run on this machine as this user, so the attacks that
would harm the machine or other work on it (killing every process this user may signal, a fork
bomb, files left in /tmp, reading other processes' memory and pipes) are not run by them and show
as "not run"; the forgeries, the monkeypatches, killing the grader's own parent, an always-equal
`__eq__` and early exits are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from tests.security.test_grading_attacks import ATTACKS, samples

# attacks that reach beyond their own process: not run outside a sandbox
HOST_UNSAFE = {
    "kill the driver, runner, everything",
    "fork bomb",
    "litter for the next sample",
    "snoop the expected output",
    "snoop the expected return value",
}
NOT_RUN = 0  # the verdict code of a sample a baseline did not run


class HostileCase(BaseModel):
    name: str
    attack: bool  # False: an innocent (a reference solution) amid the attacks
    host_safe: bool
    allowed: list[str] | None  # the verdicts the test allows it (None: any failing one)


def hostile_cases() -> tuple[list[HostileCase], list[Any], list[str]]:
    """The cases, their problems and codes, in the test's order."""
    cases, problems, codes = [], [], []
    for name, problem, code, verdicts in samples():
        attack = name in ATTACKS and not name.startswith("litter")
        unsafe = name in HOST_UNSAFE or name == "the sample after the litter"
        allowed = sorted(verdicts) if verdicts is not None else None
        cases.append(HostileCase(name=name, attack=attack, host_safe=not unsafe, allowed=allowed))
        problems.append(problem)
        codes.append(code)
    return cases, problems, codes


def parity_table(
    console: Console,
    cases: list[HostileCase],
    verdicts: dict[str, list[int]],
    describe: Callable[[int], str],
) -> dict[str, Any]:
    """Print the per-sample verdicts of every grader and the counts; return them as data."""
    names = list(verdicts)
    table = Table(title=f"Hostile set: {len(cases)} samples (attacks amid innocents), one round")
    table.add_column("sample")
    for name in names:
        table.add_column(name, justify="right")
    for number, case in enumerate(cases):
        cells = []
        for name in names:
            code = verdicts[name][number]
            text = "not run" if code == NOT_RUN else describe(code)
            fooled = case.attack and code == 1
            lost = not case.attack and case.allowed == ["pass"] and code not in (1, NOT_RUN)
            cells.append(f"[bold red]{text}[/]" if fooled or lost else text)
        table.add_row(("" if case.attack else "  ") + case.name, *cells)
    console.print(table)
    counts: dict[str, Any] = {}
    for name in names:
        codes = verdicts[name]
        run = [i for i, code in enumerate(codes) if code != NOT_RUN]
        attacks = [i for i in run if cases[i].attack]
        innocents = [i for i in run if not cases[i].attack and cases[i].allowed == ["pass"]]
        counts[name] = {
            "samples run": len(run),
            "attacks run": len(attacks),
            "attacks that passed": [cases[i].name for i in attacks if codes[i] == 1],
            "innocents run": len(innocents),
            "innocents that lost their pass": [cases[i].name for i in innocents if codes[i] != 1],
        }
        console.print(
            f"{name}: {len(counts[name]['attacks that passed'])} of {len(attacks)} attacks passed, "
            f"{len(counts[name]['innocents that lost their pass'])} of {len(innocents)} innocents lost "
            "their pass"
        )
    return {
        "cases": [case.model_dump() for case in cases],
        "verdicts": verdicts,
        "counts": counts,
    }
