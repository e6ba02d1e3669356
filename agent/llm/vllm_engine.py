"""`vllm:PATH`: the embedded vLLM engine, in process (no HTTP server).

An `AsyncLLM` loads a Mistral-native checkpoint folder (`params.json`, `consolidated*.safetensors`,
`tekken.json`). Each turn is rendered with mistral_common to token ids (`mistral_format`), generated
under Mistral's tool grammar (`forced_args`), streamed as text and reasoning deltas parsed from the
output token ids, and its tool calls checked; a call with bad arguments is regenerated under its
schema before intake would tell the model. vLLM is imported lazily: without it the other backends
work and this one says how to install it.

One engine per checkpoint and settings is shared by every backend of the process (batch workers,
benchmark sessions); it belongs to the event loop that first uses it and is shut down at exit.
vLLM starts its workers with spawn: a script using this needs the `if __name__ == "__main__":` guard.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import re
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from trident.agent.config import EngineConfig, Settings
from trident.agent.core.events import Usage
from trident.agent.core.messages import (
    Backend,
    BackendError,
    CallSyntax,
    Chunk,
    Completion,
    ModelRequest,
    ProposedCall,
)
from trident.agent.intake.calls import Accepted
from trident.agent.llm.engine_plan import Device, detect_device, plan
from trident.agent.llm.forced_args import ArgumentChecker, ForcingStats, ToolGrammars, guided_schema
from trident.agent.llm.mistral_format import MistralFormat, OutputParser, load_tokenizer
from trident.tools.base import ToolSpec

if TYPE_CHECKING:
    from vllm import SamplingParams
    from vllm.v1.engine.async_llm import AsyncLLM

INSTALL_HINT = (
    "vllm:PATH needs the vLLM engine, which is not installed: "
    "pip install 'trident-agent[gpu]' (CUDA) or 'trident-agent[cpu]' (CPU build)"
)
_REGENERATE_MAX_TOKENS = 1024
# Mistral Small 4's recommended context (its card: 256K); its config advertises 1M through YaRN.
RECOMMENDED_CONTEXT = 262_144
AUTO_FIT = -1  # vLLM: the longest context the KV cache memory holds, up to the model's own
_LIVENESS_S = 1.0  # how often a waiting request checks that the engine still lives


def vllm_missing() -> str | None:
    """Why the engine cannot be used here, or None when vLLM imports."""
    try:
        import vllm  # noqa: F401
    except ImportError as exc:
        return f"{INSTALL_HINT} ({exc})"
    return None


def quiet_vllm_logs() -> None:
    """vLLM logs to stdout by default; `trident run --json` owns stdout. Children inherit this."""
    os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")


def check_checkpoint(path: Path) -> None:
    missing = [
        what
        for what, present in (
            ("params.json", (path / "params.json").is_file()),
            ("consolidated*.safetensors", any(path.glob("consolidated*.safetensors"))),
            ("tekken.json", (path / "tekken.json").is_file()),
        )
        if not present
    ]
    if not path.is_dir():
        raise BackendError(f"vllm:{path}: no checkpoint folder there")
    if missing:
        raise BackendError(
            f"vllm:{path}: not a Mistral-native checkpoint (missing {', '.join(missing)}); "
            "make a test one with `trident engine make-tiny DIR`"
        )


def engine_args(path: Path, config: EngineConfig, device: Device | None = None) -> Any:
    """vLLM's engine arguments for a Mistral-native checkpoint and the `[engine]` settings (those that
    apply on this device: `engine_plan`)."""
    from vllm.config import StructuredOutputsConfig
    from vllm.engine.arg_utils import AsyncEngineArgs

    device = device or detect_device()
    extra = plan(config, device).engine_kwargs()
    if config.moe_configs_dir is not None:
        os.environ["VLLM_TUNED_CONFIG_FOLDER"] = str(Path(config.moe_configs_dir).expanduser())
    if config.max_model_len is not None:
        extra["max_model_len"] = config.max_model_len
    if config.kv_cache_gib is not None:
        if device.kind == "cpu":
            os.environ["VLLM_CPU_KVCACHE_SPACE"] = str(config.kv_cache_gib)
        else:
            extra["kv_cache_memory_bytes"] = config.kv_cache_gib * 2**30
    return AsyncEngineArgs(
        model=str(path),
        tokenizer_mode="mistral",
        config_format="mistral",
        load_format="mistral",
        language_model_only=config.language_model_only,
        quantization=config.quantization,
        enable_prefix_caching=config.prefix_caching,
        dtype=config.dtype,
        enforce_eager=config.enforce_eager,
        seed=config.seed,
        structured_outputs_config=StructuredOutputsConfig(backend="guidance", disable_any_whitespace=True),
        disable_log_stats=True,
        **extra,
    )


@dataclass
class Engine:
    """A loaded model: the vLLM engine and the checkpoint's Mistral format."""

    path: Path
    config: EngineConfig
    llm: AsyncLLM
    fmt: MistralFormat
    load_s: float
    max_model_len: int

    @property
    def key(self) -> str:
        return _key(self.path, self.config)

    @property
    def prefix_caching(self) -> bool:
        """Whether vLLM caches prompt prefixes (its CPU build turns it off for MLA without AMX)."""
        return bool(self.llm.vllm_config.cache_config.enable_prefix_caching)

    @property
    def dead(self) -> bool:
        """The engine's core process is gone (or its output loop ended): it answers nothing more."""
        return bool(self.llm.errored)

    def shutdown(self) -> None:
        self.llm.shutdown()
        # AsyncLLM.__del__ shuts down again; at interpreter exit vLLM's module globals are gone by
        # then and it prints a TypeError. It is done already.
        self.llm.__dict__["shutdown"] = lambda timeout=None: None


