"""Model specs (`scripted:`, `openai:`, `vllm:`) to backends."""

from __future__ import annotations

import os

from trident.agent.config import ConfigError, Settings
from trident.agent.core.messages import Backend


def make_backend(spec: str, settings: Settings) -> Backend:
    scheme, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise ConfigError(f"model spec {spec!r} is not of the form scheme:target (scripted:, openai:, vllm:)")
    if scheme == "scripted":
        from trident.agent.llm.scripted import ScriptedBackend

        return ScriptedBackend(rest)
    if scheme == "openai":
        from trident.agent.llm.openai_compat import OpenAIBackend

        model, _, base_url = rest.rpartition("@") if "@" in rest else (rest, "", "")
        base_url = base_url or os.environ.get("OPENAI_BASE_URL", "")
        if not model or not base_url:
            raise ConfigError(
                f"model spec {spec!r}: give openai:MODEL@BASE_URL, e.g. "
                "openai:mistral-small-latest@https://api.mistral.ai/v1 (or set OPENAI_BASE_URL)"
            )
        key = os.environ.get("OPENAI_API_KEY") or os.environ.get("MISTRAL_API_KEY") or "EMPTY"
        urls = [url.strip() for url in base_url.split(",")]
        if not all(urls):
            raise ConfigError(f"model spec {spec!r}: an empty base URL in the list")

        def one(url: str, retries: int) -> OpenAIBackend:
            return OpenAIBackend(
                model,
                url,
                key,
                max_retries=retries,
                timeout_s=settings.openai.timeout_s,
                stream_usage=settings.openai.stream_usage,
                max_tokens=settings.openai.max_tokens,
                context_length=settings.openai.context_length,
                tool_choice_required=settings.openai.tool_choice_required,
            )

        if len(urls) == 1:
            return one(urls[0], settings.openai.max_retries)
        from trident.agent.llm.replicas import ReplicaSet  # several replicas: spread, fail over

        return ReplicaSet(
            [one(url, 0) for url in urls],
            limit=settings.openai.endpoint_concurrency,
            max_retries=settings.openai.max_retries,
        )
    if scheme == "vllm":
        from trident.agent.llm.vllm_engine import make_vllm_backend

        return make_vllm_backend(rest, settings)
    raise ConfigError(f"unknown model scheme {scheme!r} in {spec!r}; use scripted:, openai: or vllm:")
