"""Mistral's chat format on token ids: requests rendered with mistral_common, outputs parsed by token.

Rendering goes through mistral_common exactly as Mistral defines it (`ChatCompletionRequest.from_openai`
with the tools and `reasoning_effort`, then `encode_chat_completion`), so the embedded engine gets
the same prompt tokens `vllm serve` would build. Output is parsed on token ids, not on text: the
special tokens `[THINK]`, `[/THINK]`, `[TOOL_CALLS]`, `[ARGS]` and `[CALL_ID]` are single ids,
which a text parser can confuse with look-alike text and which detokenizing may drop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from trident.agent.core.messages import BackendError, ModelRequest, ProposedCall, ReasoningChunk, TextChunk
from trident.agent.intake.raw_calls import UNPARSED, content_before_calls, first_json_value, name_without_args
from trident.agent.llm.openai_compat import openai_tools, to_openai_messages

if TYPE_CHECKING:  # mypy does not follow mistral_common (pyproject.toml): the same check with or without it
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer as Tokenizer

_REPLACEMENT = "\ufffd"
_MAX_HELD = 8  # tokens held back while they decode to an incomplete UTF-8 sequence


def load_tokenizer(checkpoint: Path) -> Tokenizer:
    """The checkpoint's Tekken tokenizer (`tekken.json`), as vLLM's `tokenizer_mode=mistral` loads it."""
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    path = checkpoint / "tekken.json"
    if not path.is_file():
        raise BackendError(f"{checkpoint}: no tekken.json (the Mistral tokenizer file) in the checkpoint")
    try:
        return MistralTokenizer.from_file(str(path))
    except Exception as exc:  # JSON, schema, version and vocabulary errors alike: the file is unusable
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise BackendError(f"{path}: not a usable Tekken tokenizer file ({reason[:300]})") from None


@dataclass
class ParsedCall:
    """One `[TOOL_CALLS]name[CALL_ID]id[ARGS]{json}` span of the output."""

    name_ids: list[int] = field(default_factory=list)
    id_ids: list[int] = field(default_factory=list)
    arg_ids: list[int] = field(default_factory=list)
    args_start: int | None = None  # index in the output just after `[ARGS]`


class MistralFormat:
    """Renders requests to prompt ids and makes output parsers, for one Tekken tokenizer."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        from mistral_common.tokens.tokenizers.base import SpecialTokens

        self.tokenizer = tokenizer
        self.inner = tokenizer.instruct_tokenizer.tokenizer
        self.version = self.inner.version.value

        def special(token: SpecialTokens) -> int:
            return int(self.inner.get_special_token(token.value))

        self.tool_calls_id = special(SpecialTokens.tool_calls)
        self.args_id = special(SpecialTokens.args)
        self.call_id_id = special(SpecialTokens.call_id)
        self.think_id = special(SpecialTokens.begin_think)
        self.end_think_id = special(SpecialTokens.end_think)
        self.eos_id = int(self.inner.eos_id)

    def render(self, request: ModelRequest) -> list[int]:
        """Prompt token ids: system prompt, tools, reasoning effort and turns, as Mistral encodes them."""
        from mistral_common.exceptions import MistralCommonException
        from mistral_common.protocol.instruct.request import ChatCompletionRequest

        try:
            chat = ChatCompletionRequest.from_openai(
                to_openai_messages(request.messages),
                tools=openai_tools(request) or None,
                reasoning_effort=request.reasoning_effort,
            )
            tokens: list[int] = self.tokenizer.encode_chat_completion(chat).tokens
        except (MistralCommonException, ValueError) as exc:
            raise BackendError(f"the conversation cannot be rendered in Mistral's format: {exc}") from None
        return tokens

    def encode(self, text: str) -> list[int]:
        return list(self.inner.encode(text, bos=False, eos=False))

    def decode(self, ids: list[int]) -> str:
        from mistral_common.tokens.tokenizers.base import SpecialTokenPolicy

        return str(self.inner.decode(ids, special_token_policy=SpecialTokenPolicy.IGNORE))

    def decode_keep_special(self, ids: list[int]) -> str:
        """Text with special tokens spelled out (what `vllm serve` shows a tool parser)."""
        from mistral_common.tokens.tokenizers.base import SpecialTokenPolicy

        return str(self.inner.decode(ids, special_token_policy=SpecialTokenPolicy.KEEP))

    def parser(self) -> OutputParser:
        return OutputParser(self)


