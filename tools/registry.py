"""The default tool set of a coding run."""

from __future__ import annotations

from typing import Any

from tools.base import Tool, Toolset
from tools.bash import BashTool
from tools.edit import EditTool
from tools.read import ReadTool
from tools.run_tests import RunTestsTool
from tools.write import WriteTool


def default_tools() -> Toolset:
    tools: list[Tool[Any]] = [ReadTool(), EditTool(), WriteTool(), BashTool(), RunTestsTool()]
    return Toolset(tools)
