"""Regenerate docs/tui.svg: the TUI running the bundled example's recorded session.

    python examples/tui_screenshot.py [OUT.svg]

The example repository is copied to a temporary directory (never modified); the model is the
recorded session in examples/timefmt, so the picture is the same every time.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE / "timefmt"


async def main(out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="trident-shot-") as tmp:
        os.environ["XDG_STATE_HOME"] = str(Path(tmp) / "state")  # keep the user's sessions clean
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        from trident.agent.config import load_settings
        from trident.agent.policies.approval import ApprovalPolicy
        from trident.agent.session.chat import ChatSession
        from trident.agent.session.input_history import InputHistory
        from trident.agent.tui.app import TridentApp
        from trident.agent.tui.prompt_input import PromptInput
        from trident.sandbox.local import LocalSandbox

        repo = Path(tmp) / "timefmt"
        shutil.copytree(EXAMPLE / "repo", repo)
        settings = load_settings(repo, {"test_command": "python3 -m unittest"})
        session = ChatSession.start(
            settings,
            repo,
            f"scripted:{EXAMPLE / 'session.jsonl'}",
            LocalSandbox(repo),
            ApprovalPolicy("full-auto"),
        )
        app = TridentApp(session, history=InputHistory(Path(tmp) / "history.jsonl"), clock=lambda: 42.0)
        async with app.run_test(size=(120, 50)) as pilot:
            prompt = app.query_one(PromptInput)
            prompt.value = (EXAMPLE / "task.md").read_text(encoding="utf-8").splitlines()[0]
            await pilot.press("enter")
            await pilot.pause(0.5)
            while app.busy:
                await pilot.pause(0.2)
            prompt.cursor_blink = False
            await pilot.pause(0.5)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(app.export_screenshot(title="trident"), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "docs" / "tui.svg"))
