"""What the `[engine]` settings become on this machine: the device, and for each serving setting the
value, where it came from (explicit, the profile, trident's default) and whether it applies here.

The profiles are written for GPUs (`config.ENGINE_PROFILES`); on the CPU build their GPU-only
settings are reported as not applicable and left out of vLLM's arguments, so a profile never stops
a CPU test run. A setting this machine cannot honour (more GPUs than are visible, an attention
backend the GPU does not support) is `unavailable`: `trident engine check` fails on it before
loading anything. vLLM is imported lazily (only `detect_device` needs it).
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from typing import Any, Literal

from trident.agent.config import EngineConfig

Status = Literal["applied", "not applicable", "unavailable", "off"]

# Attention backends and the GPUs they run on (vLLM 0.32: FLASH_ATTN_MLA is FlashAttention 3, Hopper only).
_BACKEND_CAPABILITY = {"FLASH_ATTN_MLA": (9,), "FLASHMLA": (9, 10), "CUTLASS_MLA": (10,)}


@dataclass(frozen=True)
class Device:
    kind: Literal["cpu", "cuda"]
    name: str
    count: int = 1
    capability: tuple[int, int] | None = None  # CUDA compute capability
    amx: bool = False  # CPU: AMX tiles, without which vLLM's CPU build turns prefix caching off for MLA

    def describe(self) -> str:
        if self.kind == "cpu":
            cores = os.cpu_count() or 1
            return f"CPU: {self.name}, {cores} cores, AMX {'yes' if self.amx else 'no'}"
        major, minor = self.capability or (0, 0)
        return f"{self.count} x {self.name} (sm_{major}{minor})"


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def detect_device() -> Device:
    """The device vLLM will run on (needs vLLM)."""
    import torch
    from vllm.platforms import current_platform

    if current_platform.is_cpu():
        try:
            amx = bool(torch.cpu._is_amx_tile_supported())
        except (AttributeError, RuntimeError):
            amx = False
        return Device("cpu", cpu_name(), amx=amx)
    return Device(
        "cuda",
        torch.cuda.get_device_name(0),
        count=max(1, int(torch.cuda.device_count())),
        capability=tuple(torch.cuda.get_device_capability(0)),
    )


@dataclass(frozen=True)
class Entry:
    setting: str
    value: Any
    source: Literal["explicit", "profile", "default"]
    status: Status
    note: str = ""


@dataclass
class Plan:
    """The settings as they will be asked of vLLM on `device`."""

    device: Device
    config: EngineConfig
    entries: list[Entry] = field(default_factory=list)

    @property
    def unavailable(self) -> list[Entry]:
        return [e for e in self.entries if e.status == "unavailable"]

    def applies(self, setting: str) -> bool:
        return any(e.setting == setting and e.status == "applied" for e in self.entries)

    def tensor_parallel_size(self) -> int:
        if self.device.kind == "cpu":
            return 1
        return self.config.tensor_parallel_size or self.device.count

    def engine_kwargs(self) -> dict[str, Any]:
        """The serving settings that apply here, as `AsyncEngineArgs` keywords."""
        config = self.config
        kwargs: dict[str, Any] = {"tensor_parallel_size": self.tensor_parallel_size()}
        if self.applies("gpu_memory_utilization"):
            kwargs["gpu_memory_utilization"] = config.gpu_memory_utilization
        if self.applies("attention_backend"):
            kwargs["attention_backend"] = config.attention_backend
        if self.applies("max_num_batched_tokens") and config.max_num_batched_tokens is not None:
            kwargs["max_num_batched_tokens"] = config.max_num_batched_tokens
        if config.max_num_seqs is not None:
            kwargs["max_num_seqs"] = config.max_num_seqs
        if self.applies("draft_model"):
            kwargs["speculative_config"] = speculative_config(config)
        return kwargs

    def lines(self) -> list[str]:
        width = max((len(e.setting) for e in self.entries), default=0)
        out = []
        for e in self.entries:
            status = e.status if not e.note else f"{e.status}: {e.note}"
            out.append(f"  {e.setting:<{width}}  {e.value!s:<16} ({e.source}) {status}")
        return out


def speculative_config(config: EngineConfig) -> dict[str, Any]:
    """vLLM's `speculative_config` for the EAGLE draft head (the recipe: 3 tokens, method eagle)."""
    assert config.draft_model is not None
    spec: dict[str, Any] = {
        "model": os.path.expanduser(config.draft_model),
        "method": "eagle",
        "num_speculative_tokens": config.draft_tokens,
    }
    if config.draft_max_model_len is not None:
        spec["max_model_len"] = config.draft_max_model_len
    return spec


