"""The workspace as a git change: a baseline commit at the start, the diff out at the end.

`record_baseline` and `export_diff` run inside the sandbox, on the workspace's own `.git`: the
agent's view (its `git status` and `git diff` start clean). The headless verdict never uses them:
it uses trident's own store on the host (`snapshot_baseline`, `workspace_diff`, `clean_copy`).
"""

from __future__ import annotations

import posixpath
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from trident.sandbox import hostgit
from trident.sandbox.base import Sandbox, SandboxError

BASELINE_REF = "refs/trident/baseline"
GIT = (
    "git -c user.name=trident -c user.email=trident@localhost -c commit.gpgsign=false "
    "-c core.hooksPath=/dev/null"
)


async def record_baseline(sandbox: Sandbox) -> None:
    """Commit the workspace as found, so the final diff is exactly the agent's change."""
    result = await sandbox.exec(
        # a `.git` *file* (worktree, submodule) points outside the copy: start a history of our own
        "if [ -f .git ]; then rm -f .git; fi; if [ ! -d .git ]; then git init -q; fi && git add -A && "
        f"{GIT} commit -q --allow-empty --no-verify -m 'trident: baseline' && "
        f"git update-ref {BASELINE_REF} HEAD",
        timeout=300,
        cwd=".",
    )
    if result.exit_code != 0:
        raise SandboxError(f"could not record the workspace baseline: {result.output.strip()}")


async def export_diff(sandbox: Sandbox) -> str:
    """The change since the baseline as a binary-safe git diff (`git apply` accepts it).

    Against the baseline ref, not HEAD: commits the agent made (or a branch switch) stay in the patch.
    """
    result = await sandbox.exec(
        f"git add -A && git diff --cached --binary {BASELINE_REF}",
        timeout=300,
        cwd=".",
        limit=256 * 1024 * 1024,
    )
    if result.exit_code != 0:
        raise SandboxError(f"could not compute the patch: {result.output.strip()}")
    return result.output


# -- trident's own view of the workspace, on the host ----------------------------------------------
#
# The verdict must not depend on anything a process in the sandbox could have written or shadowed:
# the workspace's `.git` (config, hooks, refs, index, info/exclude), the shell's PATH and functions,
# a daemon. So trident keeps its own record of the baseline in a bare git store *beside* the
# workspace (never mounted into the sandbox), and computes the diff and the clean copies with the
# host's git, run with a clean environment: no system or global config, no hooks, no fsmonitor, no
# external diff or textconv, no filter or eol attribute (the store's `info/attributes` overrides the
# repository's `.gitattributes`). The workspace is only read, as a work tree: git never follows a
# symlink in it (a link is recorded as a link) and skips `.git` and special files (fifos).

STORE_ATTRIBUTES = "* -text !eol -filter -ident !working-tree-encoding\n"
# On top of `hostgit`'s hardening: the store's own settings (files taken byte for byte, links as links).
STORE_CONFIG = (
    "core.autocrlf=false", "core.symlinks=true", "core.untrackedCache=false", "core.splitIndex=false",
    "user.name=trident", "user.email=trident@localhost", "core.quotePath=true",
)  # fmt: skip
GIT_TIMEOUT_S = 600.0


class GitStoreError(SandboxError):
    """trident's own git bookkeeping failed (infrastructure: exit code 4)."""


def _git(
    store: Path, work_tree: Path, *args: str, index: Path | None = None, stdin: bytes | None = None
) -> bytes:
    env = {
        **hostgit.environment(),
        "HOME": str(store),  # no ~/.gitconfig is read
        "GIT_DIR": str(store),
        "GIT_INDEX_FILE": str(index or store / "index"),
        "GIT_NO_REPLACE_OBJECTS": "1",
        "GIT_ATTR_NOSYSTEM": "1",
    }
    if args[0] != "init":
        env["GIT_WORK_TREE"] = str(work_tree)
    try:
        done = subprocess.run(
            hostgit.argv(args, STORE_CONFIG),
            cwd=work_tree,
            env=env,
            input=stdin,
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
        )
    except FileNotFoundError:
        raise GitStoreError("git is needed on this machine (it keeps the run baseline)") from None
    except subprocess.TimeoutExpired:
        raise GitStoreError(f"git {args[0]} took longer than {GIT_TIMEOUT_S:.0f}s on {work_tree}") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip()
        raise GitStoreError(f"git {args[0]} failed on {work_tree}: {detail}")
    return done.stdout


def snapshot_baseline(workspace: Path, store: Path) -> None:
    """Record every file of `workspace` as found (ignored ones too) as trident's baseline, in `store`."""
    store.mkdir(parents=True, exist_ok=False)
    _git(store, store, "init", "-q", "--bare", str(store))
    (store / "info").mkdir(exist_ok=True)
    (store / "info" / "attributes").write_text(STORE_ATTRIBUTES, encoding="utf-8")
    (store / "info" / "exclude").write_text("", encoding="utf-8")
    _git(store, workspace, "add", "-A", "-f")
    _git(store, workspace, "commit", "-q", "--allow-empty", "--no-verify", "-m", "trident: baseline")
    _git(store, workspace, "update-ref", BASELINE_REF, "HEAD")


