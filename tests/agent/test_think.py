"""The streaming marker splitter, fed every way a stream can cut its markers."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from trident.agent.core.messages import ReasoningChunk, TextChunk
from trident.agent.llm.think import ThinkSplitter

RAW = 'Hm.[THINK]plan: read [it][/THINK]Reading.[TOOL_CALLS]read[ARGS]{"path": "[THINK]a"}'


def split_at(text: str, cuts: list[int]) -> list[str]:
    points = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    return [text[a:b] for a, b in itertools.pairwise(points)]


@given(st.lists(st.integers(min_value=0), max_size=12))
def test_any_chunking_gives_the_same_split(cuts: list[int]) -> None:
    splitter = ThinkSplitter()
    chunks = [c for piece in split_at(RAW, cuts) for c in splitter.feed(piece)] + splitter.flush()
    shown = "".join(c.text for c in chunks if isinstance(c, TextChunk))
    thought = "".join(c.text for c in chunks if isinstance(c, ReasoningChunk))
    assert (shown, thought) == ("Hm.Reading.", "plan: read [it]")
    assert splitter.text == 'Hm.Reading.[TOOL_CALLS]read[ARGS]{"path": "[THINK]a"}'
    assert splitter.reasoning == "plan: read [it]"


def test_a_bracket_that_is_not_a_marker_is_released_at_the_end() -> None:
    splitter = ThinkSplitter()
    assert [c.text for c in splitter.feed("a [TH")] == ["a "]
    assert [c.text for c in splitter.flush()] == ["[TH"]
