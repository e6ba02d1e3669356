"""`run_tests`: run the project's test command (or a given one) in the sandbox."""

from __future__ import annotations

from pydantic import Field

from tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolOutput


class RunTestsArgs(ToolArgs):
    command: str | None = Field(None, description="Test command; defaults to the project's own.")


class RunTestsTool(Tool[RunTestsArgs]):
    name = "run_tests"
    args_model = RunTestsArgs

    async def run(self, args: RunTestsArgs, ctx: ToolContext) -> ToolOutput:
        command = args.command or ctx.test_command
        if not command:
            raise ToolError("no test command is configured for this project; pass `command`")
        result = await ctx.sandbox.exec(command, timeout=ctx.command_timeout_s)
        passed = result.exit_code == 0 and not result.timed_out
        verdict = "PASSED" if passed else ("TIMED OUT" if result.timed_out else "FAILED")
        return ToolOutput(
            f"{verdict} (exit code {result.exit_code}): {command}\n{result.output}".rstrip(), ok=passed
        )
