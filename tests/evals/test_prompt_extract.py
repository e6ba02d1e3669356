"""The LCB-style prompt and code extraction."""

from __future__ import annotations

from tests.evals.toy_problems import ADD, TWICE
from trident.evals.extract import extract_code, last_fenced_block, strip_reasoning
from trident.evals.prompt import SYSTEM_MESSAGE, messages, question_prompt


def test_stdin_prompt_has_upstreams_sections_in_order() -> None:
    text = question_prompt(ADD)
    assert text.startswith(
        "### Question:\nRead two integers A and B and print A+B.\n\n### Format: Read the inputs"
    )
    assert (
        "```python\n# YOUR CODE HERE\n```\n\n### Answer: (use the provided format with backticks)\n\n" in text
    )
    assert text.endswith("### Answer: (use the provided format with backticks)\n\n")


def test_starter_code_prompt_shows_the_starter_code() -> None:
    text = question_prompt(TWICE)
    assert "### Format: You will use the following starter code" in text
    assert f"```python\n{TWICE.starter_code}\n```" in text
    assert "stdin" not in text


def test_messages_are_system_then_user() -> None:
    system, user = messages(ADD)
    assert (system.role, system.content) == ("system", SYSTEM_MESSAGE)
    assert user.role == "user" and user.content == question_prompt(ADD)


def test_the_last_complete_fenced_block_wins() -> None:
    answer = "First try:\n```python\nprint(1)\n```\nBetter:\n```\nprint(2)\nprint(3)\n```\nDone."
    assert extract_code(answer) == "print(2)\nprint(3)"


def test_no_block_or_an_unclosed_one_gives_no_code() -> None:
    assert extract_code("print(1)") == ""
    assert last_fenced_block("```python\nprint(1)") == ""
    assert last_fenced_block("```python\nprint(1)\n```\n```python\nprint(2)") == "print(1)"  # cut short


def test_reasoning_is_stripped_before_extraction() -> None:
    answer = "[THINK]draft:\n```python\nprint('draft')\n```\n[/THINK]Final:\n```python\nprint('final')\n```"
    assert extract_code(answer) == "print('final')"
    assert strip_reasoning("<think>```python\nx\n```</think>answer") == "answer"
    # an answer cut off inside its reasoning has no code, even if the reasoning had a block
    assert extract_code("[THINK]```python\nprint('draft')\n```\nstill thinking") == ""
    # a server that cut the opening tag off leaves only the closing one
    assert extract_code("thinking ```python\nprint(0)\n```[/THINK]```python\nprint(1)\n```") == "print(1)"


def test_indented_fences_count() -> None:
    assert extract_code("  ```python\n  print(1)\n  ```") == "  print(1)"
