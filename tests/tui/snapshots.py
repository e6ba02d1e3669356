"""Screen snapshots: an app's SVG export compared with the one committed under __snapshots__/.

`TRIDENT_SNAPSHOT_UPDATE=1 pytest tests/tui` rewrites them (then look at them before committing).
Our own few lines rather than pytest-textual-snapshot: that plugin pins syrupy 4.8, which needs
pytest < 9, and this project tests with pytest 9.
"""

from __future__ import annotations

import difflib
import html
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.app import App
from textual.pilot import Pilot

SNAPSHOTS = Path(__file__).parent / "__snapshots__"


async def screenshot(
    app: App[None], size: tuple[int, int], before: Callable[[Pilot[None]], Awaitable[None]]
) -> str:
    async with app.run_test(size=size) as pilot:
        await before(pilot)
        await pilot.pause()
        return app.export_screenshot()


def screen_text(svg: str) -> list[str]:
    """The characters on screen, one entry per text run (for a readable failure message)."""
    return [
        html.unescape(run).replace("\xa0", " ") for run in re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S)
    ]


def assert_snapshot(name: str, svg: str, scratch: Path) -> None:
    path = SNAPSHOTS / f"{name}.svg"
    if os.environ.get("TRIDENT_SNAPSHOT_UPDATE") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(svg, encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path}: run with TRIDENT_SNAPSHOT_UPDATE=1 and look at it"
    expected = path.read_text(encoding="utf-8")
    if svg == expected:
        return
    actual = scratch / f"{name}.svg"
    actual.write_text(svg, encoding="utf-8")
    changes = "\n".join(
        difflib.unified_diff(screen_text(expected), screen_text(svg), "snapshot", "now", lineterm="", n=1)
    )
    raise AssertionError(
        f"the screen differs from {path} (now: {actual}); TRIDENT_SNAPSHOT_UPDATE=1 accepts it\n"
        f"{changes or '(same characters: colours or layout changed)'}"
    )
