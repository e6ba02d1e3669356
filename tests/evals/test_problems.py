"""Loading code_generation_lite files: both test encodings, release tags, date windows, bad input."""

from __future__ import annotations

import base64
import json
import pickle
import zlib
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import pytest

from tests.evals.toy_problems import PROBLEMS
from trident.evals.lcb.problems import (
    Problem,
    ProblemFormatError,
    bundled_data_dir,
    decode_tests,
    load_problems,
    parse_problem,
    problem_row,
    release_numbers,
)
from trident.evals.lcb.problems import (
    TestCase as Case,
)

PUBLIC = [Case(input="1 2\n", output="3\n", testtype="stdin")]
PRIVATE = [Case(input="5 5\n", output="10\n", testtype="stdin")] * 2


def row(
    question_id: str, when: str, *, pickled: bool = False, func_name: str | None = None
) -> dict[str, Any]:
    problem = Problem(
        question_id=question_id,
        question_title=question_id.upper(),
        question_content="Add two numbers.",
        platform="atcoder",
        contest_id="abc1",
        contest_date=datetime.fromisoformat(when),
        starter_code="",
        difficulty="easy",
        public_tests=PUBLIC,
        private_tests=PRIVATE,
        func_name=func_name,
        metadata={"func_name": func_name} if func_name else {},
    )
    return problem_row(problem, "zlib" if pickled else "json")


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# one problem per release window (v1: May 2023 - Mar 2024, v2: Apr - May 2024, ... v6: Feb - Apr 2025)
DATES = {
    "a": "2023-05-01T00:00:00",
    "b": "2024-04-15T00:00:00",
    "c": "2024-07-31T23:00:00",
    "d": "2024-09-01T00:00:00",
    "e": "2025-01-31T00:00:00",
    "f": "2025-04-30T00:00:00",
}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    rows = [row(qid, when, pickled=qid in "bdf") for qid, when in DATES.items()]
    write(tmp_path / "data" / "problems.jsonl", rows[:3])
    write(tmp_path / "data" / "more.jsonl", rows[3:])
    return tmp_path / "data"


def ids(path: Path, **filters: Any) -> tuple[list[str], int]:
    problems, window = load_problems(path, **filters)
    return [p.question_id for p in problems], window.count


def test_both_encodings_decode_to_the_same_tests(data_dir: Path) -> None:
    problems, window = load_problems(data_dir)
    assert window.count == 6 and window.source == str(data_dir) and window.release is None
    for problem in problems:
        assert problem.public_tests == PUBLIC and problem.private_tests == PRIVATE
        assert problem.tests() == PUBLIC + PRIVATE and problem.func_name is None


@pytest.mark.parametrize(
    ("release", "expected"),
    [
        ("release_v1", ["a"]),
        ("release_v3", ["a", "b", "c"]),
        ("release_latest", list("abcdef")),
        ("v2", ["b"]),
        ("v5", ["e"]),
        ("v4_v6", ["d", "e", "f"]),
        ("v1_v2", ["a", "b"]),
    ],
)
def test_release_tags_select_upstream_windows(data_dir: Path, release: str, expected: list[str]) -> None:
    assert ids(data_dir, release=release) == (expected, len(expected))


def test_upstream_file_names_decide_the_release(tmp_path: Path) -> None:
    # upstream's files: test.jsonl is release 1, test2.jsonl release 2, ... whatever the dates say
    write(tmp_path / "test.jsonl", [row("x", "2023-06-01T00:00:00")])
    write(tmp_path / "test2.jsonl", [row("y", "2023-06-02T00:00:00")])
    assert ids(tmp_path, release="v2") == (["y"], 1)
    assert ids(tmp_path, release="release_v2") == (["x", "y"], 2)


def test_dates_are_upstream_datetimes_at_midnight(tmp_path: Path) -> None:
    # upstream: start <= contest_date <= end, each bound datetime.strptime(d, "%Y-%m-%d") (midnight)
    path = write(
        tmp_path / "edge.jsonl",
        [
            row("midnight", "2024-03-31T00:00:00"),
            row("evening", "2024-03-31T19:30:00"),
            row("next", "2024-04-01T00:00:00"),
        ],
    )
    assert ids(path, end_date=date(2024, 3, 31)) == (["midnight"], 1)
    assert ids(path, start_date=date(2024, 3, 31)) == (["midnight", "evening", "next"], 3)
    assert ids(path, start_date=date(2024, 3, 31), end_date=date(2024, 3, 31)) == (["midnight"], 1)
    assert ids(path, start_date=date(2024, 4, 1)) == (["next"], 1)
    assert ids(path, end_date=date(2024, 4, 1)) == (["midnight", "evening", "next"], 3)