_ENGINES: dict[str, Engine] = {}
_RESTARTS: dict[str, int] = {}  # restarts done per engine key; past `max_restarts` the key is given up


class EngineGivenUp(BackendError):
    """The engine died more often than `[engine] max_restarts` allows: trident no longer starts it."""


def _key(path: Path, config: EngineConfig) -> str:
    return json.dumps([str(path), config.model_dump()], sort_keys=True)


def shared_engine(path: Path, config: EngineConfig) -> Engine:
    """The process's engine for this checkpoint and settings, loaded on first use."""
    reason = vllm_missing()
    if reason is not None:
        raise BackendError(reason)
    path = path.resolve()
    check_checkpoint(path)
    key = _key(path, config)
    if _RESTARTS.get(key, 0) > config.max_restarts:
        raise _given_up(path, config)
    if key not in _ENGINES:
        _ENGINES[key] = _start(path, config)
    return _ENGINES[key]


def restarted(engine: Engine) -> tuple[Engine, str]:
    """A live engine in place of a dead one, evicted from the process's cache and started anew (unless
    another backend sharing it did that already), and the notice saying so. At most
    `[engine] max_restarts` times per process: after that, `EngineGivenUp`."""
    current = _ENGINES.get(engine.key)
    if current is not None and current is not engine and not current.dead:
        return current, ""
    _ENGINES.pop(engine.key, None)
    with contextlib.suppress(Exception):  # it is dead already; what is left must not stop the restart
        engine.shutdown()
    done = _RESTARTS.get(engine.key, 0)
    if done >= engine.config.max_restarts:
        _RESTARTS[engine.key] = done + 1
        raise _given_up(engine.path, engine.config)
    _RESTARTS[engine.key] = done + 1
    notice = (
        f"vllm:{engine.path}: the engine died and was restarted "
        f"(restart {done + 1} of at most {engine.config.max_restarts} in this process)"
    )
    print(f"trident: engine: {notice}", file=sys.stderr)
    return shared_engine(engine.path, engine.config), notice


def _given_up(path: Path, config: EngineConfig) -> EngineGivenUp:
    return EngineGivenUp(
        f"vllm:{path}: the engine died again after {config.max_restarts} restart(s) "
        "([engine] max_restarts); it is not started again in this process: see its log on stderr "
        "for the cause (often memory), then run trident again"
    )


