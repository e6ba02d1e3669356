"""Build the bundled set from problems/*.toml: trident_lcb.jsonl, references.json, variants.json.

    python -m trident.evals.data.build            # rewrite the three files
    python -m trident.evals.data.build --check    # exit 1 when the committed files differ from a fresh build

A bad problem file or a failing reference is reported in one line naming the problem (exit 2).

Deterministic: generated inputs come from seeded generators, their expected outputs from running
the reference (a subprocess per stdin test, one per functional problem), and the private tests of
`private_encoding = "zlib"` problems are encoded exactly as upstream: base64(zlib(pickle(json))).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from rich.progress import Progress

from trident.evals.data.generators import GENERATORS
from trident.evals.data.spec import PROBLEMS_DIR, ProblemSpec, SpecError, load_specs
from trident.evals.lcb.problems import Problem, TestCase, problem_row

DATA_DIR = Path(__file__).resolve().parent
JSONL_NAME = "trident_lcb.jsonl"
REFERENCES_NAME = "references.json"
VARIANTS_NAME = "variants.json"
RUN_TIMEOUT_S = 60.0

# Calls Solution().<func_name> for each test input (one JSON value per line) and prints the JSON results.
_FUNCTIONAL_DRIVER = """
import json, sys
path, func_name = sys.argv[1], sys.argv[2]
namespace = {"__name__": "solution"}
with open(path) as handle:
    exec(compile(handle.read(), path, "exec"), namespace)
method = getattr(namespace["Solution"](), func_name)
results = []
for text in json.load(sys.stdin):
    value = method(*[json.loads(line) for line in text.split("\\n")])
    results.append(json.dumps(list(value) if isinstance(value, tuple) else value))
json.dump(results, sys.stdout)
"""


class BuildError(RuntimeError):
    """A reference that failed while producing expected outputs; the message names the problem."""


def run_solution(code: str, func_name: str | None, inputs: list[str]) -> list[str]:
    """The outputs of `code` on `inputs` (stdout for stdin problems, JSON text for functional ones)."""
    with tempfile.TemporaryDirectory(prefix="trident-data-") as tmp:
        source = Path(tmp) / "solution.py"
        source.write_text(code, encoding="utf-8")
        if func_name is not None:
            driver = Path(tmp) / "driver.py"
            driver.write_text(_FUNCTIONAL_DRIVER, encoding="utf-8")
            outputs: list[str] = json.loads(
                _run([sys.executable, str(driver), str(source), func_name], json.dumps(inputs))
            )
            return outputs
        return [_run([sys.executable, str(source)], text) for text in inputs]


def _run(argv: list[str], stdin: str) -> str:
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    if done.returncode != 0:
        raise BuildError(f"exit {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def generated_input(generator: str, seed: int, size: int) -> str:
    return GENERATORS[generator](random.Random(seed), size)


def build_row(spec: ProblemSpec) -> dict[str, str]:
    generated_inputs = [generated_input(g.generator, g.seed, g.size) for g in spec.generated]
    try:
        generated_outputs = run_solution(spec.reference, spec.func_name, generated_inputs)
    except (BuildError, subprocess.TimeoutExpired) as exc:
        raise BuildError(f"{spec.question_id}: the reference failed on a generated test: {exc}") from exc

    def cases(pairs: Iterable[tuple[str, str]]) -> list[TestCase]:
        return [TestCase(input=i, output=o, testtype=spec.testtype) for i, o in pairs]

    hidden = [(t.input, t.output) for t in spec.hidden]
    problem = Problem(
        question_id=spec.question_id,
        question_title=spec.question_title,
        question_content=question_content(spec),
        platform=spec.platform,
        contest_id=spec.contest_id,
        contest_date=spec.contest_date,
        starter_code=spec.starter_code,
        difficulty=spec.difficulty,
        public_tests=cases((t.input, t.output) for t in spec.public),
        private_tests=cases([*hidden, *zip(generated_inputs, generated_outputs, strict=True)]),
        func_name=spec.func_name,
        metadata={"func_name": spec.func_name} if spec.functional else {},
    )
    return problem_row(problem, spec.private_encoding)


def question_content(spec: ProblemSpec) -> str:
    """The statement; stdin problems get their public tests appended as samples, as on upstream's sites."""
    if spec.functional:
        return spec.content
    samples = "".join(
        f"\nSample Input {k}\n\n{test.input}\nSample Output {k}\n\n{test.output}"
        for k, test in enumerate(spec.public, start=1)
    )
    return spec.content + samples


def build_files(specs: list[ProblemSpec], progress: Progress | None = None) -> dict[str, str]:
    """File name → exact text of each built file."""
    rows: list[dict[str, str]] = []
    task = progress.add_task("building problems", total=len(specs)) if progress else None
    for spec in specs:
        rows.append(build_row(spec))
        if progress is not None and task is not None:
            progress.advance(task)
    references = {spec.question_id: spec.reference for spec in specs}
    variants = {spec.question_id: dict(spec.variants) for spec in specs if spec.variants}
    return {
        JSONL_NAME: "".join(json.dumps(row) + "\n" for row in rows),
        REFERENCES_NAME: json.dumps(references, indent=1, sort_keys=True) + "\n",
        VARIANTS_NAME: json.dumps(variants, indent=1, sort_keys=True) + "\n",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--check", action="store_true", help="compare with the committed files, write nothing"
    )
    parser.add_argument("--problems", type=Path, default=PROBLEMS_DIR)
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    try:
        with Progress(transient=True) as progress:
            files = build_files(load_specs(args.problems), progress)
    except (SpecError, BuildError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        stale = [name for name, text in files.items() if _read(args.out / name) != text]
        for name in stale:
            print(f"{name} is stale: run python -m trident.evals.data.build", file=sys.stderr)
        return 1 if stale else 0
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name} ({len(text.encode()):,} bytes)")
    return 0


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


if __name__ == "__main__":
    raise SystemExit(main())
