"""Engine profiles without vLLM: what a profile sets, that explicit settings win in every layer, and what
each setting becomes on a CPU and on GPUs (applied, not applicable, unavailable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trident.agent.config import ENGINE_PROFILES, EngineConfig, Settings, load_settings
from trident.agent.llm.engine_check import check
from trident.agent.llm.engine_plan import Device, Entry, plan

CPU = Device("cpu", "Test CPU")
H200 = Device("cuda", "NVIDIA H200", count=2, capability=(9, 0))
B200 = Device("cuda", "NVIDIA B200", count=1, capability=(10, 0))


def entries(config: EngineConfig, device: Device) -> dict[str, Entry]:
    return {e.setting: e for e in plan(config, device).entries}


def test_a_profile_sets_the_recipe_and_names_what_it_set() -> None:
    config = EngineConfig(profile="h200x2-fp8")
    assert config.tensor_parallel_size == 2 and config.max_model_len == 262_144
    assert config.attention_backend == "FLASH_ATTN_MLA" and config.max_num_batched_tokens == 16_384
    assert config.max_num_seqs == 128 and config.gpu_memory_utilization == 0.8
    assert config.from_profile == sorted(ENGINE_PROFILES["h200x2-fp8"])
    nvfp4 = EngineConfig(profile="b200x1-nvfp4")
    assert nvfp4.attention_backend == "TRITON_MLA" and nvfp4.max_model_len is None
    assert EngineConfig().from_profile == [] and EngineConfig().gpu_memory_utilization == 0.9


def test_explicit_settings_override_the_profile_from_any_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "user.toml"
    user.write_text('[engine]\nprofile = "h200x1-fp8"\ngpu_memory_utilization = 0.9\n')
    monkeypatch.setenv("TRIDENT_CONFIG", str(user))
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".trident.toml").write_text("[engine]\nmax_model_len = 32768\n")
    settings = load_settings(repo, {"engine": {"attention_backend": "TRITON_MLA"}})
    engine = settings.engine
    assert engine.gpu_memory_utilization == 0.9  # the user's, though equal to the default
    assert engine.max_model_len == 32768 and engine.attention_backend == "TRITON_MLA"
    assert engine.max_num_batched_tokens == 16_384 and engine.tensor_parallel_size == 1  # the profile's
    assert "gpu_memory_utilization" not in engine.from_profile and "max_model_len" not in engine.from_profile
    again = Settings.model_validate(settings.model_dump())  # a recorded run's settings, resumed
    assert again.engine == engine


def test_an_untrusted_repository_cannot_choose_a_draft_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIDENT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    (tmp_path / ".trident.toml").write_text('[engine]\ndraft_model = "/somewhere/else"\n')
    warnings: list[str] = []
    assert load_settings(tmp_path, warn=warnings.append).engine.draft_model is None
    assert "engine.draft_model" in warnings[0]


def test_on_cpu_the_gpu_settings_are_not_applicable_and_left_out() -> None:
    config = EngineConfig(profile="h200x2-fp8", kv_cache_gib=1, draft_model="/tmp")
    shown = entries(config, CPU)
    for name in ("tensor_parallel_size", "attention_backend", "gpu_memory_utilization"):
        assert (shown[name].status, shown[name].source) == ("not applicable", "profile")
    assert (shown["draft_model"].status, shown["draft_model"].source) == ("not applicable", "explicit")
    assert shown["max_num_batched_tokens"].status == "not applicable"  # no chunked prefill without AMX
    assert shown["prefix_caching"].status == "not applicable"
    assert shown["max_model_len"].status == shown["max_num_seqs"].status == "applied"
    assert plan(config, CPU).engine_kwargs() == {"tensor_parallel_size": 1, "max_num_seqs": 128}
    amx = entries(config, Device("cpu", "Test CPU", amx=True))
    assert amx["max_num_batched_tokens"].status == amx["prefix_caching"].status == "applied"
    # Without kv_cache_gib the CPU build reserves gpu_memory_utilization of all memory: explicit only.
    assert entries(EngineConfig(), CPU)["gpu_memory_utilization"].status == "applied"
    assert (
        entries(EngineConfig(profile="h200x1-fp8"), CPU)["gpu_memory_utilization"].status == "not applicable"
    )


def test_on_the_profiles_gpus_everything_applies(tmp_path: Path) -> None:
    config = EngineConfig(profile="h200x2-fp8", draft_model=str(tmp_path))
    the_plan = plan(config, H200)
    assert not the_plan.unavailable
    assert the_plan.engine_kwargs() == {
        "tensor_parallel_size": 2,
        "gpu_memory_utilization": 0.8,
        "attention_backend": "FLASH_ATTN_MLA",
        "max_num_batched_tokens": 16_384,
        "max_num_seqs": 128,
        "speculative_config": {
            "model": str(tmp_path),
            "method": "eagle",
            "num_speculative_tokens": 3,
            "max_model_len": 65_536,
        },
    }
    assert not plan(EngineConfig(profile="b200x1-nvfp4"), B200).unavailable


def test_what_the_machine_cannot_honour_is_unavailable_and_fails_the_check_before_loading(
    tmp_path: Path,
) -> None:
    one_h100 = Device("cuda", "NVIDIA H100", count=1, capability=(9, 0))
    shown = entries(EngineConfig(profile="h200x2-fp8", draft_model=str(tmp_path / "missing")), one_h100)
    assert (
        shown["tensor_parallel_size"].status == "unavailable"
        and "1 GPU" in shown["tensor_parallel_size"].note
    )
    assert shown["draft_model"].status == "unavailable"
    on_blackwell = entries(EngineConfig(profile="h200x1-fp8"), B200)["attention_backend"]
    assert on_blackwell.status == "unavailable" and "sm_100" in on_blackwell.note
    said: list[str] = []
    assert check(tmp_path, EngineConfig(profile="h200x2-fp8"), say=said.append, device=one_h100) == 1
    assert said[-1].startswith("verdict: FAIL: this machine cannot honour tensor_parallel_size")