def _start(path: Path, config: EngineConfig) -> Engine:
    quiet_vllm_logs()
    from vllm.v1.engine.async_llm import AsyncLLM

    fmt = MistralFormat(load_tokenizer(path))
    args = engine_args(path, config)
    lengths: list[int | None] = [config.max_model_len]
    if config.max_model_len is None:  # the recommended context, or what the memory holds
        derived = _model_context(path, args)
        lengths = [RECOMMENDED_CONTEXT, AUTO_FIT] if derived > RECOMMENDED_CONTEXT else [AUTO_FIT]
    for attempt, length in enumerate(lengths, 1):
        args.max_model_len = length
        started = time.monotonic()
        with StartupLog() as log:
            try:
                llm = AsyncLLM.from_engine_args(args)
            except Exception as exc:  # vLLM raises many kinds; all mean the model did not load
                cause = log.cause_of(exc)
                if attempt < len(lengths) and "KV cache" in cause:
                    print(
                        f"trident: engine: a {length}-token context does not fit the KV cache; "
                        "taking the longest that does",
                        file=sys.stderr,
                    )
                    continue
                raise BackendError(f"vllm:{path}: the engine did not start: {cause}") from exc
        return Engine(path, config, llm, fmt, time.monotonic() - started, int(llm.model_config.max_model_len))
    raise AssertionError("unreachable: the last attempt returns or raises")


def _model_context(path: Path, args: Any) -> int:
    """The context the checkpoint's config advertises (vLLM's derivation, YaRN included)."""
    try:
        return int(args.create_model_config().max_model_len)
    except Exception as exc:
        raise BackendError(
            f"vllm:{path}: the checkpoint's params.json is not usable: {_one_line(exc)}"
        ) from exc


def _one_line(exc: BaseException) -> str:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= 400 else text[:400] + "..."


# An exception line of a traceback, after the prefixes of vLLM's worker logs:
# `(Worker pid=N) ERROR 12-06 02:25:05 [multiproc_executor.py:953] SafetensorError: ...`
_EXCEPTION_LINE = re.compile(
    r"^(?:\([\w-]+ pid=\d+\) )?(?:[A-Z]+ \d\d-\d\d [\d:]+ \[[^\]]*\] )?"
    r"([A-Za-z_][\w.]*(?:Error|Exception|Exit)\b:? .*)$"
)
_GENERIC = ("root cause", "Engine core initialization failed")


class StartupLog:
    """Everything written to fd 2 while the engine starts (its worker processes inherit it), still
    shown on stderr, and kept so a failure's one-line reason can name the first real cause (vLLM's
    own exception only says "see root cause above", 200 lines of worker log earlier)."""

    def __init__(self) -> None:
        self.lines: deque[str] = deque(maxlen=4000)
        self._thread: threading.Thread | None = None

    def __enter__(self) -> StartupLog:
        sys.stderr.flush()
        self._stderr = os.dup(2)  # stays open: workers write on through the pump after start-up
        reader, writer = os.pipe()
        os.dup2(writer, 2)
        os.close(writer)
        self._thread = threading.Thread(target=self._pump, args=(reader,), daemon=True)
        self._thread.start()
        return self

    def _pump(self, reader: int) -> None:
        with os.fdopen(reader, "rb") as pipe:  # ends when the last process holding it is gone
            for line in pipe:
                os.write(self._stderr, line)
                self.lines.append(line.decode("utf-8", errors="replace").rstrip("\n"))

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        sys.stderr.flush()
        os.dup2(self._stderr, 2)

    def cause_of(self, exc: BaseException) -> str:
        """The first real cause of a failed start: vLLM's own message unless it points at the log."""
        own = _one_line(exc)
        if not any(generic in own for generic in _GENERIC):
            return own
        if self._thread is not None:
            self._thread.join(timeout=10)  # the failed workers are gone: the pipe ends
        for line in list(self.lines):
            match = _EXCEPTION_LINE.match(line)
            if match and not any(generic in match.group(1) for generic in _GENERIC):
                return " ".join(match.group(1).split())[:400]
        return own + " (no cause found in the engine's log above)"


@atexit.register
def shutdown_engines() -> None:
    while _ENGINES:
        _, engine = _ENGINES.popitem()
        engine.shutdown()


class _EngineDied(Exception):
    """The engine's process died under a request."""


