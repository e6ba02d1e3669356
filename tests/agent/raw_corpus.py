"""Raw model outputs as a server without a tool parser returns them, and what trident makes of each
(reasoning, content, calls), with vLLM's own Mistral parser's answer where it differs and why.

`tests/agent/test_raw_calls.py` checks trident against the recorded expectations;
`tests/engine/test_parser_agreement.py` checks them against vLLM's parser classes themselves (and
the token-level parser of the embedded engine against the same expectations).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    text: str
    content: str
    calls: list[tuple[str, str | None]]
    reasoning: str = ""
    # vLLM's (content, calls) where trident decides otherwise on purpose, and why; None: they agree
    vllm: tuple[str, list[tuple[str, str]], str] | None = None
    tokens: bool = True  # also a token sequence the engine can produce (not text-only ambiguity)


A = '{"path": "a.py"}'
CORPUS: dict[str, Case] = {
    "text only": Case("Just text.", "Just text.", []),
    "text with whitespace, no calls": Case("  Just text\n", "  Just text\n", []),
    "content then a call": Case(f"Reading.[TOOL_CALLS]read[ARGS]{A}", "Reading.", [("read", A)]),
    "two calls": Case(
        f'[TOOL_CALLS]read[ARGS]{A}[TOOL_CALLS]edit[ARGS]{{"path": "b", "mode": "all"}}',
        "",
        [("read", A), ("edit", '{"path": "b", "mode": "all"}')],
    ),
    "no [ARGS] (dropped by skip_special_tokens)": Case(f"[TOOL_CALLS]read{A}", "", [("read", A)]),
    "text after the arguments": Case(f"[TOOL_CALLS]read[ARGS]{A} and then some text", "", [("read", A)]),
    "two JSON values": Case(f'[TOOL_CALLS]read[ARGS]{A}{{"path": "b.py"}}', "", [("read", A)]),
    "text between calls": Case(
        f'[TOOL_CALLS]read[ARGS]{A} blah [TOOL_CALLS]edit[ARGS]{{"path": "b", "mode": "all"}}',
        "",
        [("read", A), ("edit", '{"path": "b", "mode": "all"}')],
    ),
    "cut right after the name": Case(
        "[TOOL_CALLS]read",
        "",
        [("read", None)],
        vllm=("", [("read", "{}")], "a call the model never finished is not run: intake rejects it"),
    ),
    "empty arguments": Case(
        "[TOOL_CALLS]read[ARGS]",
        "",
        [("read", "")],
        vllm=("", [("read", "{}")], "the same call: intake reads empty arguments as {}"),
    ),
    "cut inside the arguments": Case(
        '[TOOL_CALLS]read[ARGS]{"path": "a.py",', "", [("read", '{"path": "a.py",')]
    ),
    "whitespace-only content": Case(f"  \n[TOOL_CALLS]read[ARGS]{A}", "", [("read", A)]),
    "trailing whitespace before the calls": Case(f"Text  \n[TOOL_CALLS]read[ARGS]{A}", "Text", [("read", A)]),
    "leading whitespace before the calls": Case(
        f"  Text  \n[TOOL_CALLS]read[ARGS]{A}", "Text", [("read", A)]
    ),
    "a marker and nothing else": Case(
        "[TOOL_CALLS]",
        "",
        [("unparsed_tool_call", "")],
        vllm=("", [], "a call was started: the model is told, the run does not end as answered"),
    ),
    "a marker left at the end": Case(
        f"[TOOL_CALLS]read[ARGS]{A}[TOOL_CALLS]",
        "",
        [("read", A), ("unparsed_tool_call", "")],
        vllm=("", [("read", A)], "a call was started: the model is told"),
    ),
    "spaces around name and arguments": Case(
        f"[TOOL_CALLS] read [ARGS] {A} ", "", [("read", A)], tokens=False
    ),
    "end of sequence text": Case(f"[TOOL_CALLS]read[ARGS]{A}</s>", "", [("read", A)]),
    "call id": Case(
        '[TOOL_CALLS]read[CALL_ID]abc123XYZ[ARGS]{"path": "a"}',
        "",
        [("read", '{"path": "a"}')],
        vllm=("", [("readabc123XYZ", '{"path": "a"}')], "[CALL_ID] separates the id from the name"),
    ),
    "pre-v11 list form": Case(
        '[TOOL_CALLS][{"name": "read", "arguments": {"path": "a"}}]',
        "",
        [("read", '{"path": "a"}')],
        vllm=(
            "",
            [("[", '{"name": "read", "arguments": {"path": "a"}}')],
            "the older list form is understood",
        ),
        tokens=False,
    ),
    "unknown tool": Case('[TOOL_CALLS]nosuch[ARGS]{"x": 1}', "", [("nosuch", '{"x": 1}')]),
    "an array as arguments": Case("[TOOL_CALLS]read[ARGS][1, 2]", "", [("read", "[1, 2]")]),
    "a string as arguments": Case('[TOOL_CALLS]read[ARGS]"a.py"', "", [("read", '"a.py"')]),
    "not JSON": Case("[TOOL_CALLS]read[ARGS]not json", "", [("read", "not json")]),
    "marker inside a JSON string": Case(
        '[TOOL_CALLS]read[ARGS]{"path": "[TOOL_CALLS]x"}',
        "",
        [("read", '{"path": "[TOOL_CALLS]x"}')],
        vllm=("", [("read", '{"path": "'), ('x"}', "{}")], "the arguments are one JSON value"),
        tokens=False,
    ),
    "repeated marker": Case(
        '[TOOL_CALLS][TOOL_CALLS]read[ARGS]{"path": "a"}',
        "",
        [("read", '{"path": "a"}')],
        vllm=("", [("[TOOL_CALLS]read", '{"path": "a"}')], "repeated markers count once"),
    ),
    "empty object": Case("[TOOL_CALLS]read[ARGS]{}", "", [("read", "{}")]),
    "fenced arguments": Case(
        '[TOOL_CALLS]read[ARGS]```json\n{"path": "a"}\n```', "", [("read", '```json\n{"path": "a"}\n```')]
    ),
    "trailing comma": Case('[TOOL_CALLS]read[ARGS]{"path": "a",}', "", [("read", '{"path": "a",}')]),
    "a name with a space": Case('[TOOL_CALLS]re ad[ARGS]{"path": "a"}', "", [("re ad", '{"path": "a"}')]),
    "newline after the call": Case('[TOOL_CALLS]read[ARGS]{"path": "a"}\n', "", [("read", '{"path": "a"}')]),
    "reasoning, content, call": Case(
        '[THINK]hm[/THINK]Ok.[TOOL_CALLS]read[ARGS]{"path": "a"}', "Ok.", [("read", '{"path": "a"}')], "hm"
    ),
    "reasoning mid-text": Case("Hm.[THINK]x[/THINK]Reading.", "Hm.Reading.", [], "x"),
    "reasoning then whitespace then a call": Case(
        "[THINK]x[/THINK]  \n[TOOL_CALLS]read[ARGS]{}", "", [("read", "{}")], "x"
    ),
    "reasoning cut short": Case("[THINK]cut", "", [], "cut"),
    "a call from inside reasoning": Case("[THINK]x[TOOL_CALLS]read[ARGS]{}", "", [("read", "{}")], "x"),
}
