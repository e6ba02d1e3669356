"""`repo_map`: the repository's most-used definitions, ranked, within a token budget (Aider-style).

Each source file is parsed once with tree-sitter: its definitions (the outline's symbols) and the
identifiers it uses. A file that uses a name another file defines gets an edge to it; PageRank over
those edges ranks the files, and each file's rank flows along its edges to the definitions it uses.
The best-ranked definitions are shown, grouped by file, until the budget (4 characters a token) is
spent.

The per-file results are cached by (size, mtime): a refresh is one `list_files` call, then one
`read_files` per batch of files that changed; an unchanged repository is never re-read or re-parsed.
The cache lives in memory per workspace and on disk under `$XDG_CACHE_HOME/trident/repomap/`, so a
new process starts warm.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import importlib.metadata
import json
import math
import os
import re
import tempfile
import threading
import weakref
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field
from tree_sitter import Parser, Query, QueryCursor

from trident.sandbox.base import FileInfo, Sandbox
from trident.tools.base import Tool, ToolArgs, ToolContext, ToolOutput
from trident.tools.glob import normalize, path_key, read_batches
from trident.tools.outline import (
    DEFINITIONS,
    MAX_SIGNATURE_CHARS,
    Symbol,
    definitions_query,
    extract_symbols,
    supported_languages,
)
from trident.tools.paths import protecting_pattern
from trident.tools.syntax import GRAMMARS, grammar, language_for

CACHE_FORMAT = 2
MAX_CACHE_FILES = 32  # workspaces kept on disk, most recently used first
MAX_SOURCE_BYTES = 1_000_000  # larger files are generated or vendored: not indexed
MAX_DEFINERS = 20  # a name defined in more files than this says nothing about who uses whom
MAX_INDEXES = 8  # workspaces kept in memory
CHARS_PER_TOKEN = 4
MAP_SIGNATURE_CHARS = 120
DAMPING = 0.85
NESTED_WEIGHT = 0.3
PLAIN_WORD_WEIGHT = 0.1
SLACK = 1.0  # edge weight a file keeps back (about one specific name used once): weak edges pass on little
# A name shaped like an identifier someone coined: CamelCase, or words joined by `_` (or camelCase).
SPECIFIC_NAME = re.compile(r"^_*[A-Z]|[a-z0-9]_+[a-zA-Z]|[a-z][A-Z]")
IGNORED_NAMES = frozenset({"self", "cls"})  # identifiers to tree-sitter, never a use of a definition

_JS_NAMES = "(identifier) (property_identifier) (shorthand_property_identifier)"
REFERENCES: dict[str, str] = {  # the identifiers whose uses count
    "python": "(identifier) @ref",
    "javascript": f"[{_JS_NAMES}] @ref",
    "typescript": f"[{_JS_NAMES} (type_identifier)] @ref",
    "tsx": f"[{_JS_NAMES} (type_identifier)] @ref",
    "go": "[(identifier) (field_identifier) (type_identifier)] @ref",
    "rust": "[(identifier) (field_identifier) (type_identifier)] @ref",
    "java": "[(identifier) (type_identifier)] @ref",
    "c": "[(identifier) (field_identifier) (type_identifier)] @ref",
    "cpp": "[(identifier) (field_identifier) (type_identifier) (namespace_identifier)] @ref",
    "ruby": "[(identifier) (constant)] @ref",
    "bash": "(command_name (word) @ref)",
}


# -- indexing one file ------------------------------------------------------------------------------
@dataclass(slots=True)
class FileEntry:
    size: int
    mtime_ns: int
    symbols: list[Symbol] = field(default_factory=list)
    refs: dict[str, int] = field(default_factory=dict)  # identifier -> uses (not counting definitions)


@functools.cache
def references_query(language: str) -> Query | None:
    source = REFERENCES.get(language)
    return Query(grammar(language), source) if source else None


_parsers = threading.local()  # parsing runs in a worker thread: parsers are not shared across threads


def _parser(language: str) -> Parser:
    cache: dict[str, Parser] | None = getattr(_parsers, "by_language", None)
    if cache is None:
        cache = _parsers.by_language = {}
    if language not in cache:
        cache[language] = Parser(grammar(language))
    return cache[language]


def index_source(path: str, data: bytes, info: FileInfo) -> FileEntry:
    entry = FileEntry(size=info.size, mtime_ns=info.mtime_ns)
    language = language_for(path)
    if language is None or definitions_query(language) is None or b"\x00" in data[:8192]:
        return entry
    tree = _parser(language).parse(data)
    entry.symbols, name_starts = extract_symbols(tree, data, language)
    query = references_query(language)
    if query is not None:
        uses: Counter[bytes] = Counter()
        for node in QueryCursor(query).captures(tree.root_node).get("ref", []):
            if node.start_byte not in name_starts:
                uses[data[node.start_byte : node.end_byte]] += 1
        entry.refs = {name.decode("utf-8", "replace"): count for name, count in uses.items()}
    return entry


def _index_batch(batch: dict[str, bytes | None], infos: Mapping[str, FileInfo]) -> dict[str, FileEntry]:
    out: dict[str, FileEntry] = {}
    for path, data in batch.items():
        info = infos[path]
        out[path] = (
            index_source(path, data, info) if data is not None else FileEntry(info.size, info.mtime_ns)
        )
    return out


def is_indexed(info: FileInfo) -> bool:
    language = language_for(info.path)
    return language is not None and definitions_query(language) is not None and info.size <= MAX_SOURCE_BYTES


# -- the cached index of a workspace ---------------------------------------------------------------
@dataclass(frozen=True)
class RefreshStats:
    files: int  # source files indexed
    read: int  # of them, read and parsed in this refresh
    removed: int
    loaded_from_disk: bool = False


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trident" / "repomap"


@functools.cache
def cache_version() -> str:
    """Changes whenever what a cached entry holds could: the format, the queries, the grammars."""
    grammars = {}
    for module in sorted({module for module, _ in GRAMMARS.values()}):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            grammars[module] = importlib.metadata.version(module.replace("_", "-"))
    fingerprint = json.dumps([CACHE_FORMAT, DEFINITIONS, REFERENCES, MAX_SIGNATURE_CHARS, grammars])
    return hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()[:16]


def prune_cache(directory: Path, keep: int = MAX_CACHE_FILES) -> None:
    """Delete all but the `keep` most recently used cache files (workspaces come and go)."""
    files = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in files[keep:]:
        with contextlib.suppress(OSError):
            stale.unlink()


class RepoIndex:
    """Symbols and identifier uses of every source file of one workspace, kept fresh by mtime."""

    def __init__(self, key: str, cache_file: Path | None = None) -> None:
        self.key = key
        self.cache_file = cache_file
        self.entries: dict[str, FileEntry] = {}
        self.generation = 0  # bumped whenever an entry changes
        self._loaded = cache_file is None
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._rankings: dict[tuple[Any, ...], Ranking] = {}  # for the current generation
        self._maps: dict[tuple[Any, ...], str] = {}

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if loop not in self._locks:
            self._locks[loop] = asyncio.Lock()
        return self._locks[loop]

    async def refresh(
        self,
        sandbox: Sandbox,
        progress: Callable[[int, int], None] | None = None,
        protected: Sequence[str] = (),
    ) -> RefreshStats:
        """Re-read what changed since the last refresh; protected files are not read at all."""
        async with self._lock():
            loaded = False
            if not self._loaded:
                self._loaded = True
                loaded = await asyncio.to_thread(self.load)
            listed = {
                info.path: info
                for info in await sandbox.list_files(".")
                if is_indexed(info) and not (protected and protecting_pattern(info.path, protected))
            }
            changed = [
                info
                for path, info in listed.items()
                if (old := self.entries.get(path)) is None
                or (old.size, old.mtime_ns) != (info.size, info.mtime_ns)
            ]
            removed = [path for path in self.entries if path not in listed]
            for path in removed:
                del self.entries[path]
            done = 0
            async for batch in read_batches(sandbox, changed):
                self.entries.update(await asyncio.to_thread(_index_batch, batch, listed))
                done += len(batch)
                if progress is not None:
                    progress(done, len(changed))
            if changed or removed:
                self._changed()
                if self.cache_file is not None:
                    await asyncio.to_thread(self.save)
            return RefreshStats(len(listed), len(changed), len(removed), loaded)

    def _changed(self) -> None:
        self.generation += 1
        self._rankings.clear()
        self._maps.clear()

    def ranking(self, protected: Sequence[str] = (), focus: Collection[str] = ()) -> Ranking:
        key = (tuple(protected), tuple(sorted(focus)))
        if key not in self._rankings:
            entries = self.entries
            if protected:
                entries = {p: e for p, e in entries.items() if protecting_pattern(p, protected) is None}
            self._rankings[key] = rank(entries, focus)
        return self._rankings[key]

    def render(
        self, budget_chars: int, scope: str = ".", protected: Sequence[str] = (), focus: Collection[str] = ()
    ) -> str:
        key = (budget_chars, scope, tuple(protected), tuple(sorted(focus)))
        if key not in self._maps:
            self._maps[key] = render_map(self.entries, self.ranking(protected, focus), budget_chars, scope)
        return self._maps[key]

    # -- the disk copy --
    def load(self) -> bool:
        """Adopt the disk cache if it is there and of this version and workspace; False otherwise."""
        assert self.cache_file is not None
        try:
            with open(self.cache_file, encoding="utf-8") as handle:
                data = json.load(handle)
            if data.get("version") != cache_version() or data.get("key") != self.key:
                return False
            self.entries = {
                path: FileEntry(size, mtime, [Symbol(*s) for s in symbols], refs)
                for path, (size, mtime, symbols, refs) in data["files"].items()
            }
        except (OSError, ValueError, TypeError, KeyError):
            return False
        with contextlib.suppress(OSError):
            os.utime(self.cache_file)  # recently used: kept by prune_cache
        self._changed()
        return True

    def save(self) -> None:
        assert self.cache_file is not None
        files = {
            path: [e.size, e.mtime_ns, [_symbol_row(s) for s in e.symbols], e.refs]
            for path, e in self.entries.items()
        }
        payload = {"version": cache_version(), "key": self.key, "files": files}
        with contextlib.suppress(OSError):  # the disk copy is an optimization
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.cache_file.parent, prefix=".repomap.", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(payload, handle, separators=(",", ":"))
                os.replace(tmp, self.cache_file)
            except OSError:
                os.unlink(tmp)
                raise
            prune_cache(self.cache_file.parent)


def _symbol_row(symbol: Symbol) -> list[Any]:
    return [
        symbol.name,
        symbol.kind,
        symbol.line,
        symbol.end_line,
        symbol.depth,
        symbol.parent,
        symbol.signature,
    ]


_INDEXES: OrderedDict[str, RepoIndex] = OrderedDict()


def workspace_key(sandbox: Sandbox) -> str:
    return f"{type(sandbox).__module__}.{type(sandbox).__qualname__}:{sandbox.workspace}"


def index_for(sandbox: Sandbox, disk_cache: bool = True) -> RepoIndex:
    """The process-wide index of this sandbox's workspace (the few most recent are kept)."""
    key = workspace_key(sandbox) + ("" if disk_cache else ":memory")
    index = _INDEXES.get(key)
    if index is None:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
        index = RepoIndex(key, cache_dir() / f"{digest}.json" if disk_cache else None)
        _INDEXES[key] = index
        while len(_INDEXES) > MAX_INDEXES:
            _INDEXES.popitem(last=False)
    _INDEXES.move_to_end(key)
    return index


