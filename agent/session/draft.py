"""The message box's unsent text (a half-typed message, messages queued behind a step), kept beside
the session's trajectory: a crash or a closed terminal does not lose it, and `/resume`,
`--continue` and `--resume` put it back in the box."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

DRAFT = "draft.txt"


def save_draft(run_dir: Path, text: str) -> None:
    """Replace the saved draft (atomically: a crash mid-write leaves the old one); "" removes it."""
    path = run_dir / DRAFT
    if not text.strip():
        path.unlink(missing_ok=True)
        return
    fd, tmp = tempfile.mkstemp(dir=run_dir, prefix=f".{DRAFT}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load_draft(run_dir: Path) -> str:
    try:
        return (run_dir / DRAFT).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
