"""The transcript: markdown drawn from the complete turn, following the stream, tool output, notes."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Markdown

from tests.chat_helpers import answer, edit_turn
from tests.tui.conftest import SIZE, AppFactory, visible_text
from tests.tui.test_app import idle, type_line, until
from trident.agent.tui.approval_screen import ApprovalScreen
from trident.agent.tui.messages import AssistantText, UserBubble, split_notes
from trident.agent.tui.status_bar import Status, render_status
from trident.agent.tui.tool_card import ToolCard

RICH = """Here is the plan:

- first item
- second item
  - nested item
- third item

| file | change |
|------|--------|
| calc.py | `a - b` → `a + b` |
| test_calc.py | a new test |

1. run the tests
2. commit

```python
def add(a, b):
    return a + b
```

Done."""


def blocks(markdown: Markdown) -> list[tuple[str, str]]:
    """The markdown's blocks: kind and text, nested ones included."""

    def text(widget: Widget) -> str:
        return str(getattr(widget, "_content", "") or "")

    return [(type(b).__name__, text(b)) for b in markdown.query("MarkdownBlock")]


async def test_streamed_markdown_ends_as_the_complete_text_renders(make_app: AppFactory) -> None:
    app = make_app([{**answer(RICH), "delay": 0.002}])
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "plan it")
        await idle(pilot)
        streamed = app.transcript.query_one(AssistantText)
        reference = Markdown(RICH)
        await app.transcript.mount(reference)
        await pilot.pause(0.3)
        assert streamed.source == RICH and streamed.rendered_final
        assert blocks(streamed) == blocks(reference)
        kinds = [kind for kind, _ in blocks(streamed)]
        assert kinds.count("MarkdownTable") == 1 and kinds.count("MarkdownBulletList") == 2


class OneText(App[None]):
    def compose(self) -> ComposeResult:
        yield AssistantText()


async def test_overlapping_redraws_do_not_corrupt_the_final_markdown() -> None:
    """On a busy machine the 0.1 s redraws come before the previous one is done: whatever the stream
    looked like meanwhile, the finished widget is the complete text's."""
    app = OneText()
    async with app.run_test(size=SIZE) as pilot:
        widget = app.query_one(AssistantText)
        for start in range(0, len(RICH), 9):
            widget.add(RICH[start : start + 9])
            widget._flush()  # back to back, as the timer fires under load
            if start % 45 == 0:
                await pilot.pause(0)
        widget.finish(RICH)
        reference = Markdown(RICH)
        await app.screen.mount(reference)
        for _ in range(100):
            await pilot.pause(0.02)
            if widget.rendered_final and widget._drawing is not None and widget._drawing.is_done:
                break
        assert blocks(widget) == blocks(reference)


LONG = "\n\n".join(f"paragraph {i}" for i in range(60))


async def test_the_view_follows_the_stream_to_its_end(make_app: AppFactory) -> None:
    app = make_app([{**answer(LONG), "delay": 0.005}])
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "talk at length")
        await idle(pilot)
        view = app.transcript
        assert view.max_scroll_y > 0 and view.scroll_y == view.max_scroll_y
        assert not view.marker.display


async def test_scrolled_up_the_view_stays_and_says_there_is_new_output(make_app: AppFactory) -> None:
    app = make_app([{**answer(LONG), "delay": 0.02}])
    async with app.run_test(size=SIZE) as pilot:
        view = app.transcript
        await type_line(pilot, "talk at length")
        await until(pilot, lambda: view.max_scroll_y > 5, "enough output to scroll")
        view.scroll_home(animate=False)  # the user scrolls up
        await until(pilot, lambda: view.marker.display, "the new-output marker")
        assert view.scroll_y < view.max_scroll_y
        await idle(pilot)
        assert view.scroll_y == 0 and view.marker.display  # still where the user left it
        await pilot.press("ctrl+end")
        await pilot.pause(0.1)
        assert view.scroll_y == view.max_scroll_y and not view.marker.display


def bash(command: str) -> dict[str, object]:
    return {"tool_calls": [{"name": "bash", "arguments": {"command": command, "timeout_s": 60}}]}


