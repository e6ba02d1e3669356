"""Settings: `~/.config/trident/config.toml`, overridden by `.trident.toml` in the repo, then by flags.

Validated by pydantic with unknown keys refused, so a typo is an error that names the file and the
field rather than a setting silently ignored.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trident.agent.core.events import EffortMode

ApprovalMode = Literal["ask", "auto-edit", "full-auto"]  # which calls ask first (agent/policies/approval.py)
MODES: tuple[ApprovalMode, ...] = ("ask", "auto-edit", "full-auto")


class ConfigError(Exception):
    """Bad configuration or usage: the CLI exits with code 2 and this message."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LimitsConfig(_Section):
    max_steps: int = Field(50, ge=1)
    timeout_s: float | None = Field(None, gt=0)
    max_tokens: int | None = Field(None, ge=1)
    max_format_errors: int = Field(3, ge=1)
    stuck_repeats: int = Field(4, ge=2)


class EffortConfig(_Section):
    mode: EffortMode = "auto"
    hysteresis: int = Field(2, ge=1, description="successful steps at high before lowering to none")


class OpenAIConfig(_Section):
    max_retries: int = Field(4, ge=0)
    timeout_s: float = Field(600.0, gt=0)
    stream_usage: bool = True
    max_tokens: int | None = Field(
        8192, ge=16, description="output tokens per agent turn (sent as max_tokens)"
    )
    context_length: int | None = Field(
        None, ge=256, description="the server's context; default: what it reports (vLLM's max_model_len)"
    )


class SandboxConfig(_Section):
    kind: Literal["local", "docker"] = "local"
    image: str | None = Field(
        None, description="any image with python3 and bash; default: the offline-built one"
    )
    network: bool = Field(False, description="opt-in: give the Docker sandbox a network")
    memory_mb: int = Field(2048, ge=64)
    cpus: float = Field(2.0, gt=0)
    pids_limit: int = Field(512, ge=16)
    command_timeout_s: float = Field(120.0, gt=0)


class MaskingConfig(_Section):
    """Observation masking (agent/policies/masking.py): old tool outputs elided past a token budget."""

    budget_tokens: int = Field(96_000, ge=1000)
    keep_recent: int = Field(6, ge=0, description="tool outputs never elided (the most recent ones)")
    min_chars: int = Field(400, ge=0, description="outputs shorter than this are never elided")


class CompactConfig(_Section):
    """`/compact` (agent/session/compact.py): the conversation replaced by the model's summary."""

    keep_turns: int = Field(4, ge=0, description="model turns kept verbatim beside a /compact summary")


class EngineConfig(_Section):
    """The embedded vLLM engine (`vllm:DIR`)."""

    tensor_parallel_size: int | None = Field(
        None, ge=1, description="GPUs to shard the model over; default: every visible GPU (1 on CPU)"
    )
    quantization: str | None = Field(None, description="e.g. fp8; default: what the checkpoint says")
    prefix_caching: bool = Field(True, description="reuse the KV cache of a shared prompt prefix (GPU)")
    max_model_len: int | None = Field(None, ge=256, description="context length; default: the model's")
    kv_cache_gib: int | None = Field(None, ge=1, description="KV cache size; default: vLLM's choice")
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    max_num_seqs: int | None = Field(None, ge=1, description="sequences decoded at once")
    dtype: Literal["auto", "bfloat16", "float16"] = "auto"
    enforce_eager: bool = Field(False, description="no CUDA graphs / compilation: faster start")
    language_model_only: bool = Field(True, description="skip the vision encoder (text-only agent)")
    moe_configs_dir: str | None = Field(
        None,
        description="tuned fused-MoE kernel configs (E=128,N=...,device_name=....json); "
        "vLLM looks there first (VLLM_TUNED_CONFIG_FOLDER)",
    )
    tool_grammar: Literal["lark", "off"] = Field(
        "lark", description="constrain each turn with Mistral's Lark grammar holding the tools' schemas"
    )
    regenerate_arguments: bool = Field(
        True, description="regenerate a call's invalid arguments under its schema before telling the model"
    )
    max_tokens: int = Field(8192, ge=16, description="output tokens per turn unless the request says")
    temperature: float = Field(0.7, ge=0, le=2, description="when the run sets none")
    seed: int = 0


class Settings(_Section):
    model: str | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    test_command: str | None = None
    protected_paths: list[str] = Field(default_factory=list, description="globs the agent must not touch")
    approval: ApprovalMode | None = Field(
        None, description="TUI approvals; default: full-auto in a Docker sandbox without network, else ask"
    )
    effort: EffortConfig = Field(default_factory=EffortConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    openai: OpenAIConfig = Field(default_factory=OpenAIConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    masking: MaskingConfig = Field(default_factory=MaskingConfig)
    compact: CompactConfig = Field(default_factory=CompactConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)


def user_config_path() -> Path:
    if "TRIDENT_CONFIG" in os.environ:
        return Path(os.environ["TRIDENT_CONFIG"])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "trident" / "config.toml"


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "trident"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _validate(data: dict[str, Any], source: str) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            + (f" (got {e['input']!r})" if e["type"] != "extra_forbidden" else " (unknown setting)")
            for e in exc.errors()
        )
        raise ConfigError(f"{source}: invalid configuration: {problems}") from None


def load_settings(repo: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Merge user file < repo file < overrides; each layer is validated on its own for clear errors."""
    merged: dict[str, Any] = {}
    layers: list[tuple[str, dict[str, Any]]] = [(str(user_config_path()), _read_toml(user_config_path()))]
    if repo is not None:
        repo_file = repo / ".trident.toml"
        layers.append((str(repo_file), _read_toml(repo_file)))
    layers.append(("command-line flags", overrides or {}))
    for source, data in layers:
        _validate(data, source)
        merged = _merge(merged, data)
    return _validate(merged, "merged configuration")


def resolve_model(settings: Settings) -> str:
    """The model spec: flag or config file first, then $TRIDENT_MODEL, else a clear error."""
    if settings.model:
        return settings.model
    if os.environ.get("TRIDENT_MODEL"):
        return os.environ["TRIDENT_MODEL"]
    raise ConfigError(
        "no model configured. Choose one of:\n"
        "  --model scripted:FILE.jsonl         replay a recorded session (tests, demos)\n"
        "  --model openai:MODEL@BASE_URL       an OpenAI-compatible server\n"
        "                                      (vllm serve, llama.cpp, Mistral API)\n"
        "  --model vllm:CHECKPOINT_DIR         the embedded vLLM engine (pip install 'trident[gpu]')\n"
        f'or set `model = "..."` in {user_config_path()} or .trident.toml, or export TRIDENT_MODEL.'
    )