def _source(config: EngineConfig, name: str) -> Literal["explicit", "profile", "default"]:
    if name in config.from_profile:
        return "profile"
    return "explicit" if name in config.model_fields_set else "default"


def plan(config: EngineConfig, device: Device) -> Plan:
    """Each serving setting's value, source and status on `device`."""
    out = Plan(device, config)
    cpu = device.kind == "cpu"

    def add(name: str, value: Any, status: Status, note: str = "") -> None:
        out.entries.append(Entry(name, value, _source(config, name), status, note))

    tp = config.tensor_parallel_size
    if cpu:
        add(
            "tensor_parallel_size",
            tp or 1,
            "not applicable" if tp and tp > 1 else "applied",
            "the CPU build runs 1" if tp and tp > 1 else "",
        )
    elif tp is not None and tp > device.count:
        add("tensor_parallel_size", tp, "unavailable", f"{device.count} GPU(s) visible")
    else:
        add("tensor_parallel_size", tp or device.count, "applied")
    add(
        "max_model_len",
        config.max_model_len or "auto",
        "applied",
        "" if config.max_model_len else "256K, or the longest the memory holds",
    )
    backend = config.attention_backend
    if backend is None:
        add("attention_backend", "vLLM's choice", "applied")
    elif cpu:
        add("attention_backend", backend, "not applicable", "the CPU build uses its own MLA kernels")
    elif (
        backend in _BACKEND_CAPABILITY
        and (device.capability or (0, 0))[0] not in _BACKEND_CAPABILITY[backend]
    ):
        major, minor = device.capability or (0, 0)
        add("attention_backend", backend, "unavailable", f"not supported on sm_{major}{minor}")
    else:
        add("attention_backend", backend, "applied")
    batched = config.max_num_batched_tokens
    if batched is not None and cpu and not device.amx:
        add(
            "max_num_batched_tokens",
            batched,
            "not applicable",
            "vLLM's CPU build prefills MLA whole (no chunked prefill without AMX)",
        )
    else:
        add("max_num_batched_tokens", batched or "vLLM's choice", "applied")
    add("max_num_seqs", config.max_num_seqs or "vLLM's choice", "applied")
    utilization = config.gpu_memory_utilization
    if not cpu:
        add("gpu_memory_utilization", utilization, "applied")
    elif config.kv_cache_gib is not None:
        add(
            "gpu_memory_utilization",
            utilization,
            "not applicable",
            "the CPU build's KV cache is kv_cache_gib",
        )
    elif _source(config, "gpu_memory_utilization") == "profile":
        add("gpu_memory_utilization", utilization, "not applicable", "a GPU value; set kv_cache_gib on CPU")
    else:
        add("gpu_memory_utilization", utilization, "applied", "on the CPU build: the share of all memory")
    add("kv_cache_gib", config.kv_cache_gib or "vLLM's choice", "applied")
    if config.draft_model is None:
        add("draft_model", "none", "off", "speculative decoding needs the EAGLE head's folder")
    elif cpu:
        add("draft_model", config.draft_model, "not applicable", "speculative decoding is used on GPUs only")
    elif not os.path.isdir(os.path.expanduser(config.draft_model)):
        add("draft_model", config.draft_model, "unavailable", "no such folder")
    else:
        add("draft_model", config.draft_model, "applied", f"EAGLE, {config.draft_tokens} tokens per step")
    if config.prefix_caching and cpu and not device.amx:
        add("prefix_caching", True, "not applicable", "vLLM's CPU build turns it off for MLA without AMX")
    else:
        add("prefix_caching", config.prefix_caching, "applied" if config.prefix_caching else "off")
    return out