# -- ranking ------------------------------------------------------------------------------------------
def pagerank(
    edges: Sequence[Mapping[int, float]],
    personalization: Sequence[float] | None = None,
    damping: float = DAMPING,
    slack: float = 0.0,
    tolerance: float = 1e-8,
    max_iterations: int = 100,
) -> list[float]:
    """PageRank by power iteration over weighted edges (`edges[i][j]`: weight of i -> j).

    The random jump lands by `personalization` (uniform if None). A node passes on its rank in
    proportion to its edge weights plus `slack`: the slack's share (all of it, for a node without
    edges) joins the random jump, so that a node whose only edges are weak passes on little through
    them. The ranks sum to 1.
    """
    n = len(edges)
    if n == 0:
        return []
    jump = list(personalization) if personalization is not None else [1.0] * n
    total = sum(jump)
    jump = [x / total for x in jump] if total > 0 else [1.0 / n] * n
    # per node: its targets, and the fraction of its rank each gets (before damping)
    flows = []
    kept = []  # fraction of each node's rank that goes to the random jump instead
    for targets in edges:
        out = sum(targets.values()) + slack
        flows.append([(j, w / out) for j, w in targets.items()] if out > 0 else [])
        kept.append(slack / out if out > 0 else 1.0)
    rank = jump[:]
    for _ in range(max_iterations):
        spread = [0.0] * n
        undirected = 0.0
        for i, flow in enumerate(flows):
            mass = damping * rank[i]
            undirected += mass * kept[i]
            for j, fraction in flow:
                spread[j] += mass * fraction
        teleport = undirected + (1.0 - damping) * sum(rank)
        new = [spread[j] + teleport * jump[j] for j in range(n)]
        change = sum(abs(a - b) for a, b in zip(new, rank, strict=True))
        rank = new
        if change < tolerance * n:
            break
    return rank