class OutputParser:
    """Streaming parse of output token ids into text, reasoning and tool calls.

    `feed` returns the text and reasoning chunks ready to show (a multi-byte character split over
    tokens is held until complete); nothing from `[TOOL_CALLS]` on is shown as text.
    """

    def __init__(self, fmt: MistralFormat) -> None:
        self._fmt = fmt
        self._mode = "text"  # text | thinking | name | call_id | args
        self._held: list[int] = []
        self.tokens: list[int] = []
        self.content = ""
        self.reasoning = ""
        self.calls: list[ParsedCall] = []

    def feed(self, ids: list[int]) -> list[TextChunk | ReasoningChunk]:
        fmt, out = self._fmt, []
        for token in ids:
            self.tokens.append(token)
            if token == fmt.eos_id:
                out += self._release(force=True)
                continue
            if token == fmt.tool_calls_id:
                out += self._release(force=True)
                self.calls.append(ParsedCall())
                self._mode = "name"
            elif token == fmt.think_id and self._mode == "text":
                out += self._release(force=True)
                self._mode = "thinking"
            elif token == fmt.end_think_id and self._mode == "thinking":
                out += self._release(force=True)
                self._mode = "text"
            elif token == fmt.call_id_id and self._mode == "name":
                self._mode = "call_id"
            elif token == fmt.args_id and self._mode in ("name", "call_id"):
                self.calls[-1].args_start = len(self.tokens)
                self._mode = "args"
            elif self._mode in ("text", "thinking"):
                self._held.append(token)
            elif self._mode == "name":
                self.calls[-1].name_ids.append(token)
            elif self._mode == "call_id":
                self.calls[-1].id_ids.append(token)
            else:
                self.calls[-1].arg_ids.append(token)
        return out + self._release(force=False)

    def flush(self) -> list[TextChunk | ReasoningChunk]:
        return self._release(force=True)

    def _release(self, *, force: bool) -> list[TextChunk | ReasoningChunk]:
        if not self._held:
            return []
        text = self._fmt.decode(self._held)
        if text.endswith(_REPLACEMENT) and not force and len(self._held) < _MAX_HELD:
            return []
        self._held = []
        if not text:
            return []
        if self._mode == "thinking":
            self.reasoning += text
            return [ReasoningChunk(text=text)]
        self.content += text
        return [TextChunk(text=text)]

    def call_pairs(self) -> list[tuple[ParsedCall, ProposedCall]]:
        """Each call span with the call intake takes from it: name and id decoded, arguments the
        first JSON value the model wrote (text after it dropped), decided as for raw text
        (`intake/raw_calls.py`): repeated `[TOOL_CALLS]` count once, a call cut right after its name
        has no arguments, a marker with nothing after it is an unparsed call."""
        decode = self._fmt.decode
        pairs: list[tuple[ParsedCall, ProposedCall]] = []
        for index, call in enumerate(self.calls):
            name = decode(call.name_ids)
            call_id = decode(call.id_ids).strip() or None
            if call.args_start is not None:
                written = first_json_value(decode(call.arg_ids))
                pairs.append((call, ProposedCall(id=call_id, name=name.strip(), arguments=written)))
            elif call.id_ids:
                pairs.append((call, ProposedCall(id=call_id, name=name.strip(), arguments=None)))
            elif name.strip():
                bare, arguments = name_without_args(name)
                pairs.append((call, ProposedCall(name=bare, arguments=arguments)))
            elif index == len(self.calls) - 1:
                pairs.append((call, ProposedCall(name=UNPARSED, arguments="")))
        return pairs

    def proposed_calls(self) -> list[ProposedCall]:
        return [proposed for _, proposed in self.call_pairs()]

    def answer_content(self) -> str:
        """The turn's content as history keeps it (see `content_before_calls`)."""
        return content_before_calls(self.content) if self.calls else self.content
