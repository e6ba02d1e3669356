"""trident's core: the event stream, the loop, tool-call intake, policies and model backends."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("trident")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
