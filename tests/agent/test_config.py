"""Settings layering (user file < repo file < flags) and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from trident.agent.config import ConfigError, load_settings, resolve_model, set_trust, user_config_path


def write_user_config(text: str) -> Path:
    path = user_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_without_any_file(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert (
        settings.effort.mode == "auto" and settings.limits.max_format_errors == 3 and settings.model is None
    )


def test_repo_file_overrides_user_file_and_flags_override_both(tmp_path: Path) -> None:
    write_user_config('model = "openai:a@http://x/v1"\n[limits]\nmax_steps = 10\nmax_format_errors = 5\n')
    (tmp_path / ".trident.toml").write_text("[limits]\nmax_steps = 20\n")
    settings = load_settings(tmp_path)
    assert settings.model == "openai:a@http://x/v1"
    assert (settings.limits.max_steps, settings.limits.max_format_errors) == (20, 5)
    flagged = load_settings(tmp_path, {"limits": {"max_steps": 30}, "effort": {"mode": "high"}})
    assert (flagged.limits.max_steps, flagged.limits.max_format_errors, flagged.effort.mode) == (
        30,
        5,
        "high",
    )


def test_user_config_path_follows_xdg_and_trident_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert user_config_path() == tmp_path / "xdg-config" / "trident" / "config.toml"
    monkeypatch.setenv("TRIDENT_CONFIG", str(tmp_path / "elsewhere.toml"))
    assert user_config_path() == tmp_path / "elsewhere.toml"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[limits]\nmax_stepz = 3\n", "limits.max_stepz: Extra inputs are not permitted (unknown setting)"),
        (
            '[effort]\nmode = "medium"\n',
            "effort.mode: Input should be 'auto', 'none' or 'high' (got 'medium')",
        ),
        ("[limits]\nmax_steps = 0\n", "limits.max_steps: Input should be greater than or equal to 1 (got 0)"),
        ("model = [", "not valid TOML"),
    ],
)
def test_bad_repo_config_names_the_file_and_the_field(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / ".trident.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    assert str(tmp_path / ".trident.toml") in str(info.value) and expected in str(info.value)


def test_model_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"scripted:FILE\.jsonl") as info:
        resolve_model(load_settings(tmp_path))
    assert "openai:MODEL@BASE_URL" in str(info.value) and "vllm:" in str(info.value)
    monkeypatch.setenv("TRIDENT_MODEL", "scripted:env.jsonl")
    assert resolve_model(load_settings(tmp_path)) == "scripted:env.jsonl"
    (tmp_path / ".trident.toml").write_text('model = "scripted:repo.jsonl"\n')
    assert resolve_model(load_settings(tmp_path)) == "scripted:env.jsonl"  # an untrusted repo's: ignored
    set_trust(tmp_path, True)
    assert resolve_model(load_settings(tmp_path)) == "scripted:repo.jsonl"
    assert resolve_model(load_settings(tmp_path, {"model": "scripted:flag.jsonl"})) == "scripted:flag.jsonl"
