"""Mistral's format on token ids: rendering checked against vLLM's own chat template, output parsing
against vLLM's own Mistral tool and reasoning parser (the oracle), on the tiny v15 tokenizer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.engine.conftest import EDIT, READ
from trident.agent.core.events import Effort, RawToolCall
from trident.agent.core.messages import Message, ModelRequest, ReasoningChunk, TextChunk
from trident.agent.intake.raw_calls import UNPARSED
from trident.agent.llm.mistral_format import MistralFormat, load_tokenizer
from trident.agent.llm.openai_compat import openai_tools, to_openai_messages


@pytest.fixture(scope="module")
def fmt(tiny_checkpoint: Path) -> MistralFormat:
    return MistralFormat(load_tokenizer(tiny_checkpoint))


@pytest.fixture(scope="module")
def vllm_tokenizer(tiny_checkpoint: Path) -> Any:
    from vllm.tokenizers.mistral import MistralTokenizer

    return MistralTokenizer.from_pretrained(str(tiny_checkpoint))


def conversation(effort: Effort) -> ModelRequest:
    return ModelRequest(
        messages=[
            Message(role="system", content="You fix bugs."),
            Message(role="user", content="Fix the clock."),
            Message(
                role="assistant",
                content="Reading first.",
                tool_calls=[RawToolCall(id="abcDEF123", name="read", arguments='{"path": "clock.py"}')],
            ),
            Message(role="tool", tool_call_id="abcDEF123", name="read", content="1: def now(): ..."),
            Message(role="user", content="Go on — vite, s'il te plaît."),
        ],
        tools=[READ, EDIT],
        reasoning_effort=effort,
    )


@pytest.mark.parametrize("effort", ["none", "high"])
def test_render_matches_vllm_chat_template(fmt: MistralFormat, vllm_tokenizer: Any, effort: Effort) -> None:
    request = conversation(effort)
    expected = vllm_tokenizer.apply_chat_template(
        to_openai_messages(request.messages),
        tools=openai_tools(request),
        reasoning_effort=effort,
        add_generation_prompt=True,
    )
    assert fmt.render(request) == expected
    text = fmt.decode_keep_special(expected)
    assert '[AVAILABLE_TOOLS][{"type": "function", "function": {"name": "read"' in text
    assert '[TOOL_CALLS]read[ARGS]{"path": "clock.py"}' in text
    assert "[TOOL_RESULTS]1: def now(): ...[/TOOL_RESULTS]" in text


def test_effort_switch_changes_only_the_settings_block_of_the_first_user_turn(fmt: MistralFormat) -> None:
    none, high = (fmt.render(conversation(effort)) for effort in ("none", "high"))
    none_text, high_text = fmt.decode_keep_special(none), fmt.decode_keep_special(high)
    block = '[MODEL_SETTINGS]{"reasoning_effort": "high"}[/MODEL_SETTINGS][INST]Fix the clock.[/INST]'
    assert block in high_text
    assert high_text.replace('"high"', '"none"') == none_text
    common = next(i for i, (a, b) in enumerate(zip(none, high, strict=False)) if a != b)
    assert fmt.decode_keep_special(high[:common]).endswith('[MODEL_SETTINGS]{"reasoning_effort": "')
    invalidated = fmt.decode_keep_special(high[common:])  # a prefix cache cannot reuse any of it
    assert invalidated.startswith('high"}[/MODEL_SETTINGS][INST]Fix the clock.')
    assert "[TOOL_RESULTS]" in invalidated


def output_ids(fmt: MistralFormat, *parts: str | int) -> list[int]:
    ids: list[int] = []
    for part in parts:
        ids += [part] if isinstance(part, int) else fmt.encode(part)
    return ids


OUTPUTS: list[tuple[str, tuple[str | int, ...]]] = [
    ("text", ("Just text: naïve café 中文 🙂.",)),
    ("think then text", ("THINK", "plan: é 🙂 first", "/THINK", "Answer.")),
    (
        "calls",
        (
            "Reading.",
            "CALLS",
            "read",
            "ARGS",
            '{"path": "a.py"}',
            "CALLS",
            "edit",
            "ARGS",
            '{"path": "b", "mode": "all"}',
        ),
    ),
    (
        "think then call",
        ("THINK", "need the file", "/THINK", "CALLS", "read", "ARGS", '{"path": "ü.py", "limit": 3}'),
    ),
    ("malformed args", ("CALLS", "read", "ARGS", '{"path": "a.py",')),
]


def resolve(fmt: MistralFormat, parts: tuple[str | int, ...]) -> list[int]:
    marks = {
        "THINK": fmt.think_id,
        "/THINK": fmt.end_think_id,
        "CALLS": fmt.tool_calls_id,
        "ARGS": fmt.args_id,
    }
    return output_ids(fmt, *(marks.get(p, p) if isinstance(p, str) else p for p in parts))


@pytest.mark.parametrize(("label", "parts"), OUTPUTS, ids=[o[0] for o in OUTPUTS])
def test_parse_matches_vllm_mistral_parser(
    fmt: MistralFormat, vllm_tokenizer: Any, label: str, parts: tuple[str | int, ...]
) -> None:
    from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest
    from vllm.parser.mistral import MistralParser
    from vllm.tool_parsers.mistral_tool_parser import MistralToolParser

    ids = resolve(fmt, parts)
    parser = fmt.parser()
    chunks: list[TextChunk | ReasoningChunk] = []
    for token in [*ids, fmt.eos_id]:  # one token at a time, as the engine streams
        chunks += parser.feed([token])
    chunks += parser.flush()

    request = ChatCompletionRequest(
        messages=[{"role": "user", "content": "x"}],
        tools=openai_tools(ModelRequest(messages=[], tools=[READ, EDIT])),
        model="m",
    )
    text = fmt.decode_keep_special(ids)
    reasoning, _ = MistralParser(vllm_tokenizer).extract_reasoning(text, request)
    answer = text.rpartition("[/THINK]")[2]  # the reasoning parser drops call syntax from its content
    oracle = MistralToolParser(vllm_tokenizer).extract_tool_calls(answer, request)

    assert parser.reasoning == (reasoning or "")
    assert parser.content == (oracle.content or "")
    assert [(c.name, c.arguments) for c in parser.proposed_calls()] == [
        (c.function.name, c.function.arguments) for c in oracle.tool_calls
    ]
    assert "".join(c.text for c in chunks if isinstance(c, ReasoningChunk)) == parser.reasoning
    assert "".join(c.text for c in chunks if isinstance(c, TextChunk)) == parser.content
    assert all("\ufffd" not in c.text for c in chunks)  # no character split across chunks


def test_call_without_args_marker(fmt: MistralFormat) -> None:
    """`name{` starts the arguments (as vLLM reads it); a name alone has none (rejected by intake);
    text that is no name is an unparsed call."""
    for text, expected in (
        ("read {", ("read", "{")),
        ("read", ("read", None)),
        ("is it?", (UNPARSED, "is it?")),
    ):
        parser = fmt.parser()
        parser.feed(output_ids(fmt, "Hi ", fmt.tool_calls_id, text, fmt.eos_id))
        (call,) = parser.proposed_calls()
        assert (call.name, call.arguments) == expected
        assert parser.answer_content() == "Hi"


def test_a_call_is_parsed_from_its_token_ids(fmt: MistralFormat) -> None:
    parser = fmt.parser()
    prefix = [fmt.tool_calls_id, *fmt.encode("edit"), fmt.args_id]  # `[TOOL_CALLS]edit[ARGS]`
    parser.feed([*prefix, *fmt.encode(json.dumps({"path": "b", "mode": "once"}))])
    (call,) = parser.proposed_calls()
    assert call.name == "edit" and json.loads(str(call.arguments)) == {"path": "b", "mode": "once"}


def test_make_tiny_checks_its_sizes(
    tiny_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from trident.cli import main

    assert main(["engine", "make-tiny", str(tmp_path / "m"), "--hidden", "100"]) == 2
    assert "--hidden: Input should be a multiple of 64" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
    (tmp_path / "file").write_text("x")
    assert main(["engine", "make-tiny", str(tmp_path / "file")]) == 2
    assert f"cannot write {tmp_path / 'file'}" in capsys.readouterr().err
    params = json.loads((tiny_checkpoint / "params.json").read_text())
    assert params["moe"]["num_experts"] == 128 and params["moe"]["num_shared_experts"] == 1
    assert {"yarn", "llama_4_scaling"} <= params.keys() and params["kv_lora_rank"] == 512


def test_a_folder_that_is_not_a_checkpoint_is_refused_clearly(tmp_path: Path) -> None:
    from tests.engine.conftest import require_vllm
    from trident.agent.config import Settings
    from trident.agent.core.messages import BackendError
    from trident.agent.llm.resolve import make_backend

    require_vllm()
    (tmp_path / "params.json").write_text("{}")
    with pytest.raises(BackendError, match=r"missing consolidated\*\.safetensors, tekken\.json"):
        make_backend(f"vllm:{tmp_path}", Settings())
    with pytest.raises(BackendError, match="no checkpoint folder"):
        make_backend(f"vllm:{tmp_path / 'absent'}", Settings())


def test_bounded_strings_caps_every_free_string_of_a_schema() -> None:
    from trident.agent.llm.tiny_checkpoint import bounded_strings

    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "mode": {"type": "string", "enum": ["a", "b"]},
            "short": {"type": "string", "maxLength": 4},
            "edits": {
                "type": "array",
                "items": {"type": "object", "properties": {"old": {"type": "string"}}},
            },
        },
    }
    out = bounded_strings(schema, 8)
    props = out["properties"]
    assert props["path"]["maxLength"] == 8 and props["short"]["maxLength"] == 4
    assert "maxLength" not in props["mode"]
    assert props["edits"]["items"]["properties"]["old"]["maxLength"] == 8
    assert "maxLength" not in schema["properties"]["path"]  # a copy
