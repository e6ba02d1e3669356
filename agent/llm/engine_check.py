"""`trident engine check`: what the `[engine]` settings (a profile among them) do on this machine, and
one real tool call and one reasoning call through the embedded engine before any task.

The report: the device; each serving setting with its value, its source and whether it applies here
(`engine_plan`); what vLLM itself took once started (context, batch tokens, prefix caching); the
two calls; a verdict. The tool call is forced (one call of a small bounded tool, under Mistral's
grammar) and judged by intake, as an agent turn's would be; the reasoning call asks at effort high
and must complete (a random-weight test checkpoint writes no `[THINK]` block: a warning, not a
failure). Exit 0 when both work, 1 otherwise.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

from trident.agent.config import EngineConfig
from trident.agent.core.messages import BackendError, Completion, Message, ModelRequest
from trident.agent.intake.calls import Accepted
from trident.agent.llm.engine_plan import Device, Plan, detect_device, plan
from trident.agent.llm.forced_args import ArgumentChecker
from trident.agent.llm.vllm_engine import Engine, VllmBackend, quiet_vllm_logs, shared_engine
from trident.tools.base import ToolSpec

STATUS_TOOL = ToolSpec(
    name="report_status",
    description="Report the status of the check.",
    parameters={
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["ok", "degraded"]},
            "note": {"type": "string", "maxLength": 24},
        },
        "required": ["status", "note"],
        "additionalProperties": False,
    },
)
TOOL_PROMPT = "This is a self-test. Call report_status with status ok and a short note."
REASONING_PROMPT = "What is 17 * 23? Think it through, then answer with the number only."

Print = Callable[[str], None]


def served(engine: Engine) -> str:
    """What vLLM took, once started: it may override what was asked (the CPU build does)."""
    config = engine.llm.vllm_config
    spec = config.speculative_config
    backend = config.attention_config.backend
    return (
        f"max_model_len {engine.max_model_len}, "
        f"max_num_batched_tokens {config.scheduler_config.max_num_batched_tokens}, "
        f"max_num_seqs {config.scheduler_config.max_num_seqs}, "
        f"prefix caching {'on' if engine.prefix_caching else 'off'}, "
        f"attention {backend.name if backend is not None else 'auto'}, "
        f"speculative decoding {f'{spec.method}, {spec.num_speculative_tokens} tokens' if spec else 'off'}"
    )


async def _complete(backend: VllmBackend, request: ModelRequest) -> tuple[Completion, float]:
    started = time.monotonic()
    completion: Completion | None = None
    async for chunk in backend.stream(request):
        if isinstance(chunk, Completion):
            completion = chunk
    assert completion is not None, "a backend stream ends with its completion"
    return completion, time.monotonic() - started


async def tool_call(engine: Engine, max_tokens: int) -> tuple[bool, str]:
    backend = VllmBackend(engine, force_tool=STATUS_TOOL.name)
    request = ModelRequest(
        messages=[Message(role="user", content=TOOL_PROMPT)], tools=[STATUS_TOOL], max_tokens=max_tokens
    )
    completion, took = await _complete(backend, request)
    if len(completion.tool_calls) != 1:
        return False, f"{len(completion.tool_calls)} calls instead of one ({took:.1f} s)"
    call = completion.tool_calls[0]
    arguments = call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)
    verdict = ArgumentChecker().for_tools([STATUS_TOOL]).check(call.name, arguments)
    how = "valid as generated" if backend.stats.valid_as_generated else "valid after regeneration"
    if not isinstance(verdict, Accepted):
        return False, f"{call.name} {arguments}: rejected by intake: {verdict.message} ({took:.1f} s)"
    return True, f"{call.name} {arguments} ({how}, {took:.1f} s)"


async def reasoning_call(engine: Engine, max_tokens: int) -> tuple[bool, str]:
    backend = VllmBackend(engine)
    request = ModelRequest(
        messages=[Message(role="user", content=REASONING_PROMPT)],
        reasoning_effort="high",
        temperature=0.7,  # the model card's sampling at effort high
        max_tokens=max_tokens,
    )
    completion, took = await _complete(backend, request)
    answer = " ".join(completion.content.split())[:60]
    thought = len(engine.fmt.encode(completion.reasoning)) if completion.reasoning else 0
    detail = (
        f"{thought} reasoning tokens, answer {answer!r}, finish {completion.finish_reason} ({took:.1f} s)"
    )
    if not completion.reasoning:
        detail += "; warning: no [THINK] block (Mistral Small 4 thinks at effort high; random weights do not)"
    return True, detail


async def _calls(engine: Engine, max_tokens: int, say: Print) -> bool:
    ok = True
    for name, call in (("tool call", tool_call), ("reasoning call", reasoning_call)):
        try:
            passed, detail = await call(engine, max_tokens)
        except BackendError as exc:
            passed, detail = False, str(exc)
        say(f"{name}: {'ok' if passed else 'FAILED'}: {detail}")
        ok = ok and passed
    return ok


def check(
    path: Path,
    config: EngineConfig,
    *,
    max_tokens: int = 1024,
    say: Print = print,
    device: Device | None = None,
) -> int:
    """The report, then the exit code: 0 when the engine starts and both calls work, else 1."""
    quiet_vllm_logs()
    device = device or detect_device()
    the_plan: Plan = plan(config, device)
    say(f"trident engine check: vllm:{path}")
    say(f"device: {device.describe()}")
    profile = f"profile {config.profile} (explicit settings override it)" if config.profile else "no profile"
    say(f"settings ({profile}):")
    for line in the_plan.lines():
        say(line)
    if the_plan.unavailable:
        names = ", ".join(e.setting for e in the_plan.unavailable)
        say(f"verdict: FAIL: this machine cannot honour {names}; change them or the profile")
        return 1
    started = time.monotonic()
    try:
        engine = shared_engine(path, config)
    except BackendError as exc:
        say(f"engine: FAILED to start: {exc}")
        say("verdict: FAIL: the engine does not start with these settings")
        return 1
    say(f"engine: started in {time.monotonic() - started:.1f} s; vLLM took: {served(engine)}")
    ok = asyncio.run(_calls(engine, max_tokens, say))
    say(
        "verdict: PASS: tool calls and reasoning work on this machine"
        if ok
        else "verdict: FAIL: see the failed call above"
    )
    return 0 if ok else 1
