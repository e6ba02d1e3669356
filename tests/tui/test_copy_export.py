"""/copy puts the last answer on the clipboard (OSC 52); /export writes the conversation as markdown."""

from __future__ import annotations

import base64

from tests.chat_helpers import answer, edit_turn
from tests.tui.conftest import SIZE, AppFactory, visible_text
from tests.tui.test_app import idle, type_line


async def test_copy_and_export(make_app: AppFactory) -> None:
    app = make_app([edit_turn(), answer("Fixed `add`: it returns a + b.")], mode="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "/copy")
        assert "no answer to copy yet" in visible_text(app)
        await type_line(pilot, "fix add")
        await idle(pilot)
        written: list[str] = []
        assert app._driver is not None
        app._driver.write = written.append  # type: ignore[method-assign,assignment]
        await type_line(pilot, "/copy")
        assert app.clipboard == "Fixed `add`: it returns a + b."
        osc = base64.b64encode(app.clipboard.encode()).decode()
        assert f"\x1b]52;c;{osc}\a" in written
        assert "copied the last answer (30 characters)" in visible_text(app)
        await type_line(pilot, "/export notes/chat.md")
        assert "not exported" in visible_text(app)  # its directory does not exist
        await type_line(pilot, "/export")
        path = app.session.repo / f"trident-{app.session.run_id}.md"
        assert f"conversation written to {path}" in visible_text(app)
        text = path.read_text()
        assert text.startswith(f"# trident session {app.session.run_id}\n")
        assert "## You\n\nfix add" in text and "## trident\n\nFixed `add`: it returns a + b." in text
        assert "**tool `edit`**" in text and '"old_text": "    return a - b\\n"' in text
        assert "result (ok):" in text and "Edited calc.py" in text
