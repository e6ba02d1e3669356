"""JSONL files of pydantic records (scripted sessions, batch tasks), with errors that name the line."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class JsonlError(ValueError):
    """The file cannot be read, or a line is not a valid record: `path:line: field: problem`."""


def read_records(path: Path, model: type[M]) -> list[tuple[int, M]]:
    """(line number, record) for every non-blank line of `path`."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise JsonlError(f"{path}: cannot be read: {exc.strerror}") from None
    records: list[tuple[int, M]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append((number, model.model_validate_json(line)))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "line"
            raise JsonlError(f"{path}:{number}: {where}: {first['msg']}") from None
    return records
