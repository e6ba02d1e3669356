"""The bundled problem set (evals/data): format, coverage, references, variants, reproducible build."""

from __future__ import annotations

import json
import math
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.evals.data_checker import Verdict, decode_tests, judge, load_rows, stdout_matches
from trident.evals.data.build import JSONL_NAME, REFERENCES_NAME, VARIANTS_NAME, build_files, generated_input
from trident.evals.data.build import main as build_main
from trident.evals.data.spec import PROBLEMS_DIR, SpecError, load_spec, load_specs

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
SLOW_TIMEOUT_S = 5.0
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
        else:  # the samples are part of the statement, as on the contest sites
            assert all(t["input"] in row["question_content"] for t in decode_tests(row["public_test_cases"]))
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
    # every upstream release window (docs/grading.md) holds some problems
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


VARIANT_CASES = sorted((qid, kind) for qid, kinds in VARIANTS.items() for kind in kinds)


def judge_solution(qid: str, kind: str) -> Verdict:
    """`kind` is "reference" or a variant kind; slow variants get the short timeout."""
    row = BY_ID[qid]
    if kind == "reference":
        return judge(REFERENCES[qid], cases_of(row), func_name(row), REFERENCE_TIMEOUT_S)
    timeout = SLOW_TIMEOUT_S if kind == "slow" else VARIANT_TIMEOUT_S
    return judge(VARIANTS[qid][kind], cases_of(row), func_name(row), timeout)


@pytest.fixture(scope="session")
def verdicts() -> dict[tuple[str, str], Verdict]:
    """Every reference and variant judged once, a few subprocesses at a time (they mostly wait)."""
    jobs = [(qid, "reference") for qid in sorted(BY_ID)] + VARIANT_CASES
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {job: pool.submit(judge_solution, *job) for job in jobs}
    return {job: future.result() for job, future in futures.items()}


@pytest.mark.parametrize("qid", sorted(BY_ID))
@pytest.mark.slow
def test_reference_passes_every_test(qid: str, verdicts: dict[tuple[str, str], Verdict]) -> None:
    verdict = verdicts[(qid, "reference")]
    assert verdict.name == "pass", verdict


@pytest.mark.parametrize(("qid", "kind"), VARIANT_CASES)
@pytest.mark.slow
def test_variant_gets_its_verdict(qid: str, kind: str, verdicts: dict[tuple[str, str], Verdict]) -> None:
    verdict = verdicts[(qid, kind)]
    assert verdict.name == VERDICTS[kind], verdict
    if kind == "slow":  # too slow on a big test, not on the small public ones
        assert verdict.test_index >= len(decode_tests(BY_ID[qid]["public_test_cases"])), verdict


def test_variant_counts() -> None:
    kinds = Counter(kind for kinds in VARIANTS.values() for kind in kinds)
    assert kinds["wrong"] >= 15 and kinds["slow"] >= 8 and kinds["crash"] >= 8, kinds
    assert kinds["syntax"] >= 2 and kinds["memory"] >= 2, kinds


BRUTE_CASES = sorted(qid for qid, spec in SPECS.items() if spec.brute is not None)


def brute_verdict(qid: str) -> Verdict:
    """The reference judged on small generated inputs whose expected outputs are the brute force's."""
    from trident.evals.data.build import run_solution

    spec = SPECS[qid]
    assert spec.brute is not None
    inputs = [
        generated_input(spec.brute.generator, 1000 + seed, size)
        for size in spec.brute.sizes
        for seed in range(spec.brute.seeds)
    ]
    expected = run_solution(spec.brute.code, spec.func_name, inputs)
    cases = [{"input": text, "output": out} for text, out in zip(inputs, expected, strict=True)]
    return judge(spec.reference, cases, spec.func_name, REFERENCE_TIMEOUT_S)


@pytest.fixture(scope="session")
def brute_verdicts() -> dict[str, Verdict]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {qid: pool.submit(brute_verdict, qid) for qid in BRUTE_CASES}
    return {qid: future.result() for qid, future in futures.items()}


@pytest.mark.parametrize("qid", BRUTE_CASES)
@pytest.mark.slow
def test_reference_agrees_with_brute_force(qid: str, brute_verdicts: dict[str, Verdict]) -> None:
    """Generated tests take their expected output from the reference: check it independently."""
    assert brute_verdicts[qid].name == "pass", brute_verdicts[qid]


@pytest.mark.slow
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


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('"easy"', '"trivial"', "difficulty"),
        ('generator = "median_prices"', 'generator = "median_price"', "unknown generator"),
        ('question_id = "tabc305_b"', 'question_id = "tabc305_c"', "differs from the file name"),
    ],
)
def test_a_bad_problem_file_names_itself(tmp_path: Path, old: str, new: str, message: str) -> None:
    bad = tmp_path / "tabc305_b.toml"
    bad.write_text((PROBLEMS_DIR / "tabc305_b.toml").read_text(encoding="utf-8").replace(old, new))
    with pytest.raises(SpecError, match=rf"(?s)tabc305_b\.toml: .*{message}"):
        load_spec(bad)
    assert build_main(["--check", "--problems", str(tmp_path), "--out", str(tmp_path)]) == 2


def test_a_failing_reference_stops_the_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = (PROBLEMS_DIR / "t2651.toml").read_text(encoding="utf-8")
    (tmp_path / "t2651.toml").write_text(source.replace("digits = [int(ch)", "digits = [int(ch) // 0"))
    assert build_main(["--problems", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "t2651: the reference failed" in capsys.readouterr().err
    assert not (tmp_path / JSONL_NAME).exists()


def reference_outputs(qid: str) -> tuple[list[dict[str, str]], list[str]]:
    from trident.evals.data.build import run_solution

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
    """Beyond Python's default 4300 digits and beyond the 50000 upstream's evaluator sets for everyone."""
    for qid in ["tabc362_c", "t1934d"]:
        tokens = [token for t in cases_of(BY_ID[qid]) for token in (t["input"] + " " + t["output"]).split()]
        assert max(map(len, tokens)) > 50_000, qid
    exponents = [int(t["input"]) for t in cases_of(BY_ID["tabc383_b"])]
    assert max(exponents) * math.log10(2) > 50_000  # 2^N is turned into a string to sum its digits


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
    main = build_main
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
