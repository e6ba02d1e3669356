"""Prompt prefix reuse between two runs back to back: the share of a run's first prompt that a
server's prefix cache can take from the run before it, with today's prompt layout against the
previous one (workspace path and test command at the top of the system prompt).

A prefix cache reuses the longest prefix two prompts share (in blocks; this counts tokens or
characters, so it is the ceiling a cache can reach). Two renderings of the same first request:
- ChatML with the tools in the system message (llama.cpp's Hermes-style templates, e.g. Qwen),
  counted in characters;
- Mistral's own (mistral_common, the model's tokenizer), counted in tokens: only with the engine
  extra and a checkpoint (`--checkpoint DIR`, e.g. one from `trident engine make-tiny`).

Run: python -m benchmarks.prompt_cache [--checkpoint DIR]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from trident.agent.core.messages import Message, ModelRequest
from trident.agent.prompt import system_prompt, task_message
from trident.tools.registry import default_tools

Layout = Callable[[str, str, str | None], list[Message]]
RUNS = [  # two headless runs of the same repository, each in its own workspace copy
    (
        "/home/ci/.local/state/trident/runs/3f2a9c1d7b6e/workspace",
        "The date parser rejects ISO weeks: fix it.",
    ),
    (
        "/home/ci/.local/state/trident/runs/9b1e44c0a2f7/workspace",
        "`slugify` drops non-ASCII letters: fix it.",
    ),
]
TEST_COMMAND = "python -m pytest -q"


def previous_layout(workspace: str, task: str, test_command: str | None) -> list[Message]:
    """The layout before: the run's details in the first line of the system prompt."""
    hint = f" (`run_tests` runs `{test_command}`)" if test_command else ""
    text = system_prompt().replace(
        "working in a software repository.", f"working in a software repository at {workspace}."
    )
    text = text.replace("3. Check it: run the tests.", f"3. Check it: run the tests{hint}.")
    return [Message(role="system", content=text), Message(role="user", content=task)]


def current_layout(workspace: str, task: str, test_command: str | None) -> list[Message]:
    return [
        Message(role="system", content=system_prompt()),
        Message(role="user", content=task_message(task, workspace, test_command)),
    ]


def chatml(request: ModelRequest) -> str:
    """A Hermes-style rendering: the tools' schemas appended to the system message."""
    tools = "\n".join(json.dumps({"type": "function", "function": t.model_dump()}) for t in request.tools)
    system, user = request.messages
    return (
        f"<|im_start|>system\n{system.content}\n\n# Tools\n<tools>\n{tools}\n</tools><|im_end|>\n"
        f"<|im_start|>user\n{user.content}<|im_end|>\n<|im_start|>assistant\n"
    )


def shared(first: list[int] | str, second: list[int] | str) -> int:
    n = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        n += 1
    return n


def reuse(layout: Layout, render: Callable[[ModelRequest], list[int] | str]) -> tuple[int, int]:
    """(prefix the second run's prompt shares with the first's, the second prompt's length)."""
    tools = list(default_tools().specs().values())
    prompts = [
        render(ModelRequest(messages=layout(ws, task, TEST_COMMAND), tools=tools, reasoning_effort="none"))
        for ws, task in RUNS
    ]
    return shared(prompts[0], prompts[1]), len(prompts[1])


def report(name: str, unit: str, render: Callable[[ModelRequest], list[int] | str]) -> None:
    before, total_before = reuse(previous_layout, render)
    after, total_after = reuse(current_layout, render)
    print(f"{name}: reused by the next run, previous layout: {before:,}/{total_before:,} {unit} "
          f"({before / total_before:.1%})")  # fmt: skip
    print(f"{name}: reused by the next run, current layout:  {after:,}/{total_after:,} {unit} "
          f"({after / total_after:.1%})")  # fmt: skip
    print(f"{name}: ratio (current / previous reuse): {after / max(before, 1):.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checkpoint", type=Path, help="a checkpoint with tekken.json (engine extra needed)")
    args = parser.parse_args()
    report("chatml (tools in the system message)", "chars", chatml)
    if args.checkpoint is not None:
        from trident.agent.llm.mistral_format import MistralFormat, load_tokenizer

        fmt = MistralFormat(load_tokenizer(args.checkpoint))
        report("mistral (mistral_common)", "tokens", fmt.render)


if __name__ == "__main__":
    main()
