"""trident: an agentic coding assistant built around Mistral Small 4.

One import package; the repository's top-level folders are its sub-packages (see pyproject.toml):
`trident.sandbox` (where commands run), `trident.tools` (what the model can call), `trident.agent`
(the loop, its backends, policies and front ends), `trident.evals` (the eval harness). This package
itself holds only the `trident` command (`cli.py`), which sits above all of them.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "trident-agent"

try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
