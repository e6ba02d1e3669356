"""Settings: `~/.config/trident/config.toml`, overridden by `.trident.toml` in the repo, then by flags.

Validated by pydantic with unknown keys refused, so a typo is an error that names the file and the
field rather than a setting silently ignored.

A repository's own file cannot lower the user's isolation: the settings that weaken the sandbox or
move the user's credentials (`GUARDED`: the model and its endpoint, the sandbox kind, network and
image, the approval mode, higher resource limits) are taken from `.trident.toml` only once the user
trusts that repository (`trident trust DIR`: a decision recorded in the state dir, keyed by the
repository's real path and bound to the sha256 of its `.trident.toml`, revocable with `--revoke`).
Until then, and again as soon as the file changes (a pulled commit, the agent), they are ignored,
and one line on stderr says which and how to trust. A `.trident.toml` that is not a regular file
(a symlink, fifo or device) or is larger than 1 MiB is refused with an error (never read, never
waited on). A value that is at least as strict as the user's (`kind =
"docker"`, `network = false`, `approval = "ask"`, lower limits) is always taken. `protected_paths`
from the repository add to the user's, never replace them.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import stat
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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
    max_nudges: int = Field(
        2, ge=0, description="headless: times a model that stops with the task unchecked is told what is open"
    )


class EffortConfig(_Section):
    mode: EffortMode = "auto"
    hysteresis: int = Field(2, ge=1, description="successful steps at high before lowering to none")


class OpenAIConfig(_Section):
    max_retries: int = Field(5, ge=0, description="of a request that failed before any answer came")
    timeout_s: float = Field(600.0, gt=0)
    stream_usage: bool = True
    max_tokens: int | None = Field(
        8192, ge=16, description="output tokens per agent turn (sent as max_tokens)"
    )
    context_length: int | None = Field(
        None, ge=256, description="the server's context; default: what it reports (vLLM's max_model_len)"
    )
    endpoint_concurrency: int = Field(
        64, ge=1, description="openai:MODEL@URL1,URL2: requests at once per replica (base URL)"
    )
    tool_choice_required: bool = Field(
        True,
        description='after a call written as text, ask for a real one (tool_choice "required"); '
        "off for a server that refuses the field",
    )


SandboxKind = Literal["auto", "local", "docker"]


class SandboxConfig(_Section):
    kind: SandboxKind = Field(
        "auto", description="auto: Docker where an engine answers, else local (which does not isolate)"
    )
    image: str | None = Field(
        None, description="any image with python3 and bash; default: the offline-built one"
    )
    network: bool = Field(False, description="opt-in: give the Docker sandbox a network")
    memory_mb: int = Field(2048, ge=64)
    cpus: float = Field(2.0, gt=0)
    pids_limit: int = Field(512, ge=16)
    command_timeout_s: float = Field(120.0, gt=0)
    max_file_mb: int = Field(
        1024, ge=1, description="Docker, bind mode: the largest file a command may write (RLIMIT_FSIZE)"
    )
    workspace_mb: int = Field(
        2048, ge=16, description="Docker, copy mode (headless runs, evals): the workspace's size (tmpfs)"
    )
    bind_growth_mb: int = Field(
        2048,
        ge=16,
        description="Docker, bind mode (the TUI): how much the workspace's files may grow in a session",
    )


class ScaleConfig(_Section):
    executor: Literal["local", "ray"] = Field(
        "local", description="batch runs and evals: this machine, or a Ray cluster (the ray extra)"
    )
    ray_address: str | None = Field(
        None, description="the Ray cluster to join (else $RAY_ADDRESS; neither: a local Ray instance)"
    )


class MaskingConfig(_Section):
    """Observation masking (agent/policies/masking.py): old tool outputs elided past a token budget."""

    budget_tokens: int = Field(96_000, ge=1000)
    keep_recent: int = Field(6, ge=0, description="tool outputs never elided (the most recent ones)")
    min_chars: int = Field(400, ge=0, description="outputs shorter than this are never elided")


class CompactConfig(_Section):
    """`/compact` (agent/session/compact.py): the conversation replaced by the model's summary."""

    keep_turns: int = Field(4, ge=0, description="model turns kept verbatim beside a /compact summary")


EngineProfile = Literal["h200x2-fp8", "h200x1-fp8", "b200x1-nvfp4"]

