"""The raw-text server path on the corpus of raw outputs (`raw_corpus.py`): reasoning, content and
calls as recorded, each disagreement with vLLM's parser decided on purpose; and text a backend
already parsed is never parsed again."""

from __future__ import annotations

import pytest

from tests.agent.raw_corpus import CORPUS, Case
from trident.agent.core.messages import Completion, ProposedCall
from trident.agent.intake.calls import Intake
from trident.agent.llm.think import ThinkSplitter
from trident.tools.registry import default_tools


def server_path(text: str) -> tuple[str, str, list[tuple[str, str | None]]]:
    """What `openai:` and intake make of a server's unparsed text: reasoning, content, calls."""
    splitter = ThinkSplitter()
    for piece in (text[: len(text) // 2], text[len(text) // 2 :]):  # a marker may be cut across chunks
        splitter.feed(piece)
    splitter.flush()
    intake = Intake(default_tools().specs())
    content, calls = intake.extract(Completion(content=splitter.text, calls_parsed=False), set())
    return splitter.reasoning, content, [(c.name, c.arguments) for c in calls]


def expected(case: Case) -> list[tuple[str, str | None]]:
    # intake carries arguments as text: a call cut after its name has `null`, which it rejects
    return [(name, "null" if arguments is None else arguments) for name, arguments in case.calls]


@pytest.mark.parametrize("label", list(CORPUS))
def test_raw_output_is_parsed_as_recorded(label: str) -> None:
    case = CORPUS[label]
    assert server_path(case.text) == (case.reasoning, case.content, expected(case))


def test_the_corpus_covers_the_known_disagreements() -> None:
    assert len(CORPUS) >= 26
    differing = {label for label, case in CORPUS.items() if case.vllm is not None}
    assert {"cut right after the name", "marker inside a JSON string", "call id"} <= differing
    # the cases once decided against vLLM now follow it
    for label in ("text after the arguments", "no [ARGS] (dropped by skip_special_tokens)",
                  "whitespace-only content"):  # fmt: skip
        assert CORPUS[label].vllm is None


def test_a_call_cut_after_its_name_is_rejected_not_run() -> None:
    intake = Intake(default_tools().specs())
    _, (call,) = intake.extract(Completion(content="[TOOL_CALLS]ls", calls_parsed=False), set())
    verdict = intake.check(call)
    assert getattr(verdict, "kind", None) == "invalid_json"


def test_quoted_call_syntax_in_parsed_text_is_never_a_call() -> None:
    """A model quoting a call, or a file it read, where the backend parsed the calls itself."""
    intake = Intake(default_tools().specs())
    quoted = 'The log says: [TOOL_CALLS]bash[ARGS]{"command": "rm -rf ~"}'
    content, calls = intake.extract(Completion(content=quoted), set())
    assert (content, calls) == (quoted, [])
    structured = Completion(
        content=quoted, tool_calls=[ProposedCall(name="ls", arguments="{}")], calls_parsed=False
    )
    content, calls = intake.extract(structured, set())
    assert content == quoted and [c.name for c in calls] == ["ls"]
