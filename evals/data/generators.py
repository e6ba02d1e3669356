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


@generator
def roll_call(rng: random.Random, size: int) -> str:
    answered = rng.sample(range(1, size + 1), rng.randint(0, size) if size < 1000 else size * 9 // 10)
    return f"{size} {len(answered)}\n{_ints(answered)}\n"


@generator
def sentence(rng: random.Random, size: int) -> str:
    words = [
        "".join(rng.choices(string.ascii_letters + string.digits, k=rng.randint(1, 8))) for _ in range(size)
    ]
    text = "".join(" " * rng.randint(0, 3) + word for word in words) + " " * rng.randint(0, 3)
    return json.dumps(text)


@generator
def even_pairs(rng: random.Random, size: int) -> str:
    cases = []
    for _ in range(size):
        n = rng.randint(1, 100)
        cases.append(f"{n}\n{_ints([rng.randint(1, 1000) for _ in range(n)])}\n")
    return f"{size}\n" + "".join(cases)


@generator
def exponent(rng: random.Random, size: int) -> str:
    return f"{rng.randint(size // 2, size)}\n"


@generator
def mixed_case(rng: random.Random, size: int) -> str:
    return json.dumps("".join(rng.choices("aBcDE1z", k=size)))


@generator
def clock_times(rng: random.Random, size: int) -> str:
    times = [f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}" for _ in range(size)]
    return f"{size}\n" + "\n".join(times) + "\n"


@generator
def range_queries(rng: random.Random, size: int) -> str:
    values = [rng.randint(-(10**6), 10**6) for _ in range(size)]
    queries = []
    for _ in range(size):
        left, right = sorted((rng.randint(1, size), rng.randint(1, size)))
        queries.append(f"{left} {right}\n")
    return f"{size} {size}\n{_ints(values)}\n" + "".join(queries)


@generator
def bits(rng: random.Random, size: int) -> str:
    bias = rng.choice([0.5, 0.45, 0.55])
    return json.dumps([int(rng.random() < bias) for _ in range(size)])


def _grid(rng: random.Random, rows: int, cols: int, wall: float) -> list[list[str]]:
    return [["#" if rng.random() < wall else "." for _ in range(cols)] for _ in range(rows)]


@generator
def rock_grid(rng: random.Random, size: int) -> str:
    rows, cols = size, rng.randint(max(1, size // 2), size)
    grid = _grid(rng, rows, cols, rng.choice([0.0, 0.05, 0.1]))
    grid[0][0] = grid[-1][-1] = "."
    return f"{rows} {cols}\n" + "".join("".join(row) + "\n" for row in grid)


@generator
def intervals(rng: random.Random, size: int) -> str:
    spread = max(10, size * 20)
    pairs = []
    for _ in range(size):
        start = rng.randint(0, spread)
        pairs.append([start, start + rng.randint(0, 30)])
    return json.dumps(pairs)


@generator
def maze(rng: random.Random, size: int) -> str:
    rows, cols = size, max(2, size - rng.randint(0, size // 3))
    grid = _grid(rng, rows, cols, 0.25)
    grid[0][0], grid[-1][-1] = "S", "G"
    return f"{rows} {cols}\n" + "".join("".join(row) + "\n" for row in grid)


@generator
def partition_trap(rng: random.Random, size: int) -> str:
    """Multiples of 4 and one 2: the sum is even, its half odd, so no split exists."""
    return json.dumps([4 * rng.randint(1, 25) for _ in range(size - 1)] + [2])


@generator
def small_positive_list(rng: random.Random, size: int) -> str:
    return json.dumps([rng.randint(1, 100) for _ in range(size)])


@generator
def coins(rng: random.Random, size: int) -> str:
    cases = []
    for _ in range(5):
        kinds = rng.sample(range(2, max(3, size // 10)), min(rng.randint(1, 20), max(1, size // 10 - 2)))
        cases.append(f"{len(kinds)} {rng.randint(0, size)}\n{_ints(kinds)}\n")
    return "5\n" + "".join(cases)


@generator
def big_pair(rng: random.Random, size: int) -> str:
    def number() -> str:
        digits = rng.randint(max(1, size - size // 10), size)
        return str(rng.randint(1, 9)) + "".join(rng.choices(string.digits, k=digits - 1))

    return f"{number()}\n{number()}\n"


@generator
def word_counts(rng: random.Random, size: int) -> str:
    vocabulary = ["".join(rng.choices("abcde", k=rng.randint(1, 4))) for _ in range(300)]
    words = [rng.choice(vocabulary) for _ in range(size)]
    return f"{json.dumps(words)}\n{rng.randint(1, len(set(words)))}"


@generator
def windows(rng: random.Random, size: int) -> str:
    k = rng.randint(1, size) if size < 100 else rng.randint(size // 3, size // 2)
    return f"{size} {k}\n{_ints([rng.randint(0, 10**6) for _ in range(size)])}\n"


@generator
def sorted_pair(rng: random.Random, size: int) -> str:
    first = rng.randint(0, size)
    a = sorted(rng.randint(-(10**6), 10**6) for _ in range(first))
    b = sorted(rng.randint(-(10**6), 10**6) for _ in range(max(size - first, 0 if first else 1)))
    return f"{json.dumps(a)}\n{json.dumps(b)}"


@generator
def letters(rng: random.Random, size: int) -> str:
    alphabet = string.ascii_lowercase[: rng.randint(1, 10)]
    return json.dumps("".join(rng.choices(alphabet, k=size)))


@generator
def brackets(rng: random.Random, size: int) -> str:
    lines = ["".join(rng.choices("()", k=rng.randint(1, 1000 if size > 10 else 8))) for _ in range(size)]
    return f"{size}\n" + "\n".join(lines) + "\n"


@generator
def matrix(rng: random.Random, size: int) -> str:
    rows, cols = rng.randint(1, size), rng.randint(1, size)
    return json.dumps([[rng.randint(-1000, 1000) for _ in range(cols)] for _ in range(rows)])


@generator
def budget_pairs(rng: random.Random, size: int) -> str:
    cases = []
    left = size
    while left:
        n = left if size > 1000 else rng.randint(1, left)
        left -= n
        values = [rng.randint(-(10**4), 10**4) for _ in range(n)]
        cases.append(f"{n} {rng.randint(-(10**4), 10**4)}\n{_ints(values)}\n")
    return f"{len(cases)}\n" + "".join(cases)


def _tree(rng: random.Random, size: int, reach: int) -> str:
    """A tree rooted at 1 with shuffled labels; each node hangs below one of the `reach` previous ones."""
    order = [1, *rng.sample(range(2, size + 1), size - 1)]
    parent = [0] * (size + 1)
    for k in range(1, size):
        parent[order[k]] = order[rng.randint(max(0, k - reach), k - 1)]
    return f"{size}\n{_ints(parent[2:])}\n"


@generator
def deep_tree(rng: random.Random, size: int) -> str:
    """A path of `size` nodes: recursion depth `size`."""
    return _tree(rng, size, 1)


@generator
def bushy_tree(rng: random.Random, size: int) -> str:
    return _tree(rng, size, size)


@generator
def inversion_array(rng: random.Random, size: int) -> str:
    return f"{size}\n{_ints([rng.randint(1, max(2, size * 2)) for _ in range(size)])}\n"


@generator
def diagonal_grid(rng: random.Random, size: int) -> str:
    """Values growing to the right and down: exponentially many increasing paths."""
    return json.dumps([[r + c for c in range(size)] for r in range(size)])


@generator
def value_grid(rng: random.Random, size: int) -> str:
    rows, cols = rng.randint(1, size), rng.randint(1, size)
    top = rng.choice([3, 100, 10**9])
    return json.dumps([[rng.randint(0, top) for _ in range(cols)] for _ in range(rows)])


def _roads(n: int, edges: list[tuple[int, int, int]]) -> str:
    return f"{n} {len(edges)}\n" + "".join(f"{a} {b} {c}\n" for a, b, c in edges)


@generator
def grid_roads(rng: random.Random, size: int) -> str:
    """A size x size grid of unit roads, oriented at random: C(2 size - 2, size - 1) shortest routes."""
    edges = []
    for r in range(size):
        for c in range(size):
            v = r * size + c + 1
            for u in (v + 1 if c + 1 < size else 0, v + size if r + 1 < size else 0):
                if u:
                    edges.append((v, u, 1) if rng.random() < 0.5 else (u, v, 1))
    return _roads(size * size, edges)


@generator
def random_roads(rng: random.Random, size: int) -> str:
    edges = []
    for _ in range(min(size * 2, 50000) if size > 10 else rng.randint(0, size * 2)):
        a, b = rng.sample(range(1, size + 1), 2)
        edges.append((a, b, rng.randint(1, 3 if size <= 10 else 10)))
    return _roads(size, edges)


@generator
def jobs(rng: random.Random, size: int) -> str:
    starts, ends, gains = [], [], []
    for _ in range(size):
        start = rng.randint(1, size * 10)
        starts.append(start)
        ends.append(start + rng.randint(1, 50))
        gains.append(rng.randint(1, 10**4))
    return f"{json.dumps(starts)}\n{json.dumps(ends)}\n{json.dumps(gains)}"


@generator
def fib_index(rng: random.Random, size: int) -> str:
    return f"{rng.randint(size - 4000, size)}\n"


@generator
def repeated_a(rng: random.Random, size: int) -> str:
    return f"{json.dumps('a' * size)}\n{json.dumps(['a', 'aa', 'aaa'])}"


@generator
def split_text(rng: random.Random, size: int) -> str:
    words = sorted({"".join(rng.choices("ab", k=rng.randint(1, 4))) for _ in range(12)})
    return f"{json.dumps(''.join(rng.choices('ab', k=size)))}\n{json.dumps(words)}"


@generator
def closures(rng: random.Random, size: int) -> str:
    n, m = size, size + size // 2
    roads = [rng.sample(range(1, n + 1), 2) if n > 1 else [1, 1] for _ in range(m)]
    closed = rng.sample(range(1, m + 1), rng.randint(0, m) if size < 100 else m)
    return (
        f"{n} {m}\n"
        + "".join(f"{a} {b}\n" for a, b in roads)
        + f"{len(closed)}\n"
        + "".join(f"{x}\n" for x in closed)
    )


@generator
def masses(rng: random.Random, size: int) -> str:
    """Masses summing to 2^k with k up to 40 (cut points in [1, 2^k)): exact only with integers."""
    k = rng.randint(max(0, min(40, size.bit_length())), 40)
    n = min(size, 2**k)
    cuts = sorted(rng.sample(range(1, 2**k), n - 1)) if n > 1 else []
    weights = [b - a for a, b in zip([0, *cuts], [*cuts, 2**k], strict=True)]
    return f"{n}\n" + "".join(f"{rng.randint(-(10**12), 10**12)} {m}\n" for m in weights)


@generator
def height_grid(rng: random.Random, size: int) -> str:
    rows, cols = size, rng.randint(max(1, size // 2), size)
    top = rng.choice([10, 10**6])
    return json.dumps([[rng.randint(1, top) for _ in range(cols)] for _ in range(rows)])


@generator
def fib_queries(rng: random.Random, size: int) -> str:
    queries = [f"{rng.randint(0, 10**18)} {rng.randint(2, 10**9)}\n" for _ in range(size)]
    return f"{size}\n" + "".join(queries)


@generator
def tour(rng: random.Random, size: int) -> str:
    return json.dumps([[0 if i == j else rng.randint(1, 10**6) for j in range(size)] for i in range(size)])
