"""The repo map: PageRank, ranking on a synthetic repository, the token budget, and the mtime cache
(counted through a real LocalSandbox wrapped to count its reads)."""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

import trident.tools.repomap as repomap
from tests.helpers import make_workspace
from trident.sandbox.base import ExecResult, FileInfo
from trident.sandbox.local import LocalSandbox
from trident.tools.base import ToolContext, ToolOutput
from trident.tools.repomap import (
    CHARS_PER_TOKEN,
    RepoMapTool,
    cache_dir,
    index_for,
    pagerank,
    prune_cache,
    rank,
)


class CountingSandbox:
    """A real local sandbox that counts the listings and file reads going through it."""

    def __init__(self, root: Path) -> None:
        self.inner = LocalSandbox(root)
        self.list_calls = 0
        self.read_calls = 0
        self.read_paths: list[str] = []

    @property
    def workspace(self) -> str:
        return self.inner.workspace

    @property
    def isolated(self) -> bool:
        return self.inner.isolated

    async def exec(
        self,
        command: str,
        *,
        timeout: float,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        limit: int = 64 * 1024,
        on_output: Callable[[str], None] | None = None,
    ) -> ExecResult:
        return await self.inner.exec(
            command, timeout=timeout, cwd=cwd, env=env, limit=limit, on_output=on_output
        )

    async def read_file(self, path: str) -> bytes:
        self.read_paths.append(path)
        return await self.inner.read_file(path)

    async def write_file(self, path: str, data: bytes) -> None:
        await self.inner.write_file(path, data)

    async def list_files(self, path: str = ".", *, limit: int = 100_000) -> list[FileInfo]:
        self.list_calls += 1
        return await self.inner.list_files(path, limit=limit)

    async def read_files(self, paths: list[str], *, limit: int | None = None) -> dict[str, bytes | None]:
        self.read_calls += 1
        self.read_paths += paths
        return await self.inner.read_files(paths, limit=limit)

    async def close(self) -> None:
        await self.inner.close()

    def reset(self) -> None:
        self.list_calls = self.read_calls = 0
        self.read_paths = []


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache directory of this test's own, and no index left over in memory from another test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setattr(repomap, "_INDEXES", OrderedDict())


SANDBOXES: list[CountingSandbox] = []


@pytest.fixture(autouse=True)
async def close_sandboxes() -> AsyncIterator[None]:
    yield
    while SANDBOXES:
        await SANDBOXES.pop().close()


def sandbox(root: Path) -> CountingSandbox:
    SANDBOXES.append(CountingSandbox(root))
    return SANDBOXES[-1]


async def repo_map(box: CountingSandbox, *protected: str, **arguments: object) -> ToolOutput:
    ctx = ToolContext(sandbox=box, protected_paths=protected)
    return await RepoMapTool().invoke(dict(arguments), ctx)


# -- PageRank -------------------------------------------------------------------------------------------
def test_pagerank_of_a_cycle_is_uniform_and_sums_to_one() -> None:
    ranks = pagerank([{1: 1.0}, {2: 1.0}, {0: 1.0}])
    assert ranks == pytest.approx([1 / 3] * 3)


def test_pagerank_favors_the_node_everyone_points_to() -> None:
    ranks = pagerank([{3: 1.0}, {3: 1.0}, {3: 1.0, 0: 1.0}, {}])
    assert sum(ranks) == pytest.approx(1.0)
    assert max(range(4), key=ranks.__getitem__) == 3
    assert ranks[0] > ranks[1] == pytest.approx(ranks[2])  # 0 also gets half of 2's vote


def test_pagerank_weights_personalization_and_slack() -> None:
    weighted = pagerank([{1: 9.0, 2: 1.0}, {}, {}])
    assert weighted[1] > weighted[2]
    personal = pagerank([{}, {}, {}], personalization=[0.0, 0.0, 1.0])
    assert personal == pytest.approx([0.0, 0.0, 1.0])
    # the same single edge passes on less when the node keeps slack back
    assert pagerank([{1: 0.1}, {}], slack=1.0)[1] < pagerank([{1: 0.1}, {}])[1]
    assert pagerank([]) == []


# -- ranking --------------------------------------------------------------------------------------------
CORE = """class Engine:
    def start(self) -> None:
        pass


def make_engine() -> Engine:
    return Engine()
"""