def name_weight(name: str, definers: int) -> float:
    """How much a use of `name` says that the user depends on its definer(s)."""
    weight = 1.0 / definers
    if not SPECIFIC_NAME.search(name):
        weight *= PLAIN_WORD_WEIGHT  # `run`, `command`: as often a local variable or another API's name
    if name.startswith("_"):
        weight *= 0.1  # private: a use from another file is unusual, often a same-named local
    if definers > 5:
        weight *= 0.5
    return weight


def definition_weight(symbol: Symbol) -> float:
    """Top-level names are imported and called by name; a member name (`.write`, `.run`) is matched by
    every same-named attribute anywhere, so a use of it is weaker evidence."""
    return 1.0 if symbol.depth == 0 else NESTED_WEIGHT


def definable(symbol: Symbol) -> bool:
    name = symbol.name
    return (
        symbol.kind != "impl"
        and len(name) > 1
        and not (name.startswith("__") and name.endswith("__"))
        and name not in IGNORED_NAMES
    )


@dataclass(frozen=True)
class Ranking:
    files: dict[str, float]  # path -> PageRank
    symbols: dict[tuple[str, str], float]  # (path, name) -> the rank that flows to that definition


def rank(entries: Mapping[str, FileEntry], focus: Collection[str] = ()) -> Ranking:
    paths = sorted(entries, key=path_key)
    index = {path: i for i, path in enumerate(paths)}
    definers: dict[str, dict[int, float]] = {}  # name -> {file: how strongly it defines the name}
    for i, path in enumerate(paths):
        for symbol in entries[path].symbols:
            if definable(symbol):
                where = definers.setdefault(symbol.name, {})
                where[i] = max(where.get(i, 0.0), definition_weight(symbol))
    weights = {
        name: name_weight(name, len(where)) for name, where in definers.items() if len(where) <= MAX_DEFINERS
    }
    # each file's uses of other files' definitions: (definer, name, weight)
    uses: list[list[tuple[int, str, float]]] = []
    edges: list[dict[int, float]] = []
    for i, path in enumerate(paths):
        found: list[tuple[int, str, float]] = []
        targets: dict[int, float] = {}
        for name, count in entries[path].refs.items():
            weight = weights.get(name)
            if weight is None:
                continue
            weight *= math.sqrt(count)
            for d, strength in definers[name].items():
                if d != i:
                    found.append((d, name, weight * strength))
                    targets[d] = targets.get(d, 0.0) + weight * strength
        uses.append(found)
        edges.append(targets)
    focused = [index[p] for p in focus if p in index]
    personalization = None
    if focused:  # half of the random jumps land on the focus files
        personalization = [1.0] * len(paths)
        for i in focused:
            personalization[i] += len(paths) / len(focused)
    ranks = pagerank(edges, personalization, slack=SLACK)
    symbols: dict[tuple[str, str], float] = {}
    for i, found in enumerate(uses):
        share = ranks[i] / (sum(edges[i].values()) + SLACK)
        for d, name, weight in found:
            key = (paths[d], name)
            symbols[key] = symbols.get(key, 0.0) + share * weight
    return Ranking({path: ranks[i] for i, path in enumerate(paths)}, symbols)