def workspace_diff(workspace: Path, store: Path) -> str:
    """The workspace's change since the baseline, as a binary git diff, computed on the host.

    Every file is hashed anew (a fresh index from the baseline tree: no stat cache to fool); new
    files are taken unless the work tree's `.gitignore` ignores them (build and test caches).
    """
    index = store / "trident-diff.index"
    index.unlink(missing_ok=True)
    try:
        _git(store, workspace, "read-tree", BASELINE_REF, index=index)
        _git(store, workspace, "add", "-A", index=index)
        out = _git(
            store, workspace, "diff", "--cached", "--binary", "--no-renames", "--no-ext-diff",
            "--no-textconv", "--no-color", "--full-index", BASELINE_REF, index=index,
        )  # fmt: skip
    finally:
        index.unlink(missing_ok=True)
    return out.decode("utf-8", "surrogateescape")


def clean_copy(store: Path, into: Path, patch: str = "") -> Path:
    """A fresh directory holding the baseline with `patch` applied (for a verification sandbox)."""
    into.mkdir(parents=True)
    index = into.parent / f"{into.name}.index"
    try:
        _git(store, into, "read-tree", BASELINE_REF, index=index)
        _git(store, into, "checkout-index", "-a", "-f", index=index)
        if patch.strip():
            _git(
                store, into, "apply", "--binary", "--whitespace=nowarn", "-",
                index=index, stdin=patch.encode("utf-8", "surrogateescape"),
            )  # fmt: skip
    finally:
        index.unlink(missing_ok=True)
    return into


# -- what `--apply` refuses to write into the user's repository ------------------------------------

SYMLINK_MODE = "120000"


@dataclass
class _FileChange:
    path: str = ""
    new_mode: str = ""
    added: list[str] = field(default_factory=list)


def _unquote(path: str) -> str:
    """A path as git prints it: C-quoted (`"a\\tb"`, octal bytes) when it has special characters."""
    if not (path.startswith('"') and path.endswith('"')):
        return path
    raw = path[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1")
    return raw.decode("utf-8", "surrogateescape")


HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


def _changes(patch: str) -> list[_FileChange]:
    """The files of a git diff (ours: `--no-renames`), hunks consumed by their line counts."""
    changes: list[_FileChange] = []
    current: _FileChange | None = None
    old_left = new_left = 0
    for line in patch.split("\n"):
        if old_left > 0 or new_left > 0:  # inside a hunk: content, never a header
            assert current is not None
            tag = line[:1]
            if tag in ("-", " "):
                old_left -= 1
            if tag in ("+", " "):
                new_left -= 1
            if tag == "+":
                current.added.append(line[1:])
            continue
        if line.startswith("diff --git "):
            current = _FileChange()
            changes.append(current)
            rest = line[len("diff --git ") :]
            if not rest.startswith('"'):  # `a/X b/X`: the same path both sides (no renames)
                half = rest[: (len(rest) - 1) // 2]
                current.path = half[2:] if half.startswith("a/") else half
            continue
        if current is None:
            continue
        hunk = HUNK.match(line)
        if hunk:
            old_left = int(hunk.group(1) or 1)
            new_left = int(hunk.group(2) or 1)
            continue
        for prefix in ("new file mode ", "new mode "):
            if line.startswith(prefix):
                current.new_mode = line[len(prefix) :].strip()
        if line.startswith("index ") and len(line.split()) == 3:
            current.new_mode = current.new_mode or line.split()[2]
        for marker in ("--- ", "+++ "):  # `+++` comes last: a deleted file keeps its `---` path
            name = _unquote(line[len(marker) :]) if line.startswith(marker) else ""
            if name[:2] in ("a/", "b/"):
                current.path = name[2:]
    return changes


def unsafe_changes(patch: str) -> list[str]:
    """Why `patch` must not be written into the user's repository (empty: it may).

    Refused: any path under a `.git` (the user's history, hooks and config), a `.trident.toml`
    (trident's own configuration of that repository), a path leaving the repository, and a symlink
    whose target is absolute or leaves the repository.
    """
    problems: list[str] = []
    changes = _changes(patch)
    parsed = {c.path for c in changes}
    # git's own reading of the paths as well: a path our parser would have missed is refused
    changes += [_FileChange(path=p) for p in _git_paths(patch) if p not in parsed]
    for change in changes:
        path = change.path
        parts = PurePosixPath(path).parts
        lowered = [p.lower().rstrip(". ") for p in parts]
        if not parts or path.startswith("/") or ".." in parts:
            problems.append(f"{path!r} leaves the repository")
        elif ".git" in lowered:
            problems.append(f"{path} is inside a .git directory")
        elif lowered[-1] == ".trident.toml":
            problems.append(f"{path} is trident's own configuration of the repository")
        if change.new_mode == SYMLINK_MODE and change.added:
            target = change.added[0]
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
            if target.startswith("/") or resolved == ".." or resolved.startswith("../"):
                problems.append(f"{path} is a symlink out of the repository (to {target})")
    return problems


def _git_paths(patch: str) -> list[str]:
    """The paths `git apply` reads in `patch` (no repository, clean environment)."""
    env = {**hostgit.environment(), "HOME": "/nonexistent"}
    with tempfile.TemporaryDirectory(prefix="trident-patch-") as empty:
        env["GIT_CEILING_DIRECTORIES"] = str(Path(empty).parent)
        done = subprocess.run(
            hostgit.argv(["apply", "--numstat", "-z", "-"], ["core.quotePath=true"]),
            cwd=empty,
            env=env,
            input=patch.encode("utf-8", "surrogateescape"),
            capture_output=True,
        )
    if done.returncode != 0:
        return ["<a patch git cannot read>"]
    fields = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    return [f.split("\t", 2)[2] for f in fields if f.count("\t") >= 2]
