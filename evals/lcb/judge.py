"""Verdicts, computed on the host from what the sandbox relayed: a sample's records, parsed strictly.

The sandbox never holds an expected output. The in-sandbox supervisor (`driver.py`) relays, per
test, what the solution's process did: its stdout (stdin problems), the lines its wrapper wrote
(functional problems: each return value in a tagged JSON encoding of builtin types), how it ended,
and whether it overran its time. Everything in those records could have been written by the
solution, so each is parsed as untrusted data (a size cap, a depth cap, known shapes only; anything
else is the sample's own malformed answer) and compared here by upstream's rules
(`driver.compare_stdout`, `==` on rebuilt builtin objects). A forged record can only ever be the
sample's own, wrong or right, answer.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from trident.evals.lcb.driver import (
    GLOBAL,
    PASS,
    RUNTIME,
    TIME,
    WRONG,
    compare_stdout,
    truncate,
)

MAX_DEPTH = 200  # a decoded return value nested deeper is malformed (expected values are shallow)
STARVED = 0.25  # a time limit is suspect when the process waited this share of the timeout for a CPU


class Malformed(ValueError):
    """A record or value that is not what the sample's wrapper writes."""


@dataclass
class Judged:
    name: str
    results: list[bool | int]
    metadata: dict[str, Any]
    # why this verdict may not be the sample's own doing (another sample starved it of CPU or memory):
    # graded alone again before it counts
    suspect: str | None = None
    incomplete: str | None = None  # the records stop short: the supervisor died (regrade alone)


@dataclass
class Records:
    """One sample's records, as the driver relayed them."""

    items: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False