def feature(name: str, extra: str = "") -> str:
    return (
        f"from core import Engine, make_engine\n{extra}\n\n"
        f"def run_{name}() -> Engine:\n    engine = make_engine()\n    engine.start()\n    return engine\n"
    )


SYNTHETIC = {
    "core.py": CORE,
    "rare.py": "def rare_helper() -> int:\n    return 1\n",
    "features/alpha.py": feature("alpha", "from rare import rare_helper\nrare_helper()"),
    "features/beta.py": feature("beta"),
    "features/gamma.py": feature("gamma"),
    "features/delta.py": feature("delta"),
    "main.py": "from features.alpha import run_alpha\nfrom features.beta import run_beta\n\n"
    "def main() -> None:\n    run_alpha()\n    run_beta()\n",
    "README.md": "# Synthetic\n",
}


async def test_the_module_used_everywhere_ranks_first(tmp_path: Path) -> None:
    box = sandbox(make_workspace(tmp_path / "ws", SYNTHETIC))
    result = await repo_map(box)
    assert result.ok
    lines = result.output.splitlines()
    assert lines[0].startswith("Repository map: 7 of 7 source files")
    assert lines[1:5] == [
        "core.py:",
        "     1: class Engine:",
        "     2:   def start(self) -> None:",
        "     6: def make_engine() -> Engine:",
    ]
    index = index_for(box)
    ranking = index.ranking()
    assert max(ranking.files, key=ranking.files.__getitem__) == "core.py"
    assert ranking.files["core.py"] > 2 * ranking.files["rare.py"]
    # among core's definitions, the rank flows to the ones the other files name
    assert ranking.symbols[("core.py", "make_engine")] > ranking.symbols[("core.py", "start")]


async def test_focus_lifts_what_the_focus_files_use(tmp_path: Path) -> None:
    box = sandbox(make_workspace(tmp_path / "ws", SYNTHETIC))
    await index_for(box).refresh(box)
    entries = index_for(box).entries
    plain = rank(entries)
    focused = rank(entries, focus=["features/alpha.py"])
    # rare.py is used by alpha.py only: next to a file that alpha does not use, it gains
    before = plain.files["rare.py"] / plain.files["features/beta.py"]
    after = focused.files["rare.py"] / focused.files["features/beta.py"]
    assert after > 1.5 * before
    assert focused.files["features/alpha.py"] > 2 * plain.files["features/alpha.py"]
    assert sum(focused.files.values()) == pytest.approx(1.0)


def module(i: int, n: int) -> str:
    """Module i defines a class and functions and uses the modules after it (so mod_00 is used most)."""
    uses = "".join(f"from mod_{j:02d} import Widget{j:02d}, build_{j:02d}\n" for j in range(i + 1, n))
    calls = "".join(f"    build_{j:02d}(Widget{j:02d}())\n" for j in range(i + 1, n)) or "    pass\n"
    return (
        f"{uses}\n\nclass Widget{i:02d}:\n    def render_{i:02d}(self, width: int, height: int) -> str:\n"
        f"        return ''\n\n\ndef build_{i:02d}(widget: Widget{i:02d}) -> None:\n{calls}\n\n"
        f"def unused_{i:02d}() -> None:\n    pass\n"
    )


@pytest.mark.parametrize("tokens", [256, 512, 1024, 4096])
async def test_the_map_stays_within_its_token_budget(tmp_path: Path, tokens: int) -> None:
    n = 40
    files = {f"mod_{i:02d}.py": module(n - 1 - i, n) for i in range(n)}  # file order unrelated to rank
    files = {f"mod_{n - 1 - i:02d}.py": text for i, (_, text) in enumerate(files.items())}
    box = sandbox(make_workspace(tmp_path / "ws", files))
    result = await repo_map(box, max_tokens=tokens)
    assert len(result.output) <= tokens * CHARS_PER_TOKEN
    files_shown = [line[:-1] for line in result.output.splitlines() if line.endswith(".py:")]
    assert files_shown[0] == "mod_39.py"  # defined last, used by all 39 others
    if tokens < 4096:
        assert result.output.splitlines()[-1].startswith(f"[{n - len(files_shown)} more files not shown")
    # a bigger budget shows more
    bigger = await repo_map(box, max_tokens=tokens * 2)
    assert len(bigger.output) > len(result.output) or "more files not shown" not in result.output


