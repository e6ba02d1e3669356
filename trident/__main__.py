"""`python -m trident`: the same as the `trident` command."""

from __future__ import annotations

from trident.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
