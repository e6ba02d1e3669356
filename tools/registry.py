"""The default tool set of a coding run."""

from __future__ import annotations

from typing import Any

from trident.tools.apply_patch import ApplyPatchTool
from trident.tools.base import Tool, Toolset
from trident.tools.bash import BashTool
from trident.tools.edit import EditTool
from trident.tools.git import GitTool
from trident.tools.glob import GlobTool
from trident.tools.grep import GrepTool
from trident.tools.ls import LsTool
from trident.tools.outline import OutlineTool
from trident.tools.read import ReadTool
from trident.tools.repomap import RepoMapTool
from trident.tools.run_tests import RunTestsTool
from trident.tools.todo import TodoTool
from trident.tools.write import WriteTool


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
        TodoTool(),
    ]
    return Toolset(tools)
