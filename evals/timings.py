"""A run's time across its invocations: `timings.jsonl` in the run's folder, one line per invocation
(finished or interrupted), so a run resumed three times reports what it cost in all."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

FILE = "timings.jsonl"


class Invocation(BaseModel):
    started: datetime
    completed: bool  # False: interrupted or failed; the next invocation continues it
    durations_s: dict[str, float]  # per stage


def record(out: Path, started: datetime, completed: bool, durations_s: dict[str, float]) -> None:
    """Append this invocation (never raises: timings must not break a run's ending)."""
    line = Invocation(started=started, completed=completed, durations_s=durations_s).model_dump_json()
    with contextlib.suppress(OSError), (out / FILE).open("ab+") as handle:
        handle.seek(0, 2)
        if handle.tell():  # a line torn by a kill mid-write stays its own (skipped) line
            handle.seek(-1, 2)
            torn = handle.read(1) != b"\n"
            handle.seek(0, 2)
            if torn:
                handle.write(b"\n")
        handle.write(line.encode() + b"\n")


def totals(out: Path) -> tuple[dict[str, float], int]:
    """Per stage, the seconds of every recorded invocation, and how many there were (a torn or
    unreadable line, e.g. from a kill mid-write, is skipped)."""
    summed: dict[str, float] = {}
    count = 0
    with contextlib.suppress(OSError), (out / FILE).open(encoding="utf-8") as handle:
        for line in handle:
            try:
                invocation = Invocation.model_validate(json.loads(line))
            except (ValueError, ValidationError):
                continue
            count += 1
            for stage, seconds in invocation.durations_s.items():
                summed[stage] = round(summed.get(stage, 0.0) + seconds, 2)
    return summed, count


def now() -> datetime:
    return datetime.now(UTC)
