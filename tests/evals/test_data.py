"""The bundled problem set (evals/data): format, coverage, references, variants, reproducible build."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from evals.data.build import JSONL_NAME, REFERENCES_NAME, VARIANTS_NAME, build_files, generated_input
from evals.data.spec import PROBLEMS_DIR, SpecError, load_spec, load_specs
from tests.evals.data_checker import decode_tests, judge, load_rows, stdout_matches

DATA = Path(__file__).resolve().parents[2] / "evals" / "data"
ROWS = load_rows(DATA / JSONL_NAME)
BY_ID = {row["question_id"]: row for row in ROWS}
REFERENCES: dict[str, str] = json.loads((DATA / REFERENCES_NAME).read_text(encoding="utf-8"))
VARIANTS: dict[str, dict[str, str]] = json.loads((DATA / VARIANTS_NAME).read_text(encoding="utf-8"))
SPECS = {spec.question_id: spec for spec in load_specs()}
FIELDS = {
    "question_title",
    "question_content",
    "platform",
    "question_id",
    "contest_id",
    "contest_date",
    "starter_code",
    "difficulty",
    "public_test_cases",
    "private_test_cases",
    "metadata",
}
# The grader's timeout is 6 s; here a reference gets room on a loaded machine, and a slow variant
# only has to pass the small tests within SLOW_TIMEOUT_S and then exceed it on a big one.
REFERENCE_TIMEOUT_S = 20.0
VARIANT_TIMEOUT_S = 10.0
SLOW_TIMEOUT_S = 2.0
VERDICTS = {
    "wrong": "wrong_answer",
    "slow": "time_limit",
    "crash": "runtime_error",
    "syntax": "compile_error",
    "memory": "runtime_error",
}


def cases_of(row: dict[str, Any]) -> list[dict[str, str]]:
    return decode_tests(row["public_test_cases"]) + decode_tests(row["private_test_cases"])


def func_name(row: dict[str, Any]) -> str | None:
    name: str | None = json.loads(row["metadata"]).get("func_name")
    return name


def test_rows_are_upstream_shaped() -> None:
    encodings: Counter[str] = Counter()
    for row in ROWS:
        assert set(row) == FIELDS
        assert all(isinstance(value, str) for value in row.values()), row["question_id"]
        datetime.fromisoformat(row["contest_date"])
        assert row["platform"] in {"atcoder", "codeforces", "leetcode"}
        assert row["difficulty"] in {"easy", "medium", "hard"}
        testtype = "functional" if func_name(row) else "stdin"
        assert all(test["testtype"] == testtype for test in cases_of(row))
        assert all(
            isinstance(test["input"], str) and isinstance(test["output"], str) for test in cases_of(row)
        )
        if testtype == "functional":
            assert f"def {func_name(row)}(" in row["starter_code"] and "class Solution" in row["starter_code"]
        encodings["json" if row["private_test_cases"].startswith("[") else "zlib"] += 1
    assert len(BY_ID) == len(ROWS)
    assert encodings["json"] >= 15 and encodings["zlib"] >= 15, encodings


def test_pickled_tests_admit_only_a_string() -> None:
    import base64
    import pickle
    import zlib

    hostile = base64.b64encode(zlib.compress(pickle.dumps(Path("x")))).decode()
    with pytest.raises(pickle.UnpicklingError):
        decode_tests(hostile)


def test_coverage_of_the_set() -> None:
    assert len(ROWS) >= 40
    difficulty = Counter(row["difficulty"] for row in ROWS)
    assert difficulty["easy"] >= 14 and difficulty["medium"] >= 14 and difficulty["hard"] >= 10, difficulty
    kinds = Counter("functional" if func_name(row) else "stdin" for row in ROWS)
    assert kinds["functional"] >= 12 and kinds["stdin"] >= 20, kinds
    assert {row["platform"] for row in ROWS} == {"atcoder", "codeforces", "leetcode"}
    dates = sorted(datetime.fromisoformat(row["contest_date"]) for row in ROWS)
    assert datetime(2023, 5, 1) <= dates[0] and dates[-1] < datetime(2025, 5, 1)
    # every upstream release window (README.md) holds some problems
    months = Counter(date.strftime("%Y-%m") for date in dates)
    windows = [
        ("2023-05", "2024-03"),
        ("2024-04", "2024-05"),
        ("2024-06", "2024-07"),
        ("2024-08", "2024-09"),
        ("2024-10", "2025-01"),
        ("2025-02", "2025-04"),
    ]
    for first, last in windows:
        assert sum(n for month, n in months.items() if first <= month <= last) >= 3, (first, last)


def test_every_problem_has_public_and_hidden_tests() -> None:
    for row in ROWS:
        assert len(decode_tests(row["public_test_cases"])) >= 1, row["question_id"]
        assert len(decode_tests(row["private_test_cases"])) >= 5, row["question_id"]
    assert set(REFERENCES) == set(BY_ID)


def test_size_stays_reasonable() -> None:
    assert (DATA / JSONL_NAME).stat().st_size < 5_000_000
    for row in ROWS:
        for test in cases_of(row):
            assert len(test["input"]) + len(test["output"]) < 1_200_000, row["question_id"]


@pytest.mark.parametrize("qid", sorted(BY_ID))
def test_reference_passes_every_test(qid: str) -> None:
    row = BY_ID[qid]
    verdict = judge(REFERENCES[qid], cases_of(row), func_name(row), REFERENCE_TIMEOUT_S)
    assert verdict.name == "pass", verdict


VARIANT_CASES = sorted((qid, kind) for qid, kinds in VARIANTS.items() for kind in kinds)


@pytest.mark.parametrize(("qid", "kind"), VARIANT_CASES)
def test_variant_gets_its_verdict(qid: str, kind: str) -> None:
    row = BY_ID[qid]
    timeout = SLOW_TIMEOUT_S if kind == "slow" else VARIANT_TIMEOUT_S
    verdict = judge(VARIANTS[qid][kind], cases_of(row), func_name(row), timeout)
    assert verdict.name == VERDICTS[kind], verdict


def test_variant_counts() -> None:
    kinds = Counter(kind for kinds in VARIANTS.values() for kind in kinds)
    assert kinds["wrong"] >= 15 and kinds["slow"] >= 8 and kinds["crash"] >= 8, kinds
    assert kinds["syntax"] >= 2 and kinds["memory"] >= 2, kinds


BRUTE_CASES = sorted(qid for qid, spec in SPECS.items() if spec.brute is not None)


@pytest.mark.parametrize("qid", BRUTE_CASES)
def test_reference_agrees_with_brute_force(qid: str) -> None:
    """Generated tests take their expected output from the reference: check it independently."""
    spec = SPECS[qid]
    assert spec.brute is not None
    tests = []
    for size in spec.brute.sizes:
        for seed in range(spec.brute.seeds):
            text = generated_input(spec.brute.generator, 1000 + seed, size)
            tests.append({"input": text, "output": ""})
    expected = judge_outputs(spec.brute.code, tests, spec.func_name)
    cases = [{"input": t["input"], "output": out} for t, out in zip(tests, expected, strict=True)]
    verdict = judge(spec.reference, cases, spec.func_name, REFERENCE_TIMEOUT_S)
    assert verdict.name == "pass", verdict


def judge_outputs(code: str, tests: list[dict[str, str]], name: str | None) -> list[str]:
    from evals.data.build import run_solution

    return run_solution(code, name, [t["input"] for t in tests])


def test_build_reproduces_the_committed_files() -> None:
    files = build_files(load_specs())
    assert files[REFERENCES_NAME] == (DATA / REFERENCES_NAME).read_text(encoding="utf-8")
    assert files[VARIANTS_NAME] == (DATA / VARIANTS_NAME).read_text(encoding="utf-8")
    built = [json.loads(line) for line in files[JSONL_NAME].splitlines()]
    assert [row["question_id"] for row in built] == [row["question_id"] for row in ROWS]
    for new, old in zip(built, ROWS, strict=True):
        # zlib's bytes may differ between zlib builds: compare what the encoded field decodes to
        assert decode_tests(new.pop("private_test_cases")) == decode_tests(old["private_test_cases"])
        assert new == {k: v for k, v in old.items() if k != "private_test_cases"}


def test_decimal_and_whitespace_rules_of_the_checker() -> None:
    assert stdout_matches("0.50\n", "0.5") and stdout_matches("3.000", "3")
    assert stdout_matches("* *\n* * *", "* * \n* * * \n")
    assert not stdout_matches("0.5000001", "0.5") and not stdout_matches("1\n2", "1 2")
    assert not stdout_matches("abc", "abd")


def test_a_bad_problem_file_names_itself(tmp_path: Path) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text((PROBLEMS_DIR / "tabc301_a.toml").read_text().replace('"easy"', '"trivial"'))
    with pytest.raises(SpecError, match=r"broken\.toml"):
        load_spec(bad)
