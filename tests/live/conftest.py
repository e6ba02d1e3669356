"""The live tests' server: a real model at TRIDENT_LIVE_MODEL_URL (`python -m benchmarks.live_model
start` serves one); skipped without it, unless TRIDENT_REQUIRE_LIVE=1 (CI's live phase)."""

from __future__ import annotations

import os

import pytest

LIVE_TIMEOUT_S = 1500  # a real model on 2 CPU cores: minutes a run


@pytest.fixture(scope="session")
def live_url() -> str:
    url = os.environ.get("TRIDENT_LIVE_MODEL_URL", "")
    if not url:
        if os.environ.get("TRIDENT_REQUIRE_LIVE") == "1":
            pytest.fail("a live model is required here (TRIDENT_REQUIRE_LIVE=1): set TRIDENT_LIVE_MODEL_URL")
        pytest.skip("no live model: set TRIDENT_LIVE_MODEL_URL (python -m benchmarks.live_model start)")
    return url.rstrip("/")
