"""`bash`: run a shell command in the sandbox, with a timeout enforced inside it."""

from __future__ import annotations

from pydantic import Field

from trident.tools.base import Tool, ToolArgs, ToolContext, ToolOutput


class BashArgs(ToolArgs):
    command: str = Field(min_length=1, description="The command, run by bash in the workspace root.")
    timeout_s: float | None = Field(None, gt=0, le=3600, description="Seconds before it is killed.")


class BashTool(Tool[BashArgs]):
    name = "bash"
    args_model = BashArgs

    async def run(self, args: BashArgs, ctx: ToolContext) -> ToolOutput:
        timeout = args.timeout_s or ctx.command_timeout_s
        result = await ctx.sandbox.exec(args.command, timeout=timeout, on_output=ctx.on_output)
        if result.timed_out:
            status = f"killed after {timeout:g}s (timeout)"
        else:
            status = f"exit code {result.exit_code}"
            if result.killed_by:
                status += f" (killed: {result.killed_by})"
        return ToolOutput(
            f"{status}\n{result.output}".rstrip(), ok=result.exit_code == 0 and not result.timed_out
        )
