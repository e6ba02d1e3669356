"""The bundled problem set (evals/data): format, coverage, references, variants, reproducible build."""

from __future__ import annotations

import json
import math
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


def reference_outputs(qid: str) -> tuple[list[dict[str, str]], list[str]]:
    from evals.data.build import run_solution

    tests = cases_of(BY_ID[qid])
    return tests, run_solution(REFERENCES[qid], func_name(BY_ID[qid]), [t["input"] for t in tests])


@pytest.mark.parametrize("qid", ["tabc305_b", "t2081a", "t2057e"])
def test_decimal_cases_differ_in_text_and_agree_as_decimals(qid: str) -> None:
    tests, outputs = reference_outputs(qid)
    differing = [
        (t["output"], out)
        for t, out in zip(tests, outputs, strict=True)
        if t["output"].strip() != out.strip()
    ]
    assert differing, f"{qid}: no test where the expected text differs from the reference's"
    assert all(stdout_matches(out, expected) for expected, out in differing)


def test_trailing_space_case_is_real() -> None:
    tests, outputs = reference_outputs("t1842a")
    assert any(line.endswith(" ") for t in tests for line in t["output"].splitlines())
    assert not any(line.endswith(" ") for out in outputs for line in out.splitlines())


BUFFER_READERS = ["tabc303_d", "tabc352_b", "t1846f", "t1895b", "t2004c", "tabc327_f", "tabc371_g"]


@pytest.mark.parametrize("qid", BUFFER_READERS)
def test_buffer_readers_fail_under_a_mocked_text_stdin(qid: str) -> None:
    """What several ports did (stdin replaced by a StringIO) breaks these references; a real pipe does not."""
    import subprocess
    import sys

    mock = "import io, sys\nsys.stdin = io.StringIO(sys.stdin.read())\nexec(sys.argv[1])"
    test = decode_tests(BY_ID[qid]["public_test_cases"])[0]
    done = subprocess.run(
        [sys.executable, "-c", mock, REFERENCES[qid]], input=test["input"], capture_output=True, text=True
    )
    assert "sys.stdin.buffer" in REFERENCES[qid]
    assert done.returncode != 0 and "AttributeError" in done.stderr


def test_big_integer_cases_exceed_the_digit_limit() -> None:
    for qid in ["tabc362_c", "t1934d"]:
        tokens = [token for t in cases_of(BY_ID[qid]) for token in (t["input"] + " " + t["output"]).split()]
        assert max(map(len, tokens)) > 4300, qid
    exponents = [int(t["input"]) for t in cases_of(BY_ID["tabc383_b"])]
    assert max(exponents) * math.log10(2) > 4300  # 2^N is printed to sum its digits


def test_deep_and_long_cases() -> None:
    depth_test = max(cases_of(BY_ID["tabc380_f"]), key=lambda t: len(t["input"]))
    n, *parents = map(int, depth_test["input"].split())
    parent = dict(zip(range(2, n + 1), parents, strict=True))
    depth, v = 0, next(iter(set(range(1, n + 1)) - set(parents)))  # a leaf
    while v != 1:
        v, depth = parent[v], depth + 1
    assert depth >= 99_999
    for qid in ["tabc352_b", "tabc303_d", "tabc371_g"]:
        assert max(t["output"].count("\n") for t in cases_of(BY_ID[qid])) >= 10_000, qid


def test_functional_return_types() -> None:
    expected = {"t2710": list, "t3210": tuple, "t2651": bool, "t3170": str, "t3100": float, "t2800": list}
    for qid, kind in expected.items():
        namespace: dict[str, Any] = {}
        exec(compile(REFERENCES[qid], qid, "exec"), namespace)
        args = [
            json.loads(line) for line in decode_tests(BY_ID[qid]["public_test_cases"])[0]["input"].split("\n")
        ]
        result = getattr(namespace["Solution"](), str(func_name(BY_ID[qid])))(*args)
        assert type(result) is kind, qid


def test_build_command_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from evals.data.build import main

    problems, out = tmp_path / "problems", tmp_path / "out"
    problems.mkdir()
    out.mkdir()
    (problems / "t2651.toml").write_text((PROBLEMS_DIR / "t2651.toml").read_text(encoding="utf-8"))
    assert main(["--check", "--problems", str(problems), "--out", str(out)]) == 1
    assert main(["--problems", str(problems), "--out", str(out)]) == 0
    assert main(["--check", "--problems", str(problems), "--out", str(out)]) == 0
    row = json.loads((out / JSONL_NAME).read_text())
    assert row["question_id"] == "t2651" and json.loads(row["metadata"]) == {"func_name": "isBalanced"}
    (out / VARIANTS_NAME).write_text("{}\n")
    assert main(["--check", "--problems", str(problems), "--out", str(out)]) == 1
    assert "variants.json is stale" in capsys.readouterr().err
