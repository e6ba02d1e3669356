"""Split `[THINK]…[/THINK]` reasoning out of streamed text, markers possibly cut across chunks."""

from __future__ import annotations

from agent.llm.base import ReasoningChunk, TextChunk

OPEN, CLOSE = "[THINK]", "[/THINK]"


class ThinkSplitter:
    """Feed text pieces; get text and reasoning chunks. Holds back a possible partial marker."""

    def __init__(self) -> None:
        self._buffer = ""
        self._thinking = False
        self.text = ""
        self.reasoning = ""

    def feed(self, piece: str) -> list[TextChunk | ReasoningChunk]:
        self._buffer += piece
        out: list[TextChunk | ReasoningChunk] = []
        while True:
            marker = CLOSE if self._thinking else OPEN
            index = self._buffer.find(marker)
            if index >= 0:
                self._take(self._buffer[:index], out)
                self._buffer = self._buffer[index + len(marker) :]
                self._thinking = not self._thinking
                continue
            keep = _partial_suffix(self._buffer, marker)
            self._take(self._buffer[: len(self._buffer) - keep], out)
            self._buffer = self._buffer[len(self._buffer) - keep :]
            return out

    def flush(self) -> list[TextChunk | ReasoningChunk]:
        out: list[TextChunk | ReasoningChunk] = []
        self._take(self._buffer, out)
        self._buffer = ""
        return out

    def _take(self, text: str, out: list[TextChunk | ReasoningChunk]) -> None:
        if not text:
            return
        if self._thinking:
            self.reasoning += text
            out.append(ReasoningChunk(text=text))
        else:
            self.text += text
            out.append(TextChunk(text=text))


def _partial_suffix(text: str, marker: str) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of `marker`."""
    for size in range(min(len(marker) - 1, len(text)), 0, -1):
        if marker.startswith(text[-size:]):
            return size
    return 0