def test_only_the_selected_rows_are_decoded(tmp_path: Path) -> None:
    # a code_generation_lite file: pickled private tests in the rows the window keeps, and rows out
    # of it whose tests would fail to decode (or are a pickle that must never be loaded): only the
    # cheap fields of those are read, so selecting around them works and touches nothing
    kept = [row(f"k{i}", f"2025-01-{10 + i:02d}T12:00:00", pickled=True) for i in range(3)]
    undecodable = {**row("bad", "2023-06-01T00:00:00"), "private_test_cases": "%%% not tests"}
    hostile = {**row("evil", "2024-02-01T00:00:00"), "private_test_cases": packed(Boom())}
    broken_public = {**row("nojson", "2024-08-01T00:00:00"), "public_test_cases": "[{"}
    path = write(tmp_path / "lite.jsonl", [undecodable, hostile, *kept, broken_public])
    problems, window = load_problems(path, start_date=date(2025, 1, 1))
    assert [p.question_id for p in problems] == ["k0", "k1", "k2"] and window.count == 3
    assert all(p.private_tests == PRIVATE for p in problems)
    assert ids(path, release="v5") == (["k0", "k1", "k2"], 3)
    assert not Path("/tmp/trident-pickle-pwned").exists()
    # selected, the same rows are errors naming their line
    with pytest.raises(ProblemFormatError, match=r"lite\.jsonl:1: tests are neither JSON"):
        load_problems(path)
    with pytest.raises(ProblemFormatError, match=r"lite\.jsonl:2: .*the pickle asks for"):
        load_problems(path, release="v1", start_date=date(2024, 1, 1))
    with pytest.raises(ProblemFormatError, match=r"lite\.jsonl:6: "):
        load_problems(path, release="v4")
    # the cheap fields are checked on every row: a bad date or a duplicate is an error anywhere
    with pytest.raises(ProblemFormatError, match=r"bad_date\.jsonl:2: contest_date"):
        load_problems(
            write(tmp_path / "bad_date.jsonl", [kept[0], {**kept[1], "contest_date": "soon"}]),
            release="v1",
        )


def test_dates_are_inclusive_days(data_dir: Path) -> None:
    assert ids(data_dir, start_date=date(2024, 7, 31), end_date=date(2024, 9, 1)) == (["c", "d"], 2)
    assert ids(data_dir, release="release_v6", start_date=date(2025, 1, 1)) == (["e", "f"], 2)
    problems, window = load_problems(data_dir, release="v2_v6", end_date=date(2024, 12, 31))
    assert [p.question_id for p in problems] == ["b", "c", "d"]
    assert window.model_dump() == {
        "source": str(data_dir),
        "release": "v2_v6",
        "start_date": None,
        "end_date": date(2024, 12, 31),
        "count": 3,
    }


@pytest.mark.parametrize("tag", ["v7", "v3_v2", "latest", "release_v0", "v1-v2"])
def test_unknown_release_tags_are_refused(tag: str) -> None:
    with pytest.raises(ValueError, match="release"):
        release_numbers(tag)


class Boom:
    def __reduce__(self) -> tuple[Any, tuple[str]]:
        import os

        return (os.system, ("echo pwned > /tmp/trident-pickle-pwned",))


def packed(obj: Any) -> str:
    return base64.b64encode(zlib.compress(pickle.dumps(obj))).decode("ascii")


def test_a_malicious_pickle_is_refused_without_running() -> None:
    with pytest.raises(ProblemFormatError, match=r"refused: the pickle asks for (posix|os)\.system"):
        decode_tests(packed(Boom()))
    assert not Path("/tmp/trident-pickle-pwned").exists()
    with pytest.raises(ProblemFormatError, match="holds a list, not a str"):
        decode_tests(packed([{"input": "1", "output": "1", "testtype": "stdin"}]))


def test_bad_rows_name_the_file_and_line(tmp_path: Path) -> None:
    good = row("a", "2023-06-01T00:00:00")
    path = write(
        tmp_path / "bad.jsonl", [good, {**row("b", "2023-06-01T00:00:00"), "private_test_cases": "%%%"}]
    )
    with pytest.raises(ProblemFormatError, match=r"bad\.jsonl:2: tests are neither JSON nor base64"):
        load_problems(path)
    broken = {k: v for k, v in good.items() if k != "difficulty"}
    with pytest.raises(ProblemFormatError, match=r":1: missing field 'difficulty'"):
        load_problems(write(tmp_path / "missing.jsonl", [broken]))
    with pytest.raises(ProblemFormatError, match="duplicate question_id"):
        load_problems(write(tmp_path / "dup.jsonl", [good, good]))
    with pytest.raises(ProblemFormatError, match="no such file"):
        load_problems(tmp_path / "nowhere")


def test_functional_problems_carry_their_function_name(tmp_path: Path) -> None:
    problems, _ = load_problems(
        write(tmp_path / "f.jsonl", [row("f", "2023-06-01T00:00:00", func_name="solve")])
    )
    assert problems[0].func_name == "solve" and problems[0].metadata == {"func_name": "solve"}


def test_the_bundled_set_loads() -> None:
    problems, window = load_problems(bundled_data_dir())
    assert window.count == len(problems) > 0
    assert all(p.tests() for p in problems)


@pytest.mark.parametrize("encoding", ["json", "zlib"])
def test_a_problem_row_reads_back_as_the_problem(encoding: Literal["json", "zlib"]) -> None:
    for problem in PROBLEMS:
        assert parse_problem(problem_row(problem, encoding)) == problem
