"""The readable source of one bundled problem: `problems/<question_id>.toml`, validated here.

A problem file holds the statement, starter code, the reference solution, hand-written public and
hidden tests, generated hidden tests (a generator from generators.py, a seed and a size; their
expected output comes from running the reference), an optional independent brute force that the
tests compare with the reference on small generated inputs, and deliberately failing variants.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trident.evals.data.generators import GENERATORS

Platform = Literal["atcoder", "codeforces", "leetcode"]
Difficulty = Literal["easy", "medium", "hard"]
VariantKind = Literal["wrong", "slow", "crash", "syntax", "memory"]
VARIANT_KINDS: tuple[VariantKind, ...] = ("wrong", "slow", "crash", "syntax", "memory")

PROBLEMS_DIR = Path(__file__).resolve().parent / "problems"


class HandTest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: str
    output: str


class GeneratedTest(BaseModel):
    """A hidden test whose input is `generators.GENERATORS[generator](Random(seed), size)`."""

    model_config = ConfigDict(extra="forbid")
    generator: str
    seed: int
    size: int


class BruteCheck(BaseModel):
    """An independent slow solution; tests run it and the reference on small generated inputs."""

    model_config = ConfigDict(extra="forbid")
    code: str
    generator: str
    sizes: list[int] = Field(min_length=1)
    seeds: int = 3


class ProblemSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question_id: str = Field(pattern=r"^[a-z0-9_]+$")
    question_title: str
    platform: Platform
    contest_id: str
    contest_date: datetime
    difficulty: Difficulty
    private_encoding: Literal["json", "zlib"]
    func_name: str | None = None
    starter_code: str = ""
    content: str
    reference: str
    public: list[HandTest] = Field(min_length=1)
    hidden: list[HandTest] = []
    generated: list[GeneratedTest] = []
    brute: BruteCheck | None = None
    variants: dict[VariantKind, str] = {}

    @property
    def functional(self) -> bool:
        return self.func_name is not None

    @property
    def testtype(self) -> Literal["stdin", "functional"]:
        return "functional" if self.functional else "stdin"


class SpecError(ValueError):
    """A problem file that cannot be read or does not validate; the message names the file."""


def load_spec(path: Path) -> ProblemSpec:
    try:
        spec = ProblemSpec.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise SpecError(f"{path.name}: {exc}") from exc
    if spec.question_id != path.stem:
        raise SpecError(f"{path.name}: question_id {spec.question_id!r} differs from the file name")
    if spec.functional != bool(spec.starter_code):
        raise SpecError(f"{path.name}: functional problems (func_name) need starter_code, stdin ones none")
    used = [test.generator for test in spec.generated] + ([spec.brute.generator] if spec.brute else [])
    unknown = sorted(set(used) - set(GENERATORS))
    if unknown:
        raise SpecError(f"{path.name}: unknown generator(s) {', '.join(unknown)} (see generators.py)")
    return spec


def load_specs(directory: Path = PROBLEMS_DIR) -> list[ProblemSpec]:
    """Every problem, in release order (contest date, then id)."""
    specs = [load_spec(path) for path in sorted(directory.glob("*.toml"))]
    return sorted(specs, key=lambda spec: (spec.contest_date, spec.question_id))
