"""The LiveCodeBench code-generation prompt (upstream's generic chat template, text kept verbatim).

A system message, then one user turn: "### Question:", the statement, a "### Format:" section
(the starter code to complete, or read stdin / write stdout) and "### Answer:". The wording is
upstream's (`lcb_runner/prompts/code_generation.py`, the OpenAI-chat style) so scores compare.
"""

from __future__ import annotations

from trident.agent.core.messages import Message
from trident.evals.lcb.problems import Problem

SYSTEM_MESSAGE = (
    "You are an expert Python programmer. You will be given a question (problem specification) and will "
    "generate a correct Python program that matches the specification and passes all tests. You will NOT "
    "return anything except for the program."
)
WITH_STARTER_CODE = (
    "You will use the following starter code to write the solution to the problem and enclose your code "
    "within delimiters."
)
WITHOUT_STARTER_CODE = (
    "Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test on "
    "the sample inputs). Enclose your code within delimiters as follows."
)


def question_prompt(problem: Problem) -> str:
    """The user turn: question, format section, answer cue."""
    if problem.starter_code:
        format_section = f"### Format: {WITH_STARTER_CODE}\n```python\n{problem.starter_code}\n```\n\n"
    else:
        format_section = f"### Format: {WITHOUT_STARTER_CODE}\n```python\n# YOUR CODE HERE\n```\n\n"
    return (
        f"### Question:\n{problem.question_content}\n\n"
        f"{format_section}"
        "### Answer: (use the provided format with backticks)\n\n"
    )


def messages(problem: Problem) -> list[Message]:
    return [
        Message(role="system", content=SYSTEM_MESSAGE),
        Message(role="user", content=question_prompt(problem)),
    ]
