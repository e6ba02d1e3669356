"""The system clipboard, where this machine has one: besides OSC 52 (which the terminal turns into a
copy, locally or over SSH, when it allows it), the platform's own copy command is run on the host.

Only the user's own text goes here (a selection, the last answer); nothing from the sandbox decides
which command runs.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping

COPY_TIMEOUT_S = 2.0


def copy_command(
    platform: str, env: Mapping[str, str], which: Callable[[str], str | None] = shutil.which
) -> list[str] | None:
    """The command that puts stdin on the system clipboard here, None when there is none (a
    headless machine, an SSH session without a display: OSC 52 is then the only way)."""
    candidates: list[list[str]] = []
    if platform == "darwin":
        candidates.append(["pbcopy"])
    elif platform in ("win32", "cygwin"):
        candidates.append(["clip.exe"])
    else:
        if env.get("WAYLAND_DISPLAY"):
            candidates.append(["wl-copy"])
        if env.get("DISPLAY"):
            candidates += [["xclip", "-selection", "clipboard"], ["xsel", "--clipboard", "--input"]]
        if env.get("WSL_DISTRO_NAME"):
            candidates.append(["clip.exe"])
    return next((command for command in candidates if which(command[0]) is not None), None)


def copy_to_system(text: str, command: list[str] | None) -> bool:
    """Run `command` with `text` on stdin; whether it took it."""
    if command is None:
        return False
    try:
        done = subprocess.run(  # xclip stays behind to own the selection: no pipes left open to wait on
            command,
            input=text.encode("utf-8"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=COPY_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0
