"""`vllm:PATH`: the embedded vLLM engine. Declared here, imported lazily; built by the engine issue."""

from __future__ import annotations

from pathlib import Path

from agent.llm.base import Backend, BackendError


def make_vllm_backend(path: str) -> Backend:
    try:
        import vllm  # noqa: F401
    except ImportError:
        raise BackendError(
            "vllm:PATH needs the vLLM engine, which is not installed: "
            "pip install 'trident[gpu]' (CUDA) or 'trident[cpu]' (CPU build)"
        ) from None
    if not Path(path).is_dir():
        raise BackendError(
            f"vllm:{path}: no checkpoint folder there (params.json, consolidated*.safetensors)"
        )
    raise BackendError("the embedded vLLM backend is not available in this version of trident yet")
