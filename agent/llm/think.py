"""Split raw model text as it streams: `[THINK]…[/THINK]` is reasoning, `[TOOL_CALLS]…` is held back.

Servers that do not parse Mistral's markers leave them in the text. Reasoning is routed to reasoning
chunks; from `[TOOL_CALLS]` on nothing more is shown as text (it is call syntax, not prose), but
`text` keeps it so intake can parse the calls. Markers cut across chunks are handled.
"""

from __future__ import annotations

from trident.agent.core.messages import ReasoningChunk, TextChunk

OPEN, CLOSE, CALLS = "[THINK]", "[/THINK]", "[TOOL_CALLS]"


class ThinkSplitter:
    """Feed text pieces; get text and reasoning chunks. Holds back a possible partial marker."""

    def __init__(self) -> None:
        self._buffer = ""
        self._mode = "text"  # text | thinking | calls
        self.text = ""  # everything outside [THINK], tool-call syntax included
        self.reasoning = ""

    def feed(self, piece: str) -> list[TextChunk | ReasoningChunk]:
        self._buffer += piece
        out: list[TextChunk | ReasoningChunk] = []
        while True:
            if self._mode == "calls":
                self.text += self._buffer
                self._buffer = ""
                return out
            # a call from inside reasoning ends it, as in vLLM's Mistral parser
            markers = (CLOSE, CALLS) if self._mode == "thinking" else (OPEN, CALLS)
            found = [(self._buffer.find(m), m) for m in markers if m in self._buffer]
            if found:
                index, marker = min(found)
                self._take(self._buffer[:index], out)
                self._buffer = self._buffer[index + len(marker) :]
                if marker == CALLS:
                    self.text += CALLS
                    self._mode = "calls"
                else:
                    self._mode = "thinking" if marker == OPEN else "text"
                continue
            keep = max(_partial_suffix(self._buffer, m) for m in markers)
            self._take(self._buffer[: len(self._buffer) - keep], out)
            self._buffer = self._buffer[len(self._buffer) - keep :]
            return out

    def flush(self) -> list[TextChunk | ReasoningChunk]:
        out: list[TextChunk | ReasoningChunk] = []
        if self._mode == "calls":
            self.text += self._buffer
        else:
            self._take(self._buffer, out)
        self._buffer = ""
        return out

    def _take(self, text: str, out: list[TextChunk | ReasoningChunk]) -> None:
        if not text:
            return
        if self._mode == "thinking":
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