async def test_long_tool_output_unfolds_and_folds(make_app: AppFactory) -> None:
    app = make_app([bash("seq 1 40"), answer("Counted.")], mode="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "count")
        await idle(pilot)
        card = app.transcript.query_one(ToolCard)
        assert card.expandable and "more lines (click or Ctrl+O" in visible_text(app)
        assert "\n40" not in visible_text(app)
        await pilot.press("ctrl+o")
        assert "\n39\n40" in visible_text(app) and "more lines" not in visible_text(app)
        await pilot.press("ctrl+o")
        assert "\n40" not in visible_text(app)
        await pilot.click(ToolCard)
        assert "\n39\n40" in visible_text(app)


async def test_a_cancelled_command_keeps_its_output(make_app: AppFactory) -> None:
    app = make_app([bash("for i in $(seq 1 20); do echo out$i; done; sleep 300"), answer()], mode="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "run it")
        await until(pilot, lambda: "out20" in visible_text(app), "the output")
        await pilot.press("escape")
        await idle(pilot)
        text = visible_text(app)
        assert "✗ interrupted" in text and "out20\n[interrupted by the user]" in text
        await pilot.press("ctrl+o")
        assert "out1\nout2\n" in visible_text(app)  # all of it, not only the last lines


async def test_notes_to_the_model_stay_out_of_the_users_bubble(make_app: AppFactory) -> None:
    app = make_app([edit_turn(), answer("Fixed."), answer("Noted.")], mode="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "fix add")
        await idle(pilot)
        await type_line(pilot, "/undo")
        await until(pilot, lambda: "undid `edit`" in visible_text(app), "the undo")
        await type_line(pilot, "thanks, leave it")
        await idle(pilot)
        bubbles = [str(b.content) for b in app.transcript.query(UserBubble)]
        assert bubbles == ["fix add", "thanks, leave it"]
        assert "told the model: the user undid your last change" in visible_text(app)
        told = app.session.agent.state.messages[-2]
        assert told.role == "user" and told.content.startswith("[note: the user undid")  # the model got it


def test_split_notes_only_takes_a_leading_block_of_notes() -> None:
    assert split_notes("[note: a]\n[note: b]\n\nhello") == (["a", "b"], "hello")
    assert split_notes("hello\n\n[note: a]") == ([], "hello\n\n[note: a]")
    assert split_notes("[note: a]\nnot a note\n\nhello") == ([], "[note: a]\nnot a note\n\nhello")


async def test_status_bar_shows_the_running_step(make_app: AppFactory) -> None:
    wait = "echo started; while [ ! -f go ]; do sleep 0.05; done"
    app = make_app([bash(wait), answer()], mode="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        assert "step 0" in str(app.status_bar.content)
        await type_line(pilot, "go on")
        await until(pilot, lambda: "started" in visible_text(app), "the command")
        assert "step 1" in str(app.status_bar.content)
        (app.session.repo / "go").write_text("")
        await idle(pilot)
        assert "step 2" in str(app.status_bar.content)


async def test_status_bar_tokens_move_while_streaming(make_app: AppFactory) -> None:
    slow = {"content": " ".join(f"word{i}" for i in range(150)), "delay": 0.02}
    app = make_app([slow])
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "talk")
        seen: list[str] = []

        def estimate() -> bool:
            status = str(app.status_bar.content)
            if "↓~" in status:
                seen.append(status.split("↓~")[1].split()[0] + " " + status.split("ctx ~")[1].split()[0])
            return len(set(seen)) >= 2

        await until(pilot, estimate, "the output estimate to move")
        assert len({entry.split()[1] for entry in seen}) >= 2  # the context's fill with it
        await idle(pilot)
        assert "↓~" not in str(app.status_bar.content)  # the turn's usage is counted now


async def test_at_80x24_the_prompt_keys_and_the_status_stay_visible(make_app: AppFactory) -> None:
    big = "".join(f"line {i}\n" for i in range(80))
    write = {"tool_calls": [{"name": "write", "arguments": {"path": "big.txt", "content": big}}]}
    app = make_app([write, answer()])
    async with app.run_test(size=(80, 24)) as pilot:
        await type_line(pilot, "write it")
        await until(pilot, lambda: isinstance(app.screen, ApprovalScreen), "the prompt")
        await pilot.pause(0.2)
        keys, status = app.screen.query_one(".question"), app.status_bar
        assert keys.region.bottom <= status.region.y < 24 and keys.region.height >= 1
        assert app.screen.query_one(Vertical).region.bottom <= status.region.y
        line = str(status.content)
        assert "↑" in line and line.rstrip().endswith("0:00") and len(line) <= status.content_size.width
        await pilot.press("y")
        await idle(pilot)
        assert (app.session.repo / "big.txt").read_text() == big


def test_a_narrow_status_bar_shortens_the_left_before_it_cuts_it() -> None:
    status = Status(
        model="scripted:/x/session.jsonl",
        sandbox="local, not isolated",
        mode="full-auto",
        effort="high",
        effort_mode="auto",
        step=3,
        tokens_in=5800,
        tokens_out=158,
        elapsed_s=61,
        context_used=2100,
        context_length=32768,
    )
    wide = str(render_status(status, 150))
    assert "local, not isolated" in wide and "effort high (auto)" in wide
    middle = str(render_status(status, 108))
    assert "│ local │" in middle and "effort high " in middle and "…" not in middle  # the effort stays
    assert middle.endswith("ctx 2.1k/32.8k 6% │ 1:01") and len(middle) == 108
    narrow = str(render_status(status, 70))
    assert narrow.endswith("ctx 2.1k/32.8k 6% │ 1:01") and "…" in narrow and len(narrow) == 70