# Mistral Small 4's serving recipe per machine (vLLM's recipe for mistralai/Mistral-Small-4-119B-2603,
# docs/engine.md#profiles): what a profile sets for every setting not given explicitly. 1xH200 is not
# in the recipe: FP8 weights (~112 GiB) leave room for a 64K context at 95% of the memory.
ENGINE_PROFILES: dict[str, dict[str, Any]] = {
    "h200x2-fp8": {
        "tensor_parallel_size": 2,
        "max_model_len": 262_144,
        "attention_backend": "FLASH_ATTN_MLA",
        "max_num_batched_tokens": 16_384,
        "max_num_seqs": 128,
        "gpu_memory_utilization": 0.8,
        "draft_tokens": 3,
        "draft_max_model_len": 65_536,
    },
    "h200x1-fp8": {
        "tensor_parallel_size": 1,
        "max_model_len": 65_536,
        "attention_backend": "FLASH_ATTN_MLA",
        "max_num_batched_tokens": 16_384,
        "max_num_seqs": 128,
        "gpu_memory_utilization": 0.95,
        "draft_tokens": 3,
        "draft_max_model_len": 65_536,
    },
    "b200x1-nvfp4": {  # the context: the longest the memory holds, up to 256K (the recipe: "reduced")
        "tensor_parallel_size": 1,
        "attention_backend": "TRITON_MLA",
        "max_num_batched_tokens": 16_384,
        "max_num_seqs": 128,
        "gpu_memory_utilization": 0.8,
        "draft_tokens": 3,
        "draft_max_model_len": 65_536,
    },
}


class EngineConfig(_Section):
    """The embedded vLLM engine (`vllm:DIR`). A `profile` sets the serving recipe's values for every
    setting not given explicitly (in any file or flag); `from_profile` names those it set."""

    profile: EngineProfile | None = Field(
        None, description="Mistral Small 4's serving recipe for a machine; explicit settings override it"
    )
    tensor_parallel_size: int | None = Field(
        None, ge=1, description="GPUs to shard the model over; default: every visible GPU (1 on CPU)"
    )
    quantization: str | None = Field(None, description="e.g. fp8; default: what the checkpoint says")
    prefix_caching: bool = Field(True, description="reuse the KV cache of a shared prompt prefix (GPU)")
    max_model_len: int | None = Field(None, ge=256, description="context length; default: the model's")
    kv_cache_gib: int | None = Field(None, ge=1, description="KV cache size; default: vLLM's choice")
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    max_num_seqs: int | None = Field(None, ge=1, description="sequences decoded at once")
    max_num_batched_tokens: int | None = Field(
        None, ge=1, description="tokens per engine step (prefill chunks); default: vLLM's choice"
    )
    attention_backend: str | None = Field(
        None, description="e.g. FLASH_ATTN_MLA (FP8, Hopper), TRITON_MLA (NVFP4); default: vLLM's choice"
    )
    draft_model: str | None = Field(
        None,
        description="speculative decoding: the EAGLE draft head's folder "
        "(mistralai/Mistral-Small-4-119B-2603-eagle); default: none",
    )
    draft_tokens: int = Field(3, ge=1, description="tokens the draft proposes per step")
    draft_max_model_len: int | None = Field(None, ge=256, description="the draft's context; default: vLLM's")
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
    max_restarts: int = Field(
        1, ge=0, description="restarts of a dead engine per process; after them its requests fail"
    )
    from_profile: list[str] = Field(
        default_factory=list, description="(set by trident) the settings the profile chose"
    )

    @model_validator(mode="after")
    def _apply_profile(self) -> EngineConfig:
        if self.profile is None:
            return self
        chosen = [
            name
            for name in ENGINE_PROFILES[self.profile]
            if name not in self.model_fields_set - {"from_profile"}
        ]
        for name in chosen:
            self.__dict__[name] = ENGINE_PROFILES[self.profile][name]
        self.__dict__["from_profile"] = sorted(set(self.from_profile) | set(chosen))
        return self


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
    scale: ScaleConfig = Field(default_factory=ScaleConfig)


def user_config_path() -> Path:
    if "TRIDENT_CONFIG" in os.environ:
        return Path(os.environ["TRIDENT_CONFIG"])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "trident" / "config.toml"


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "trident"


REPO_FILE = ".trident.toml"
CONFIG_MAX_BYTES = 1024 * 1024