class VllmBackend:
    """The `Backend` over an embedded engine. `force_tool` makes every turn one call of that tool
    (benchmarks and tests: random weights never choose a tool on their own)."""

    call_syntax: CallSyntax = "raw"  # the model writes `name[ARGS]{json}` after [TOOL_CALLS]

    def __init__(self, engine: Engine, *, force_tool: str | None = None) -> None:
        self.engine = engine
        self.name = f"vllm:{engine.path}"
        self.force_tool = force_tool
        self.stats = ForcingStats()
        self._grammars = ToolGrammars(engine.fmt)
        self._checker = ArgumentChecker()

    @property
    def max_tokens(self) -> int:
        return self.engine.config.max_tokens

    async def context_length(self) -> int:
        return self.engine.max_model_len

    async def stream(self, request: ModelRequest) -> AsyncIterator[Chunk]:
        """One turn; a dead engine is restarted first, and once more when it dies before answering (each
        restart counts against `[engine] max_restarts` and is reported in the completion's notices)."""
        notices: list[str] = []
        for attempt in (1, 2):
            if self.engine.dead:
                self.engine, notice = restarted(self.engine)
                notices += [notice] if notice else []
            answered = False
            try:
                async for chunk in self._turn(request):
                    answered = True
                    if isinstance(chunk, Completion) and notices:
                        chunk = chunk.model_copy(update={"notices": notices})
                    yield chunk
                return
            except _EngineDied as died:
                if answered or attempt == 2:
                    left = self.engine.config.max_restarts - _RESTARTS.get(self.engine.key, 0)
                    then = "it restarts at the next request" if left > 0 else "no restart is left"
                    raise BackendError(f"{self.name}: {died}; {then}") from died

    async def _turn(self, request: ModelRequest) -> AsyncIterator[Chunk]:
        fmt, config = self.engine.fmt, self.engine.config
        prompt = fmt.render(request)
        room = self.engine.max_model_len - len(prompt)
        if room < 1:
            raise BackendError(
                f"the prompt ({len(prompt)} tokens) does not fit the context ({self.engine.max_model_len})"
            )
        grammar = self._grammar(request)
        params = self._sampling(
            request, min(request.max_tokens or config.max_tokens, room), grammar=grammar, stream=True
        )
        self.stats.turns += 1
        self.stats.grammar_turns += grammar is not None
        parser = fmt.parser()
        finish: str | None = None
        async for output in self._generate(prompt, params):
            for chunk in parser.feed(list(output.token_ids)):
                yield chunk
            finish = output.finish_reason or finish
        for chunk in parser.flush():
            yield chunk
        calls, extra_tokens = await self._checked_calls(request, prompt, parser)
        yield Completion(
            content=parser.answer_content(),
            reasoning=parser.reasoning,
            tool_calls=calls,
            usage=Usage(input_tokens=len(prompt), output_tokens=len(parser.tokens) + extra_tokens),
            finish_reason=finish,
            calls_parsed=True,  # on token ids: `[TOOL_CALLS]` written as plain text is text
        )

    def _grammar(self, request: ModelRequest) -> str | None:
        if self.force_tool is not None:
            tool = next((t for t in request.tools if t.name == self.force_tool), None)
            if tool is None:
                raise BackendError(f"force_tool={self.force_tool!r} is not among the request's tools")
            return self._grammars.forced_call(tool)
        if self.engine.config.tool_grammar == "lark":
            if request.tool_choice == "required" and request.tools:
                return self._grammars.calls_only(request)
            return self._grammars.turn(request)
        return None

    def _sampling(
        self,
        request: ModelRequest,
        max_tokens: int,
        *,
        grammar: str | None = None,
        schema: dict[str, Any] | None = None,
        stream: bool,
    ) -> SamplingParams:
        from vllm import SamplingParams
        from vllm.sampling_params import RequestOutputKind, StructuredOutputsParams

        constraint = None
        if grammar is not None:
            constraint = StructuredOutputsParams(grammar=grammar)
        elif schema is not None:
            constraint = StructuredOutputsParams(json=schema)
        temperature = request.temperature
        return SamplingParams(
            max_tokens=max_tokens,
            temperature=self.engine.config.temperature if temperature is None else temperature,
            output_kind=RequestOutputKind.DELTA if stream else RequestOutputKind.FINAL_ONLY,
            detokenize=False,
            skip_special_tokens=False,
            structured_outputs=constraint,
        )

    async def _generate(self, prompt: list[int], params: SamplingParams) -> AsyncIterator[Any]:
        """The first sequence of each step's output; engine failures become `BackendError`.

        Each step is awaited beside a check that the engine lives: a request made just as the engine
        died is never answered by vLLM (its output loop is gone), so waiting alone would hang."""
        try:
            outputs = self.engine.llm.generate(await self.engine_input(prompt), params, uuid.uuid4().hex)
            while True:
                step = asyncio.ensure_future(anext(outputs))
                while not (await asyncio.wait({step}, timeout=_LIVENESS_S))[0]:
                    if self.engine.dead:
                        step.cancel()
                        raise _EngineDied("the engine died")
                try:
                    output = step.result()
                except StopAsyncIteration:
                    return
                yield output.outputs[0]
        except _EngineDied:
            raise
        except Exception as exc:  # EngineDeadError, ValueError from input checks...
            if self.engine.dead:
                raise _EngineDied(f"the engine died: {_one_line(exc)}") from exc
            raise BackendError(f"{self.name}: generation failed: {_one_line(exc)}") from exc

    async def engine_input(self, prompt: list[int]) -> Any:
        """The prompt's token ids as vLLM's renderer makes them into an engine input: its supported path
        (0.32 deprecates handing raw prompts to the input processor). The ids pass through unchanged."""
        from vllm.inputs import TokensPrompt

        renderer = self.engine.llm.renderer
        (engine_input,) = await renderer.render_cmpl_async(
            [TokensPrompt(prompt_token_ids=prompt)], renderer.default_cmpl_tok_params
        )
        return engine_input

    async def _checked_calls(
        self, request: ModelRequest, prompt: list[int], parser: OutputParser
    ) -> tuple[list[ProposedCall], int]:
        """The turn's calls, each with arguments regenerated under its schema when they fail it."""
        config = self.engine.config
        checker = self._checker.for_tools(request.tools)
        extra_tokens = 0
        checked: list[ProposedCall] = []
        for parsed, call in parser.call_pairs():
            self.stats.calls += 1
            arguments = call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)
            verdict = checker.check(call.name, arguments)
            if isinstance(verdict, Accepted):
                self.stats.valid_as_generated += 1
                checked.append(call)
                continue
            tool = checker.regenerable(verdict) if config.regenerate_arguments else None
            if tool is None or parsed.args_start is None:
                self.stats.not_regenerable += 1
                checked.append(call)
                continue
            fresh, used = await self.regenerate(request, prompt + parser.tokens[: parsed.args_start], tool)
            extra_tokens += used
            if isinstance(checker.check(tool.name, fresh), Accepted):
                self.stats.regenerated_valid += 1
                checked.append(call.model_copy(update={"arguments": fresh}))
            else:
                self.stats.regenerated_invalid += 1
                checked.append(call)
        return checked, extra_tokens

    async def regenerate(self, request: ModelRequest, prefix: list[int], tool: ToolSpec) -> tuple[str, int]:
        """Arguments for `tool` generated after `prefix` (which ends in `[ARGS]`) under its JSON schema."""
        room = self.engine.max_model_len - len(prefix)
        params = self._sampling(
            request,
            max(1, min(_REGENERATE_MAX_TOKENS, room)),
            schema=guided_schema(tool.parameters),
            stream=False,
        )
        tokens: list[int] = []
        async for output in self._generate(prefix, params):
            tokens = list(output.token_ids)
        fmt = self.engine.fmt
        return fmt.decode([t for t in tokens if t != fmt.eos_id]).strip(), len(tokens)

    async def aclose(self) -> None:
        if self.stats.turns:
            print(f"trident: engine: {self.stats.summary()}", file=sys.stderr)


def make_vllm_backend(path: str, settings: Settings) -> Backend:
    return VllmBackend(shared_engine(Path(path).expanduser(), settings.engine))
