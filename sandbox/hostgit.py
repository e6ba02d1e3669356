"""Every git command trident runs on the host, hardened so that no file of the repository runs code.

A repository's `.git/config` (and anything it includes), its hooks, its `.gitattributes` and nested
repositories may have been written by someone else: by an untrusted project, or by the agent in a
session that had the repository mounted. Plain `git status` on such a repository can run
`core.fsmonitor`, a filter's `clean` command, a `textconv`, an external diff, a pager or a hook.
Every host-side git call goes through `run` here, which:

- ignores the system and global config (`GIT_CONFIG_NOSYSTEM=1`, `GIT_CONFIG_GLOBAL=/dev/null`)
  and drops every inherited `GIT_*` variable (`GIT_DIR`, `GIT_EXEC_PATH`, `GIT_SSH_COMMAND`...);
- overrides, on the command line (which wins over every file), each key that names a program:
  `core.fsmonitor`, `core.hooksPath` (→ /dev/null: no hook runs), `core.pager`, `diff.external`,
  editors, credential helpers, `core.alternateRefsCommand`; and for every filter, diff and merge
  driver the repository's config defines, its `clean`/`smudge`/`process`, `textconv`/`command`
  and `driver` (emptied, and `textconv` set to `cat`: git then runs nothing of theirs);
- never talks to a remote (`protocol.allow=never`, no lazy fetch), never recurses into submodules
  (`diff.ignoreSubmodules=all`), never discovers a bare repository planted in the work tree
  (`safe.bareRepository=explicit`), never starts `gc`/maintenance, never prompts.

git's own `safe.directory` ownership check stays on. The child processes git starts inherit these
overrides (git passes `-c` settings down in `GIT_CONFIG_PARAMETERS`).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

# Keys whose value is a program (or turns one on), neutralised for every call.
HARDENING: tuple[str, ...] = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "core.editor=:",
    "sequence.editor=:",
    "core.askPass=",
    "credential.helper=",
    "core.alternateRefsCommand=",
    "core.sshCommand=false",
    "diff.external=",
    "diff.ignoreSubmodules=all",
    "status.submoduleSummary=false",
    "submodule.recurse=false",
    "protocol.allow=never",
    "safe.bareRepository=explicit",
    "gc.auto=0",
    "maintenance.auto=false",
    "commit.gpgSign=false",
    "tag.gpgSign=false",
    "log.showSignature=false",
    "color.ui=false",
    "core.quotePath=off",
)
# Driver keys (per driver name) that run a program, and the value that turns each off.
DRIVER_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "filter": (("clean", ""), ("smudge", ""), ("process", ""), ("required", "false")),
    "diff": (("textconv", "cat"), ("command", "")),  # an empty textconv is run (and fails)
    "merge": (("driver", ""),),
}
DEFAULT_TIMEOUT_S = 120.0


def environment() -> dict[str, str]:
    """The host environment without any GIT_* variable, and with system/global config off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k not in ("SSH_ASKPASS",)}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        GIT_EDITOR=":",
        GIT_PAGER="cat",
        GIT_NO_LAZY_FETCH="1",
        GIT_OPTIONAL_LOCKS="0",
        LC_ALL="C",
    )
    return env


def argv(args: Sequence[str], extra: Sequence[str] = ()) -> list[str]:
    """`git --no-pager -c …hardening… -c …extra… ARGS`."""
    flags = [item for option in (*HARDENING, *extra) for item in ("-c", option)]
    return ["git", "--no-pager", *flags, *args]


def driver_overrides(cwd: Path) -> list[str]:
    """`-c` values emptying every filter/diff/merge driver the repository's config defines.

    Reading config runs nothing (`git config` loads files, includes too, and prints)."""
    found = subprocess.run(
        argv(["config", "--null", "--get-regexp", r"^(filter|diff|merge)\..+\..+$"]),
        cwd=cwd,
        env=environment(),
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=DEFAULT_TIMEOUT_S,
        check=False,
    )
    names: set[tuple[str, str]] = set()
    for record in found.stdout.decode("utf-8", "replace").split("\0"):
        key = record.split("\n", 1)[0]
        section, _, rest = key.partition(".")
        name, _, _variable = rest.rpartition(".")
        if section.lower() in DRIVER_KEYS and name:
            names.add((section.lower(), name))
    return [
        f"{section}.{name}.{variable}={value}"
        for section, name in sorted(names)
        for variable, value in DRIVER_KEYS[section]
    ]


def run(
    args: Sequence[str],
    cwd: Path | str,
    *,
    input: bytes | None = None,
    config: Sequence[str] = (),
    timeout: float = DEFAULT_TIMEOUT_S,
) -> subprocess.CompletedProcess[bytes]:
    """`git ARGS` in `cwd`, hardened (see the module's docstring); never raises on git's exit code.

    `config`: further `key=value` settings (they cannot undo the hardening: they come first)."""
    where = Path(cwd)
    extra = [*config, *driver_overrides(where)]
    return subprocess.run(
        argv(args, extra),
        cwd=where,
        env=environment(),
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def output(args: Sequence[str], cwd: Path | str, **kwargs: object) -> str | None:
    """stdout of a successful hardened `git ARGS` (stripped), None when git fails or is missing."""
    try:
        done = run(args, cwd, **kwargs)  # type: ignore[arg-type]
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode("utf-8", "replace").strip() if done.returncode == 0 else None


def user_identity(key: str) -> str | None:
    """`user.name` / `user.email` from the user's own (global) config: read, never executed."""
    if key not in ("user.name", "user.email"):
        raise ValueError(key)
    env = {k: v for k, v in environment().items() if k != "GIT_CONFIG_GLOBAL"}
    try:
        found = subprocess.run(
            ["git", "config", "--global", "--get", key],
            cwd="/",
            env=env,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = found.stdout.decode("utf-8", "replace").strip()
    return value if found.returncode == 0 and value else None


def repo_root(start: Path) -> Path:
    """The git work tree containing `start`, else `start` itself."""
    found = output(["rev-parse", "--show-toplevel"], start)
    return Path(found) if found else start