class ConfigFile(BaseModel):
    """A config file as read: its settings and the sha256 of its bytes (None: there is no file)."""

    path: Path
    data: dict[str, Any]
    sha256: str | None


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a fifo"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def read_config(path: Path, *, follow: bool = True) -> ConfigFile:
    """Read a TOML config file: a regular file of at most CONFIG_MAX_BYTES, else a ConfigError.

    Opened without blocking (a fifo never hangs the read) and checked on the open file; with
    `follow=False` (a repository's file) a symbolic link is refused too."""
    try:
        info = os.stat(path) if follow else os.lstat(path)
    except FileNotFoundError:
        return ConfigFile(path=path, data={}, sha256=None)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | (0 if follow else os.O_NOFOLLOW)
    raw = b""
    if stat.S_ISREG(info.st_mode) and info.st_size <= CONFIG_MAX_BYTES:
        try:
            fd = os.open(path, flags)
        except OSError as exc:  # ELOOP: a link put there meanwhile
            raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISREG(info.st_mode):
                raw = handle.read(CONFIG_MAX_BYTES + 1)
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{path} is {_kind(info.st_mode)}, not a regular file: trident does not read it")
    if max(info.st_size, len(raw)) > CONFIG_MAX_BYTES:
        raise ConfigError(
            f"{path} is larger than 1 MiB ({max(info.st_size, len(raw))} bytes): trident does not read it"
        )
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return ConfigFile(path=path, data=data, sha256=hashlib.sha256(raw).hexdigest())


def read_repo_file(repo: Path) -> ConfigFile:
    """The repository's `.trident.toml` (a symbolic link there is refused)."""
    return read_config(repo / REPO_FILE, follow=False)


def _read_toml(path: Path) -> dict[str, Any]:
    return read_config(path).data


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


STRICTNESS = {"local": 0, "auto": 1, "docker": 2}
APPROVAL_STRICTNESS = {"full-auto": 0, "auto-edit": 1, "ask": 2}


def _never(value: Any, current: Any) -> bool:
    return False


def _not_higher(value: Any, current: Any) -> bool:
    return isinstance(value, int | float) and current is not None and value <= current


# Settings a repository's file sets only once the user trusts it: (path, "is this value safe anyway")
GUARDED: dict[tuple[str, ...], Callable[[Any, Any], bool]] = {
    ("model",): _never,  # the endpoint the user's API key is sent to, or a local checkpoint to load
    ("sandbox", "kind"): lambda v, cur: STRICTNESS.get(v, 0) >= STRICTNESS.get(cur, 0),
    ("sandbox", "network"): lambda v, cur: v is False,
    ("sandbox", "image"): _never,
    ("sandbox", "memory_mb"): _not_higher,
    ("sandbox", "cpus"): _not_higher,
    ("sandbox", "pids_limit"): _not_higher,
    ("sandbox", "command_timeout_s"): _not_higher,
    ("sandbox", "max_file_mb"): _not_higher,
    ("sandbox", "workspace_mb"): _not_higher,
    ("sandbox", "bind_growth_mb"): _not_higher,
    ("approval",): lambda v, cur: APPROVAL_STRICTNESS.get(v, 0) >= APPROVAL_STRICTNESS.get(cur or "ask", 2),
    ("engine", "moe_configs_dir"): _never,
    ("scale", "executor"): lambda v, cur: v == "local",  # where the user's jobs (and key) are sent
    ("scale", "ray_address"): _never,  # files vLLM loads, from anywhere on the machine
    ("engine", "draft_model"): _never,  # weights vLLM loads and runs beside the model
}


def trust_file() -> Path:
    return state_dir() / "trusted-repos.json"


def _trust_key(repo: Path) -> str:
    return os.path.realpath(repo)


