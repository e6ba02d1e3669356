"""AGENTS.md: project instructions for the agent, added to the system prompt.

Read from the user's config directory (`~/.config/trident/AGENTS.md`), then from the repository root
down to the working directory, in that order: the closest file comes last and so has the last word.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trident.agent.config import user_config_path

FILENAME = "AGENTS.md"
MAX_CHARS = 32_000  # per file: a huge AGENTS.md must not crowd out the conversation


@dataclass(frozen=True)
class AgentsFile:
    path: Path
    text: str


def _read(path: Path) -> AgentsFile | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS] + f"\n[... {path} cut at {MAX_CHARS} characters]"
    return AgentsFile(path, text) if text else None


def find_agents_files(repo: Path, cwd: Path | None = None) -> list[AgentsFile]:
    """The user's file, then one per directory from `repo` down to `cwd` (when `cwd` is inside it)."""
    repo = repo.resolve()
    cwd = (cwd or repo).resolve()
    dirs = [repo]
    if cwd != repo and cwd.is_relative_to(repo):
        for part in cwd.relative_to(repo).parts:
            dirs.append(dirs[-1] / part)
    candidates = [user_config_path().parent / FILENAME, *(d / FILENAME for d in dirs)]
    return [found for path in candidates if path.is_file() and (found := _read(path)) is not None]


def with_agents_files(prompt: str, files: list[AgentsFile], repo: Path) -> str:
    """The system prompt followed by each file's instructions under its (repo-relative) name."""
    if not files:
        return prompt
    parts = [prompt, "\n\n# Instructions from AGENTS.md files (the later one wins on conflicts)"]
    for found in files:
        name = (
            found.path.relative_to(repo.resolve())
            if found.path.is_relative_to(repo.resolve())
            else found.path
        )
        parts.append(f"\n\n## {name}\n\n{found.text}")
    return "".join(parts)
