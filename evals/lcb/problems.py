"""LiveCodeBench `code_generation_lite` problems: loading JSONL files, decoding tests, release windows.

Private tests come in two encodings, as upstream ships them: plain JSON, or
base64 → zlib → pickle → JSON string. The pickle is read by an unpickler that admits nothing but a
`str` (no globals, no other objects), so a crafted file cannot run code.

Release tags follow upstream's: `release_vN` (and `release_latest`) are cumulative (everything up to
release N); `vN` is what release N added; `vA_vB` is what releases A through B added. Where the
directory holds upstream's own files (`test.jsonl`, `test2.jsonl`, … one per release) membership is
by file, exactly as upstream; otherwise by contest date, with the month windows upstream documents.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import re
import zlib
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

# Release N holds problems with contest dates before RELEASE_ENDS[N-1] (upstream README: v1 May 2023
# – Mar 2024, 400 problems; v2 – May 2024, 511; v3 – Jul 2024, 612; v4 – Sep 2024, 713;
# v5 – Jan 2025, 880; v6 – Apr 2025, 1055).
FIRST_DATE = date(2023, 5, 1)
RELEASE_ENDS = (
    date(2024, 4, 1),
    date(2024, 6, 1),
    date(2024, 8, 1),
    date(2024, 10, 1),
    date(2025, 2, 1),
    date(2025, 5, 1),
)
LATEST = len(RELEASE_ENDS)
UPSTREAM_FILES = {("test.jsonl" if n == 1 else f"test{n}.jsonl"): n for n in range(1, LATEST + 1)}


class ProblemFormatError(ValueError):
    """A problem file or row that cannot be read; the message names the file and line."""


class TestCase(BaseModel):
    input: str
    output: str
    testtype: Literal["stdin", "functional"]


class Problem(BaseModel):
    question_id: str
    question_title: str
    question_content: str
    platform: str
    contest_id: str
    contest_date: datetime
    starter_code: str
    difficulty: str
    public_tests: list[TestCase]
    private_tests: list[TestCase]
    func_name: str | None
    metadata: dict[str, Any]
    release: int | None = None  # the release that added it (set by `load_problems`; None: not known)

    def tests(self, which: Literal["public", "private", "all"] = "all") -> list[TestCase]:
        """Upstream grades public then private tests, in that order."""
        if which == "public":
            return list(self.public_tests)
        if which == "private":
            return list(self.private_tests)
        return self.public_tests + self.private_tests


class Window(BaseModel):
    source: str
    release: str | None
    start_date: date | None
    end_date: date | None
    count: int


def bundled_data_dir() -> Path:
    """The problem set shipped with trident (`evals/data/`)."""
    return Path(__file__).resolve().parent.parent / "data"


class _OnlyStr(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refused: the pickle asks for {module}.{name}; only a str is allowed")


def decode_tests(raw: str) -> list[TestCase]:
    """Test cases from either encoding (plain JSON, or base64 → zlib → pickle(str) → JSON)."""
    try:
        data = json.loads(raw)
    except ValueError:
        try:
            packed = zlib.decompress(base64.b64decode(raw.encode("ascii"), validate=True))
        except (ValueError, zlib.error) as exc:
            raise ProblemFormatError(f"tests are neither JSON nor base64/zlib data: {exc}") from None
        try:
            text = _OnlyStr(io.BytesIO(packed)).load()
        except Exception as exc:  # any unpickling failure is bad input, never a crash
            raise ProblemFormatError(f"unsafe or broken pickle in tests: {exc}") from None
        if not isinstance(text, str):
            kind = type(text).__name__
            raise ProblemFormatError(f"refused: the pickle holds a {kind}, not a str") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ProblemFormatError(f"the unpickled tests are not JSON: {exc}") from None
    if not isinstance(data, list):
        raise ProblemFormatError("tests must be a JSON list")
    try:
        return [TestCase.model_validate(item) for item in data]
    except ValidationError as exc:
        raise ProblemFormatError(f"bad test case: {exc}") from None


def encode_tests_json(tests: list[TestCase]) -> str:
    """The plain encoding: a JSON list of test cases."""
    return json.dumps([t.model_dump() for t in tests])


def encode_tests_pickled(tests: list[TestCase]) -> str:
    """The upstream compressed encoding. Pickle protocol 4 (not the interpreter's default), so the
    bytes of the bundled set do not depend on the Python that builds it."""
    return base64.b64encode(zlib.compress(pickle.dumps(encode_tests_json(tests), protocol=4))).decode("ascii")


def problem_fields(problem: Problem) -> dict[str, str]:
    """What describes a problem in an upstream row, in upstream's order (also the head of upstream's
    `*_eval_all.json` records)."""
    return {
        "question_title": problem.question_title,
        "question_content": problem.question_content,
        "platform": problem.platform,
        "question_id": problem.question_id,
        "contest_id": problem.contest_id,
        "contest_date": problem.contest_date.isoformat(),
        "starter_code": problem.starter_code,
        "difficulty": problem.difficulty,
    }


def problem_row(problem: Problem, private_encoding: Literal["json", "zlib"] = "json") -> dict[str, str]:
    """The upstream JSONL row of a problem (every field a string): what `parse_problem` reads back."""
    encode = encode_tests_pickled if private_encoding == "zlib" else encode_tests_json
    return {
        **problem_fields(problem),
        "public_test_cases": encode_tests_json(problem.public_tests),
        "private_test_cases": encode(problem.private_tests),
        "metadata": json.dumps(problem.metadata),
    }


def parse_problem(row: dict[str, Any]) -> Problem:
    """One upstream row (every field a string) → a Problem."""
    try:
        metadata = json.loads(row.get("metadata") or "{}")
        if not isinstance(metadata, dict):
            raise ProblemFormatError("metadata must be a JSON object")
        return Problem(
            question_id=row["question_id"],
            question_title=row["question_title"],
            question_content=row["question_content"],
            platform=row["platform"],
            contest_id=row["contest_id"],
            contest_date=datetime.fromisoformat(row["contest_date"]),
            starter_code=row.get("starter_code", ""),
            difficulty=row["difficulty"],
            public_tests=decode_tests(row["public_test_cases"]),
            private_tests=decode_tests(row["private_test_cases"]),
            func_name=metadata.get("func_name"),
            metadata=metadata,
        )
    except KeyError as exc:
        raise ProblemFormatError(f"missing field {exc}") from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ProblemFormatError):
            raise
        raise ProblemFormatError(str(exc)) from None


def release_numbers(release: str) -> tuple[int, int]:
    """The releases whose additions a tag selects: release_vN → (1, N); vN → (N, N); vA_vB → (A, B)."""
    tag = release.strip().lower()
    if tag == "release_latest":
        return 1, LATEST
    if match := re.fullmatch(r"release_v(\d+)", tag):
        first, last = 1, int(match[1])
    elif match := re.fullmatch(r"v(\d+)", tag):
        first = last = int(match[1])
    elif match := re.fullmatch(r"v(\d+)_v(\d+)", tag):
        first, last = int(match[1]), int(match[2])
    else:
        raise ValueError(f"unknown release {release!r} (use release_vN, release_latest, vN or vA_vB)")
    if not 1 <= first <= last <= LATEST:
        raise ValueError(f"release {release!r} out of range (releases are v1..v{LATEST}, A <= B)")
    return first, last


def release_of_date(when: date) -> int | None:
    """The release that added a problem of this contest date (None: outside every release)."""
    if when < FIRST_DATE:
        return None
    for number, end in enumerate(RELEASE_ENDS, start=1):
        if when < end:
            return number
    return None


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ProblemFormatError(f"{path}: no such file or directory")
    files = sorted(path.glob("*.jsonl"))
    if not files:
        raise ProblemFormatError(f"{path}: no *.jsonl problem files")
    return files


def contest_datetime(row: dict[str, Any]) -> datetime:
    """A row's `contest_date` as upstream reads it (`datetime.fromisoformat`)."""
    try:
        return datetime.fromisoformat(row["contest_date"])
    except KeyError as exc:
        raise ProblemFormatError(f"missing field {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ProblemFormatError(f"contest_date: {exc}") from None


def in_dates(when: datetime, start_date: date | None, end_date: date | None) -> bool:
    """Upstream's date filter (`load_code_generation_dataset` and `compute_scores`): each bound is
    `datetime.strptime(d, "%Y-%m-%d")`, midnight of that day, compared with the contest's datetime.
    So `--start-date D` keeps every contest of day D, and `--end-date D` keeps a contest at D's
    midnight but not one later that day (2024-03-31T19:30 is after `--end-date 2024-03-31`)."""
    if start_date is not None and when < _midnight(start_date, when):
        return False
    return not (end_date is not None and when > _midnight(end_date, when))


def _midnight(day: date, like: datetime) -> datetime:
    # a contest date with a zone (upstream's are naive) is compared at midnight in its own zone
    return datetime.combine(day, time(), tzinfo=like.tzinfo)


def _rows(file: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) of every non-blank line; the row is JSON-parsed, nothing decoded."""
    with file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ProblemFormatError(f"{file}:{number}: {exc}") from None
            if not isinstance(row, dict):
                raise ProblemFormatError(f"{file}:{number}: a row must be a JSON object")
            yield number, row


def load_problems(
    path: Path,
    release: str | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
) -> tuple[list[Problem], Window]:
    """Problems from a JSONL file or a directory of them, filtered by release and dates (as upstream).

    A row is selected from its cheap fields (`question_id`, `contest_date`, the file it is in)
    before anything else is read: only the selected rows have their tests decoded (upstream's
    private tests are base64/zlib/pickle, hundreds of MiB for a full release), so a narrow window
    over a big release costs little, and a broken row outside the window is not an error."""
    path = Path(path)
    span = release_numbers(release) if release else None
    problems: list[Problem] = []
    seen: set[str] = set()
    for file in _files(path):
        by_file = UPSTREAM_FILES.get(file.name)
        for number, row in _rows(file):
            try:
                question_id = row.get("question_id")
                if not isinstance(question_id, str):
                    raise ProblemFormatError("missing field 'question_id'")
                if question_id in seen:
                    raise ProblemFormatError(f"duplicate question_id {question_id!r}")
                seen.add(question_id)
                when = contest_datetime(row)
                release_number = by_file if by_file is not None else release_of_date(when.date())
                if span is not None and (release_number is None or not span[0] <= release_number <= span[1]):
                    continue
                if not in_dates(when, start_date, end_date):
                    continue
                problems.append(parse_problem(row).model_copy(update={"release": release_number}))
            except ProblemFormatError as exc:
                raise ProblemFormatError(f"{file}:{number}: {exc}") from None
    problems.sort(key=lambda p: (p.contest_date, p.question_id))
    window = Window(
        source=str(path), release=release, start_date=start_date, end_date=end_date, count=len(problems)
    )
    return problems, window


def question_ids(path: Path) -> set[str]:
    """Every `question_id` in the data, selected or not (no test is decoded)."""
    return {str(row.get("question_id")) for file in _files(Path(path)) for _, row in _rows(file)}