def trusted_repos() -> dict[str, Any]:
    try:
        data = json.loads(trust_file().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{trust_file()}: cannot be read: {exc}") from None
    return data if isinstance(data, dict) else {}


TrustState = Literal["trusted", "changed", "untrusted"]
NO_FILE = "no .trident.toml"  # the digest recorded for a repository trusted without one


def trust_state(repo: Path, sha256: str | None) -> TrustState:
    """Whether the repository is trusted with its `.trident.toml` as it is now (`sha256`: its digest,
    None when there is none); "changed": trusted, but the file is no longer the one trusted."""
    record = trusted_repos().get(_trust_key(repo))
    if not isinstance(record, dict):
        return "untrusted"
    return "trusted" if record.get("sha256") == (sha256 or NO_FILE) else "changed"


def is_trusted(repo: Path) -> bool:
    return trust_state(repo, read_repo_file(repo).sha256) == "trusted"


def set_trust(repo: Path, trusted: bool, sha256: str | None = None) -> str:
    """Record (or revoke) the user's trust in the repository at `repo` with its `.trident.toml` as it
    is (or as it was shown to the user: `sha256`); returns the key (real path)."""
    key = _trust_key(repo)
    repos = trusted_repos()
    if trusted:
        digest = sha256 if sha256 is not None else read_repo_file(repo).sha256
        repos[key] = {"trusted_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "sha256": digest or NO_FILE}
    else:
        repos.pop(key, None)
    path = trust_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(repos, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return key


def _get(data: dict[str, Any], path: tuple[str, ...]) -> tuple[bool, Any]:
    for key in path[:-1]:
        data = data.get(key) if isinstance(data.get(key), dict) else {}  # type: ignore[assignment]
    return (path[-1] in data, data.get(path[-1]))


def _untrusted_layer(data: dict[str, Any], current: Settings) -> tuple[dict[str, Any], list[str]]:
    """The repository file without the guarded settings it may not set; and their names."""
    out = copy.deepcopy(data)
    ignored: list[str] = []
    base = current.model_dump()
    for path, safe in GUARDED.items():
        present, value = _get(out, path)
        if not present:
            continue
        _, now = _get(base, path)
        if not safe(value, now):
            _, section = _get(out, path[:-1]) if len(path) > 1 else (True, out)
            del section[path[-1]]
            ignored.append(".".join(path))
    return out, ignored


def untrusted_requests(repo: Path, file: ConfigFile | None = None) -> dict[str, Any]:
    """What the repository's `.trident.toml` (`file`, as read) asks for that counts only once the user
    trusts it (dotted setting name -> value); empty when it is trusted as it is or asks for nothing
    guarded."""
    file = file or read_repo_file(repo)
    if not file.data or trust_state(repo, file.sha256) == "trusted":
        return {}
    _validate(file.data, str(file.path))
    user = _read_toml(user_config_path())
    _, ignored = _untrusted_layer(file.data, _validate(user, str(user_config_path())))
    return {name: _get(file.data, tuple(name.split(".")))[1] for name in ignored}


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def load_settings(
    repo: Path | None = None,
    overrides: dict[str, Any] | None = None,
    *,
    warn: Callable[[str], None] = _stderr,
) -> Settings:
    """Merge user file < repo file < overrides; each layer is validated on its own for clear errors.

    The repo file's guarded settings count only in a trusted repository (`GUARDED`); `warn` gets one
    line naming those ignored."""
    user_file = user_config_path()
    user = _read_toml(user_file)
    merged = user
    _validate(user, str(user_file))
    if repo is not None:
        file = read_repo_file(repo)
        data = file.data
        _validate(data, str(file.path))
        state = trust_state(repo, file.sha256) if data else "trusted"
        if state != "trusted":
            data, ignored = _untrusted_layer(data, _validate(merged, "user configuration"))
            if ignored and state == "changed":
                warn(
                    f"trident: {file.path} changed since you trusted this repository, so it is untrusted "
                    f"again: ignored from it: {', '.join(ignored)}; if you trust the new file: "
                    f"trident trust {_trust_key(repo)}"
                )
            elif ignored:
                warn(
                    f"trident: ignored from {file.path} (an untrusted repository may not weaken the "
                    f"sandbox or choose the model): {', '.join(ignored)}; "
                    f"if you trust it: trident trust {_trust_key(repo)}"
                )
        protected = [*merged.get("protected_paths", []), *data.get("protected_paths", [])]
        merged = _merge(merged, data)
        if protected:
            merged["protected_paths"] = list(dict.fromkeys(protected))  # added to, never replaced
    flags = overrides or {}
    _validate(flags, "command-line flags")
    merged = _merge(merged, flags)
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
        "  --model vllm:CHECKPOINT_DIR         the embedded vLLM engine (pip install 'trident-agent[gpu]')\n"
        f'or set `model = "..."` in {user_config_path()} or .trident.toml, or export TRIDENT_MODEL.'
    )