# -- rendering ----------------------------------------------------------------------------------------
def map_line(symbol: Symbol) -> str:
    text = symbol.signature
    if len(text) > MAP_SIGNATURE_CHARS:
        text = text[: MAP_SIGNATURE_CHARS - 3] + "..."
    return f"{symbol.line:>6}: {'  ' * symbol.depth}{text}"


def render_map(
    entries: Mapping[str, FileEntry], ranking: Ranking, budget_chars: int, scope: str = "."
) -> str:
    """The best-ranked definitions that fit in `budget_chars`, grouped by file (best file first),
    each with the definitions that enclose it; in line order within a file."""
    in_scope = [p for p in ranking.files if scope == "." or p == scope or p.startswith(scope + "/")]
    with_symbols = [p for p in in_scope if entries[p].symbols]
    if not with_symbols:
        where = "the workspace" if scope == "." else scope
        return f"No definitions found in {where} (languages: {', '.join(supported_languages())})"
    candidates = sorted(
        (
            (
                -ranking.symbols.get((path, s.name), 0.0),
                -ranking.files[path],
                s.depth,
                path_key(path),
                s.line,
                path,
                k,
            )
            for path in with_symbols
            for k, s in enumerate(entries[path].symbols)
        ),
    )
    reserve = 400  # the header and the footer
    used = reserve
    chosen: dict[str, set[int]] = {}
    misses = 0
    for *_, path, k in candidates:
        symbols = entries[path].symbols
        if k in chosen.get(path, ()):
            continue
        needed = [k]
        while symbols[needed[-1]].parent >= 0 and symbols[needed[-1]].parent not in chosen.get(path, ()):
            needed.append(symbols[needed[-1]].parent)
        cost = sum(len(map_line(symbols[j])) + 1 for j in needed) + (0 if path in chosen else len(path) + 2)
        if used + cost > budget_chars:
            misses += 1
            if misses > 200:
                break
            continue
        chosen.setdefault(path, set()).update(needed)
        used += cost
    order = sorted(chosen, key=lambda p: (-ranking.files[p], path_key(p)))
    body: list[str] = []
    for path in order:
        body.append(f"{path}:")
        body += [map_line(entries[path].symbols[j]) for j in sorted(chosen[path])]
    header = (
        f"Repository map: {len(order)} of {len(with_symbols)} source files, the definitions the rest of "
        "the code uses most first (`line: definition`; nested ones indented). `outline` a file for all "
        "of its symbols."
    )
    lines = [header, *body]
    left_out = len(with_symbols) - len(order)
    if left_out:
        lines.append(
            f"[{left_out} more files not shown; raise max_tokens, or give a `path` to map one directory]"
        )
    return "\n".join(lines)


