"""Seeded input generators for the big hidden tests: `name(rng, size) -> input text`.

Stdin problems get the exact stdin text; functional ones one JSON value per line (the arguments).
Expected outputs are not made here: build.py runs the reference on these inputs.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable

Generator = Callable[[random.Random, int], str]
GENERATORS: dict[str, Generator] = {}


def generator(function: Generator) -> Generator:
    """Register a generator under its function name (the name problem files use)."""
    GENERATORS[function.__name__] = function
    return function


def _ints(values: list[int]) -> str:
    return " ".join(map(str, values))


@generator
def median_prices(rng: random.Random, size: int) -> str:
    return f"{size}\n{_ints([rng.randint(0, 10**9) for _ in range(size)])}\n"


@generator
def star_rows(rng: random.Random, size: int) -> str:
    return f"{size}\n" + "".join(f"{rng.randint(1, 50)}\n" for _ in range(size))


@generator
def digit_string(rng: random.Random, size: int) -> str:
    return json.dumps("".join(rng.choice(string.digits) for _ in range(size)))


@generator
def int_list(rng: random.Random, size: int) -> str:
    return json.dumps([rng.randint(-(10**9), 10**9) for _ in range(size)])


@generator
def caesar(rng: random.Random, size: int) -> str:
    lines = [
        f"{rng.randint(0, 10**9)} {''.join(rng.choices(string.ascii_lowercase, k=rng.randint(1, 20)))}"
        for _ in range(size)
    ]
    return f"{size}\n" + "\n".join(lines) + "\n"
