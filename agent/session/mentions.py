"""`@path` mentions: completing them against the repository's files, and attaching the files.

`fix the bug in @src/app.py` sends the message with the file's content attached below it, so the
model does not need a `read` call for what the user already pointed at. Completion lists the
repository on the host (the TUI's own view of the folder it runs in); attachments are read through
the sandbox, so the model sees the workspace as its tools do, confined to it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from trident.sandbox.base import Sandbox
from trident.sandbox.runner import SKIP_DIRS as RUNNER_SKIP_DIRS

SKIP_DIRS = RUNNER_SKIP_DIRS | {"venv"}  # what the sandbox's listings skip, and plain venvs
MAX_FILES = 20_000
MAX_ATTACH_BYTES = 64 * 1024
MENTION = re.compile(r"(?<![\w@])@([\w./~+-]+)")


def repo_files(repo: Path, limit: int = MAX_FILES) -> list[str]:
    """Relative paths of the repository's files (common build and cache dirs skipped), sorted."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        base = Path(dirpath).relative_to(repo)
        for name in filenames:
            found.append((base / name).as_posix())
            if len(found) >= limit:
                return sorted(found)
    return sorted(found)


def complete(prefix: str, files: list[str]) -> str | None:
    """The first file starting with `prefix`, else the first whose name starts with it."""
    if not prefix:
        return None
    for path in files:
        if path.startswith(prefix):
            return path
    return next((path for path in files if Path(path).name.startswith(prefix)), None)


def mentioned(text: str) -> list[str]:
    return [m.rstrip(".,;:") for m in MENTION.findall(text)]


async def attach(text: str, sandbox: Sandbox) -> tuple[str, list[str]]:
    """The message with each mentioned file's content appended; and the paths attached. Paths the
    sandbox refuses (outside the workspace) or cannot read, and binary files, stay plain mentions."""
    paths = list(dict.fromkeys(mentioned(text)))
    found = await sandbox.read_files(paths, limit=MAX_ATTACH_BYTES + 1) if paths else {}
    blocks: list[str] = []
    attached: list[str] = []
    for rel in paths:
        data = found.get(rel)
        if data is None or b"\0" in data[:8192]:
            continue  # missing, refused or binary: the mention stays as a path
        cut = f"\n[... cut at {MAX_ATTACH_BYTES} bytes]" if len(data) > MAX_ATTACH_BYTES else ""
        body = data[:MAX_ATTACH_BYTES].decode("utf-8", errors="replace")
        blocks.append(f'<file path="{rel}">\n{body}{cut}\n</file>')
        attached.append(rel)
    if not blocks:
        return text, []
    return text + "\n\nAttached files:\n" + "\n".join(blocks), attached