def parse_records(text: str) -> Records:
    """The supervisor's JSON lines (its channel is not the solution's, but its content comes from it)."""
    records = Records()
    for line in text.splitlines():
        try:
            item = json.loads(line, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            continue
        if not isinstance(item, dict):
            continue
        if item.get("done") is True:
            records.done = True
            break
        records.items.append(item)
    return records


def _no_constant(name: str) -> Any:
    raise Malformed(f"{name} is not JSON")


# -- details as upstream writes them -----------------------------------------------------------
def finished(results: list[bool | int], name: str, metadata: dict[str, Any], **extra: Any) -> Judged:
    return Judged(name, results, metadata, **extra)


def testing_error(message: str) -> dict[str, Any]:
    return {"error_code": -4, "error_message": f"Error during testing: {message}"}


def time_limit(details: dict[str, Any]) -> dict[str, Any]:
    return {
        "error": "TimeoutException()",
        "error_code": -3,
        "error_message": "Time Limit Exceeded",
        **details,
    }


def runtime_error(error: str, details: dict[str, Any]) -> dict[str, Any]:
    return {"error": error, "error_code": -4, "error_message": "Runtime Error", **details}


def wrong_answer(output: str, details: dict[str, Any], message: str = "Wrong Answer") -> dict[str, Any]:
    return {"output": output, **details, "error_code": -2, "error_message": message}


def died(signal: Any) -> str:
    if signal == "SIGKILL":
        return "MemoryError() (killed by SIGKILL: out of memory)"
    return f"the solution process died ({signal or 'exited without finishing'})"


def crashed(tests: int) -> Judged:
    """The process ended without a result (exit() in a functional solution): upstream's global path."""
    meta = {"error_code": -1, "error_message": "the solution process ended without a result"}
    return finished([GLOBAL] * tests, "crash", meta)


def starved(record: dict[str, Any], timeout: float) -> str | None:
    wait = record.get("wait")
    if isinstance(wait, int | float) and wait > STARVED * timeout:
        return f"time limit while waiting {wait:.1f} s for a CPU"
    return None


def _report(text: Any) -> dict[str, Any]:
    if not isinstance(text, str):
        raise Malformed("no report")
    report = json.loads(text, parse_constant=_no_constant)
    if not isinstance(report, dict) or report.get("status") not in ("ok", "error", "compile_error"):
        raise Malformed("not a report")
    if report["status"] != "ok" and not isinstance(report.get("error"), str):
        raise Malformed("a report without its error")
    return report


def _stdout(record: dict[str, Any], limit: int) -> str:
    data = zlib.decompressobj()
    raw = data.decompress(base64.b64decode(str(record.get("out", "")), validate=True), limit + 1)
    if len(raw) > limit:
        raise Malformed("more output than the driver keeps")
    return raw.decode("utf-8", "replace")


# -- stdin problems ----------------------------------------------------------------------------
def judge_stdin(
    records: Records,
    inputs: list[str],
    outputs: list[str],
    timeout: float,
    output_limit: int,
    total: int | None = None,
    start: int = 0,
) -> Judged:
    """`inputs`/`outputs`: the tests this phase ran (the sample's tests from `start`, all of
    them passed before); record `test` numbers count from the phase's first test."""
    by_test = {item.get("test"): item for item in records.items if isinstance(item.get("test"), int)}
    results: list[bool | int] = [PASS] * start
    for index, expected in enumerate(outputs):
        details = {"inputs": truncate(inputs[index]), "expected": truncate(expected)}
        record = by_test.get(index)
        if record is None:
            why = "the sample's supervisor stopped early" if records.done else "no record (supervisor gone)"
            return finished([*results, RUNTIME], "runtime_error", runtime_error(why, details), incomplete=why)
        if record.get("end") == "timeout":
            return finished(
                [*results, TIME], "time_limit", time_limit(details), suspect=starved(record, timeout)
            )
        try:
            report = _report(record.get("report")) if record.get("end") == "report" else None
        except (Malformed, ValueError, RecursionError):
            bad = "the solution's report was malformed"
            return finished([*results, RUNTIME], "runtime_error", runtime_error(bad, details))
        if report is None:
            signal = record.get("signal")
            judged = finished([*results, RUNTIME], "runtime_error", runtime_error(died(signal), details))
            judged.suspect = "killed by SIGKILL" if signal == "SIGKILL" else None
            return judged
        if report["status"] == "compile_error":
            name = "runtime_error" if report.get("kind") == "memory" else "compile_error"
            return finished([RUNTIME], name, testing_error(report["error"]))
        if report["status"] == "error":
            return finished([*results, RUNTIME], "runtime_error", runtime_error(report["error"], details))
        try:
            output = _stdout(record, output_limit)
        except (Malformed, ValueError, zlib.error):
            return finished([*results, WRONG], "wrong_answer", wrong_answer("", details, "malformed output"))
        overflow = record.get("overflow")
        message: str | None
        if isinstance(overflow, int) and overflow > 0:
            message = f"Wrong answer: output over {output_limit} bytes ({overflow} more cut)"
        else:
            message = compare_stdout(output, expected)
        if message is not None:
            return finished(
                [*results, WRONG], "wrong_answer", wrong_answer(truncate(output), details, message)
            )
        results.append(PASS)
    return finished(results, "pass", {})


# -- functional problems -----------------------------------------------------------------------
class Opaque:
    """A returned object of no builtin type: equal to nothing (its own __eq__ never runs here)."""

    def __init__(self, kind: str, shown: str) -> None:
        self.kind, self.shown = kind, shown

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = object.__hash__

    def __str__(self) -> str:
        return self.shown

    __repr__ = __str__


def decode(node: Any, depth: int = 0) -> Any:
    """A tagged value (`driver.encode`) back into builtin objects; Malformed for anything else."""
    if depth > MAX_DEPTH:
        raise Malformed("nested too deep")
    if node is None or type(node) in (bool, str, int, float):
        return node
    if type(node) is list:
        return [decode(item, depth + 1) for item in node]
    if type(node) is dict and set(node) == {"other", "str"}:
        return Opaque(str(node["other"]), str(node["str"]))
    if type(node) is not dict or len(node) != 1:
        raise Malformed("unknown value")
    ((tag, body),) = node.items()
    try:
        if tag == "int" and isinstance(body, str):
            return int(body, 16)
        if tag == "float" and body in ("nan", "inf", "-inf"):
            return float(body)
        if tag == "complex" and isinstance(body, list) and len(body) == 2:
            return complex(float(body[0]), float(body[1]))
        if isinstance(body, list):
            items = [decode(item, depth + 1) for item in body] if tag != "dict" else []
            if tag == "tuple":
                return tuple(items)
            if tag == "set":
                return set(items)
            if tag == "frozenset":
                return frozenset(items)
            if tag == "dict":
                pairs = [pair for pair in body if isinstance(pair, list) and len(pair) == 2]
                if len(pairs) != len(body):
                    raise Malformed("a dict entry is not a pair")
                return {decode(k, depth + 1): decode(v, depth + 1) for k, v in pairs}
    except TypeError as exc:  # an unhashable key or set member
        raise Malformed(str(exc)) from None
    raise Malformed(f"unknown tag {tag!r}")


def _line(item: dict[str, Any]) -> dict[str, Any]:
    if "overflow" in item:
        return {"status": "overflow", "size": item["overflow"]}
    line = item.get("line")
    if not isinstance(line, str):
        raise Malformed("no line")
    message = json.loads(line, parse_constant=_no_constant)
    if not isinstance(message, dict) or not isinstance(message.get("status"), str):
        raise Malformed("not a status line")
    return message


def _value(message: dict[str, Any]) -> Any:
    return decode(message.get("value"))


def judge_functional(
    records: Records,
    inputs: list[str],
    outputs: list[str],
    timeout: float,
    output_limit: int,
    total: int | None = None,
    start: int = 0,
) -> Judged:
    """`inputs`/`outputs`: the sample's first tests, all run again from the first in one process
    (upstream's one instance for all tests), `total` of them in the sample (`start` is unused)."""
    lines = [item for item in records.items if "line" in item or "overflow" in item]
    ends = [item for item in records.items if "end" in item]
    end = ends[-1] if ends else None
    tests = len(outputs) if total is None else total

    def stopped(position: int, results: list[bool | int], details: dict[str, Any] | None) -> Judged:
        """No line at `position` (0: the load): how the process ended decides."""
        if end is None:
            why = "no end record (the sample's supervisor was killed)"
            return finished(
                [*results, RUNTIME], "runtime_error", runtime_error(why, details or {}), incomplete=why
            )
        if end.get("end") == "timeout":
            if details is None:  # upstream: compile_code's alarm inside run_test's try: -4
                return finished(
                    [RUNTIME], "load_time_limit", testing_error(""), suspect=starved(end, timeout)
                )
            return finished(
                [*results, TIME], "time_limit", time_limit(details), suspect=starved(end, timeout)
            )
        if end.get("signal"):
            suspect = "killed by SIGKILL" if end.get("signal") == "SIGKILL" else None
            if details is None:
                return finished(
                    [RUNTIME], "runtime_error", testing_error(died(end["signal"])), suspect=suspect
                )
            return finished(
                [*results, RUNTIME],
                "runtime_error",
                runtime_error(died(end["signal"]), details),
                suspect=suspect,
            )
        return crashed(tests)

    if not lines:
        return stopped(0, [], None)
    try:
        load = _line(lines[0])
    except (Malformed, ValueError, RecursionError):
        return finished([RUNTIME], "runtime_error", testing_error("the solution's load report was malformed"))
    if load["status"] == "load_error":
        name = "runtime_error" if load.get("kind") == "memory" else "compile_error"
        return finished([RUNTIME], name, testing_error(str(load.get("error", ""))))
    if load["status"] != "loaded":
        return finished([RUNTIME], "runtime_error", testing_error("the solution's load report was malformed"))
    results: list[bool | int] = []
    for index, (args, expected_text) in enumerate(zip(inputs, outputs, strict=True)):
        details = {"inputs": truncate(_args_value(args)), "expected": truncate(_json_value(expected_text))}
        if index + 1 >= len(lines):
            return stopped(index + 1, results, details)
        try:
            message = _line(lines[index + 1])
            if message["status"] == "overflow":
                note = f"Wrong answer: return value over {output_limit} bytes"
                return finished([*results, WRONG], "wrong_answer", wrong_answer("", details, note))
            if message["status"] == "error":
                error = message.get("error")
                if not isinstance(error, str):
                    raise Malformed("an error without its text")
                return finished([*results, RUNTIME], "runtime_error", runtime_error(error, details))
            if message["status"] != "returned" or "value" not in message:
                raise Malformed("unknown status")
            prediction = _value(message)
        except (Malformed, ValueError, RecursionError, OverflowError):
            note = "Wrong answer: the return value was malformed"
            return finished([*results, WRONG], "wrong_answer", wrong_answer("", details, note))
        expected = json.loads(expected_text)
        try:
            ok = bool(prediction == expected)
            shown = "" if ok else truncate(prediction)
        except RecursionError:
            ok, shown = False, "(too deep to compare)"
        if not ok:
            return finished([*results, WRONG], "wrong_answer", wrong_answer(shown, details))
        results.append(PASS)
    return finished(results, "pass", {})


def _args_value(text: str) -> Any:
    try:
        return [json.loads(line) for line in text.split("\n")]
    except ValueError:
        return text


def _json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def judge(
    answer: dict[str, Any],
    *,
    functional: bool,
    inputs: list[str],
    outputs: list[str],
    timeout: float,
    output_limit: int,
    backstop: float,
    total: int | None = None,
    start: int = 0,
) -> Judged:
    """A sample's verdict from the driver's answer for it (the driver's own fields are trusted: it is
    out of the sample's reach; the records inside are not).

    Graded in phases (`grader.phase_bounds`), `inputs`/`outputs` are the tests this phase ran: for a
    stdin problem the sample's tests from `start` (the earlier ones passed), for a functional one its
    first tests from the first. `total`: the sample's number of tests (what a crash or the global
    timeout marks -1); `backstop`: the sample's."""
    records = parse_records(str(answer.get("records", "")))
    judge_records = judge_functional if functional else judge_stdin
    count = len(outputs) + (0 if functional else start) if total is None else total
    judged = judge_records(records, inputs, outputs, timeout, output_limit, count, start)
    if answer.get("backstop") and judged.incomplete:
        meta = {"error_code": -1, "error_message": f"Global timeout after {backstop:g} s"}
        return Judged("global_timeout", [GLOBAL] * count, meta)
    return judged
