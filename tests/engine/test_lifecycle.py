"""The engine's start-up and life: a bad tokenizer file is a one-line exit 5, a failed start names
its first real cause, the default context is the model's recommended one, and a dead engine is
evicted from the process and restarted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.test_engine import ask, collect
from tests.helpers import make_workspace
from trident.agent.config import EngineConfig
from trident.agent.core.messages import BackendError
from trident.agent.llm import vllm_engine
from trident.agent.llm.vllm_engine import RECOMMENDED_CONTEXT, EngineGivenUp, VllmBackend, shared_engine


def descendants() -> set[int]:
    """The pids of this process's children, theirs, and so on (from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def variant(tiny: Path, where: Path, **files: bytes) -> Path:
    """A checkpoint like `tiny` with some of its files replaced."""
    where.mkdir(parents=True)
    for name in ("params.json", "consolidated.safetensors", "tekken.json"):
        if name in files:
            (where / name).write_bytes(files[name])
        else:
            (where / name).symlink_to(tiny / name)
    return where


def test_a_garbage_tokenizer_file_exits_5_in_one_line(tiny_checkpoint: Path, tmp_path: Path) -> None:
    bad = variant(tiny_checkpoint, tmp_path / "bad", **{"tekken.json": b'{"config": "garbage'})
    repo = make_workspace(tmp_path / "repo", {"a.txt": "x\n"})
    result = subprocess.run(
        [sys.executable, "-m", "trident", "run", "--repo", str(repo), "--task", "t", "--model", f"vllm:{bad}",
         "--sandbox", "local"],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 5, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "tekken.json" in line]
    assert "not a usable Tekken tokenizer file" in line


def test_a_failed_start_names_its_first_real_cause(tiny_checkpoint: Path, tmp_path: Path) -> None:
    """The weights fail to load in a worker process; vLLM's own error only says "see root cause above"."""
    weights = (tiny_checkpoint / "consolidated.safetensors").read_bytes()[:5_000_000]
    bad = variant(tiny_checkpoint, tmp_path / "cut", **{"consolidated.safetensors": weights})
    config = EngineConfig(max_model_len=4096, kv_cache_gib=1, enforce_eager=True)
    with pytest.raises(BackendError) as caught:
        shared_engine(bad, config)
    reason = str(caught.value)
    assert "\n" not in reason and "root cause above" not in reason
    assert "SafetensorError: Error while deserializing header" in reason


@pytest.mark.asyncio(loop_scope="session")  # the engines belong to one event loop
async def test_default_context_and_a_dead_engine_is_restarted_once(
    tiny_checkpoint: Path, tmp_path: Path
) -> None:
    params = json.loads((tiny_checkpoint / "params.json").read_text())
    params["max_position_embeddings"] = 1_048_576  # advertised like Mistral Small 4's config: 1M
    model = variant(tiny_checkpoint, tmp_path / "m", **{"params.json": json.dumps(params).encode()})
    config = EngineConfig(kv_cache_gib=1, enforce_eager=True, max_tokens=16, seed=1)  # no max_model_len
    before = descendants()
    engine = shared_engine(model, config)
    try:
        assert engine.max_model_len == RECOMMENDED_CONTEXT  # 256K, not the advertised 1M
        backend = VllmBackend(engine, force_tool="read")
        assert await backend.context_length() == RECOMMENDED_CONTEXT
        for pid in descendants() - before:
            os.kill(pid, signal.SIGKILL)  # the engine's processes die, as on an out-of-memory kill
        _, completion = await collect(backend, ask(max_tokens=16))  # restarted, then answered
        assert completion.tool_calls[0].name == "read"
        restart = "the engine died and was restarted (restart 1 of at most 1 in this process)"
        assert completion.notices == [f"vllm:{model.resolve()}: {restart}"]
        assert backend.engine is not engine and engine.dead and not backend.engine.dead
        assert shared_engine(model, config) is backend.engine  # the process's cache holds the new one
        _, completion = await collect(backend, ask(max_tokens=16))
        assert completion.tool_calls[0].name == "read" and completion.notices == []
        for pid in descendants() - before:
            os.kill(pid, signal.SIGKILL)  # it dies again: past [engine] max_restarts (1)
        with pytest.raises(
            EngineGivenUp, match=r"died again after 1 restart\(s\) \(\[engine\] max_restarts\)"
        ):
            await collect(backend, ask(max_tokens=16))
        with pytest.raises(EngineGivenUp):  # nor does a new backend (a batch's next worker) start it
            shared_engine(model, config)
    finally:
        live = vllm_engine._ENGINES.pop(engine.key, None)
        if live is not None:
            live.shutdown()


def test_the_start_log_still_reaches_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    with vllm_engine.StartupLog() as log:
        os.write(2, b"(Worker pid=1) ERROR 12-06 02:25:05 [x.py:1] ValueError: boom\n")
    assert log.cause_of(RuntimeError("Engine core initialization failed. See root cause above.")) == (
        "ValueError: boom"
    )
    assert "ValueError: boom" in capfd.readouterr().err
    assert log.cause_of(ValueError("plain")) == "ValueError: plain"
