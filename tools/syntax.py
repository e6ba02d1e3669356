"""Syntax checks with tree-sitter: the language of a path, cached parsers, and the errors in a text.

The file tools report only the errors a change introduced (`new_syntax_errors`); other tools (an
outline, a repo map) reuse `language_for` and `parser_for`.
"""

from __future__ import annotations

import functools
import importlib
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath

from tree_sitter import Language, Node, Parser, Tree

MAX_CHECK_BYTES = 2_000_000  # larger files are not checked: parsing them would stall the tool
MAX_REPORTED = 8

# language name -> (module, function returning the grammar)
GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
    "bash": ("tree_sitter_bash", "language"),
}

EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "cpp",  # C++ headers are common and the C++ grammar reads nearly all C
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".hh": "cpp",
    ".hpp": "cpp",
    ".hxx": "cpp",
    ".rb": "ruby",
    ".rake": "ruby",
    ".gemspec": "ruby",
    ".sh": "bash",
    ".bash": "bash",
}

FILE_NAMES: dict[str, str] = {
    "Rakefile": "ruby",
    "Gemfile": "ruby",
    ".bashrc": "bash",
    ".bash_profile": "bash",
}


@dataclass(frozen=True)
class SyntaxIssue:
    line: int  # 1-based
    column: int  # 1-based, in characters
    message: str  # "unexpected `)`", "missing `:`"
    source: str  # the line it is on, stripped and shortened

    def __str__(self) -> str:
        return f"{self.line}:{self.column} {self.message}" + (f"  | {self.source}" if self.source else "")


def language_for(path: str) -> str | None:
    """The tree-sitter language name for a path, by extension or well-known file name; None if unknown."""
    name = PurePosixPath(path.replace("\\", "/")).name
    if name in FILE_NAMES:
        return FILE_NAMES[name]
    return EXTENSIONS.get(PurePosixPath(name).suffix.lower())


@functools.cache
def grammar(language: str) -> Language:
    module_name, function = GRAMMARS[language]
    module = importlib.import_module(module_name)
    return Language(getattr(module, function)())


@functools.cache
def parser_for(language: str) -> Parser:
    """One parser per language for the process (tools run on one event loop thread)."""
    return Parser(grammar(language))


def parse(path: str, text: str) -> Tree | None:
    language = language_for(path)
    if language is None:
        return None
    return parser_for(language).parse(text.encode("utf-8"))


def syntax_errors(path: str, text: str) -> list[SyntaxIssue]:
    """Every syntax error tree-sitter finds; [] for an unknown language or a text too large to check."""
    data = text.encode("utf-8")
    language = language_for(path)
    if language is None or len(data) > MAX_CHECK_BYTES:
        return []
    tree = parser_for(language).parse(data)
    lines = data.split(b"\n")
    return [_issue(node, lines) for node in _error_nodes(tree.root_node)]


def new_syntax_errors(path: str, before: str | None, after: str) -> list[SyntaxIssue]:
    """Errors in `after` that `before` did not have, matched by message and source line (not position,
    since an edit moves the lines below it)."""
    errors = syntax_errors(path, after)
    if not errors or before is None:
        return errors
    old = Counter((e.message, e.source) for e in syntax_errors(path, before))
    fresh: list[SyntaxIssue] = []
    for error in errors:
        key = (error.message, error.source)
        if old[key] > 0:
            old[key] -= 1
        else:
            fresh.append(error)
    return fresh


def syntax_report(path: str, before: str | None, after: str) -> str:
    """A note for a tool result about the syntax errors a change introduced; "" when there are none."""
    issues = new_syntax_errors(path, before, after)
    if not issues:
        return ""
    shown = "\n".join(f"  {path}:{issue}" for issue in issues[:MAX_REPORTED])
    more = f"\n  [... {len(issues) - MAX_REPORTED} more]" if len(issues) > MAX_REPORTED else ""
    return (
        f"Warning: this change introduced {len(issues)} syntax error(s) "
        f"({language_for(path)}, tree-sitter); fix them:\n{shown}{more}"
    )


def _error_nodes(root: Node) -> list[Node]:
    """ERROR and MISSING nodes in document order, not descending into an ERROR (one report each)."""
    found: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            found.append(node)
            continue
        if node.has_error:
            stack.extend(reversed(node.children))
    return found


def _issue(node: Node, lines: list[bytes]) -> SyntaxIssue:
    row, byte_column = node.start_point
    line = lines[row] if row < len(lines) else b""
    column = len(line[:byte_column].decode("utf-8", "replace")) + 1
    if node.is_missing:
        message = f"missing `{node.type}`"
    else:
        snippet = (node.text or b"").decode("utf-8", "replace").strip().split("\n")[0]
        message = f"unexpected `{_shorten(snippet, 30)}`" if snippet else "syntax error"
    return SyntaxIssue(row + 1, column, message, _shorten(line.decode("utf-8", "replace").strip(), 80))


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
