"""The workspace as a git change: a baseline commit at the start, the diff out at the end.

Both run inside the sandbox, so they work the same for a local directory and a container's copy.
"""

from __future__ import annotations

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