# -- the tool -------------------------------------------------------------------------------------------
class RepoMapArgs(ToolArgs):
    max_tokens: int = Field(
        2048,
        ge=256,
        le=16384,
        description="Size of the map, in tokens (about 4 characters each).",
        examples=[4096],
    )
    path: str = Field(
        ".",
        description="Only show files in this directory (ranks still come from the whole repository).",
        examples=["src/server"],
    )
    focus: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Files you are working on: the map favors the code they use and the code that uses them.",
        examples=[["src/app.py"]],
    )


class RepoMapTool(Tool[RepoMapArgs]):
    name = "repo_map"
    args_model = RepoMapArgs
    read_only = True

    def __init__(self, disk_cache: bool = True) -> None:
        self._disk_cache = disk_cache

    async def run(self, args: RepoMapArgs, ctx: ToolContext) -> ToolOutput:
        scope = normalize(args.path, ctx)
        if scope != ".":
            await ctx.sandbox.list_files(scope, limit=1)  # a path outside the workspace is refused here
        focus = [normalize(p, ctx) for p in args.focus]
        index = index_for(ctx.sandbox, self._disk_cache)
        await index.refresh(ctx.sandbox, protected=ctx.protected_paths)
        budget = args.max_tokens * CHARS_PER_TOKEN
        return ToolOutput(index.render(budget, scope, ctx.protected_paths, focus))
