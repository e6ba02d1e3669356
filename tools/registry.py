"""The default tool set of a coding run."""

from __future__ import annotations

from typing import Any

from tools.apply_patch import ApplyPatchTool
from tools.base import Tool, Toolset
from tools.bash import BashTool
from tools.edit import EditTool
from tools.git import GitTool
from tools.glob import GlobTool
from tools.grep import GrepTool
from tools.ls import LsTool
from tools.outline import OutlineTool
from tools.read import ReadTool
from tools.repomap import RepoMapTool
from tools.run_tests import RunTestsTool
from tools.write import WriteTool


def default_tools() -> Toolset:
    tools: list[Tool[Any]] = [
        ReadTool(),
        EditTool(),
        WriteTool(),
        ApplyPatchTool(),
        GrepTool(),
        GlobTool(),
        LsTool(),
        OutlineTool(),
        RepoMapTool(),
        GitTool(),
        BashTool(),
        RunTestsTool(),
    ]
    return Toolset(tools)