async def test_path_scope_and_protected_files(tmp_path: Path) -> None:
    box = sandbox(make_workspace(tmp_path / "ws", SYNTHETIC))
    scoped = await repo_map(box, path="features")
    files = [line for line in scoped.output.splitlines()[1:] if not line.startswith(" ")]
    assert files and all(line.startswith("features/") for line in files)
    hidden = await repo_map(box, "core.py")
    assert "core.py" not in hidden.output and "class Engine" not in hidden.output
    outside = await repo_map(box, path="../elsewhere")
    assert not outside.ok and "outside the workspace" in outside.output


async def test_a_workspace_without_source_files(tmp_path: Path) -> None:
    box = sandbox(make_workspace(tmp_path / "ws", {"README.md": "# docs\n", "data.json": "{}"}))
    result = await repo_map(box)
    assert result.ok and result.output.startswith(
        "No definitions found in the workspace (languages: bash, c, cpp"
    )
    assert box.read_paths == []  # only source files are ever read


# -- the cache ------------------------------------------------------------------------------------------
async def test_an_unchanged_repository_is_not_read_again(tmp_path: Path) -> None:
    box = sandbox(make_workspace(tmp_path / "ws", SYNTHETIC))
    first = await repo_map(box)
    assert sorted(box.read_paths) == sorted(p for p in SYNTHETIC if p.endswith(".py"))
    assert box.list_calls == 1
    box.reset()
    second = await repo_map(box)
    assert second.output == first.output
    assert (box.list_calls, box.read_calls, box.read_paths) == (1, 0, [])


async def test_a_touched_file_alone_is_read_again(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", SYNTHETIC)
    box = sandbox(root)
    await repo_map(box)
    box.reset()
    target = root / "features" / "beta.py"
    stat = target.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    await repo_map(box)
    assert box.read_paths == ["features/beta.py"]
    box.reset()
    # a change of content (here: the same size, a new name) shows up in the map
    core = root / "core.py"
    core.write_text(CORE.replace("make_engine", "make_motors"), encoding="utf-8")
    os.utime(core, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    changed = await repo_map(box)
    assert box.read_paths == ["core.py"]
    assert "def make_motors() -> Engine:" in changed.output
    box.reset()
    (root / "rare.py").unlink()
    await repo_map(box)
    assert box.read_paths == []
    assert "rare.py" not in index_for(box).entries


async def test_a_new_process_starts_warm_from_the_disk_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_workspace(tmp_path / "ws", SYNTHETIC)
    first = await repo_map(sandbox(root))
    cached = list(cache_dir().glob("*.json"))
    assert len(cached) == 1 and cache_dir() == tmp_path / "xdg-cache" / "trident" / "repomap"
    monkeypatch.setattr(repomap, "_INDEXES", OrderedDict())  # what a new process has in memory
    box = sandbox(root)
    stats = await index_for(box).refresh(box)
    assert stats.loaded_from_disk and stats.read == 0 and box.read_paths == []
    assert (await repo_map(box)).output == first.output


async def test_a_damaged_disk_cache_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_workspace(tmp_path / "ws", SYNTHETIC)
    first = await repo_map(sandbox(root))
    (cached,) = cache_dir().glob("*.json")
    cached.write_text('{"version": 1, "key": "', encoding="utf-8")
    monkeypatch.setattr(repomap, "_INDEXES", OrderedDict())
    box = sandbox(root)
    assert (await repo_map(box)).output == first.output
    assert len(box.read_paths) == 7


async def test_a_cache_of_another_version_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_workspace(tmp_path / "ws", SYNTHETIC)
    await repo_map(sandbox(root))
    (cached,) = cache_dir().glob("*.json")
    data = json.loads(cached.read_text(encoding="utf-8"))
    data["version"] = "an older extraction"
    cached.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(repomap, "_INDEXES", OrderedDict())
    box = sandbox(root)
    stats = await index_for(box).refresh(box)
    assert not stats.loaded_from_disk and stats.read == 7


def test_old_cache_files_are_pruned(tmp_path: Path) -> None:
    for i in range(5):
        path = tmp_path / f"{i}.json"
        path.write_text("{}", encoding="utf-8")
        os.utime(path, (1_000_000 + i, 1_000_000 + i))
    prune_cache(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["3.json", "4.json"]


async def test_the_disk_cache_can_be_left_off(tmp_path: Path) -> None:
    box = sandbox(make_workspace(tmp_path / "ws", SYNTHETIC))
    result = await RepoMapTool(disk_cache=False).invoke({}, ToolContext(sandbox=box))
    assert result.ok and "core.py:" in result.output
    assert not cache_dir().exists()
