"""`outline`: the classes, functions and methods of a source file, nested, with line ranges.

Definitions come from one tree-sitter query per language (`DEFINITIONS`); nesting comes from node
ranges; a function directly inside a class-like definition is a method. Definitions inside function
bodies (closures, local helpers) are left out: an outline is the file's shape, not its every name.
The repo map (`tools/repomap.py`) uses the same extraction.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from pydantic import Field
from tree_sitter import Node, Query, QueryCursor, Tree

from trident.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolOutput
from trident.tools.glob import normalize
from trident.tools.paths import probe, refuse_special
from trident.tools.syntax import GRAMMARS, grammar, language_for, parser_for

MAX_OUTLINE_BYTES = 5_000_000
MAX_OUTLINE_LINES = 400
MAX_SIGNATURE_CHARS = 200

# `@definition.<kind>` marks the node, `@name` its name. "function" becomes "method" inside a
# class-like definition. C and C++ functions have no @name: it is found in their declarator chain.
_JS = """
(class_declaration name: (_) @name) @definition.class
(function_declaration name: (_) @name) @definition.function
(generator_function_declaration name: (_) @name) @definition.function
(method_definition name: (_) @name) @definition.function
(variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)])
  @definition.function
"""
_TS = (
    _JS
    + """
(abstract_class_declaration name: (_) @name) @definition.class
(interface_declaration name: (_) @name) @definition.interface
(type_alias_declaration name: (_) @name) @definition.type
(enum_declaration name: (_) @name) @definition.enum
(internal_module name: (_) @name) @definition.module
(function_signature name: (_) @name) @definition.function
(method_signature name: (_) @name) @definition.function
(abstract_method_signature name: (_) @name) @definition.function
"""
)
_C = """
(function_definition declarator: (_)) @definition.function
(declaration declarator: [(function_declarator) (pointer_declarator)]) @definition.function
(struct_specifier name: (_) @name body: (_)) @definition.struct
(union_specifier name: (_) @name body: (_)) @definition.struct
(enum_specifier name: (_) @name body: (_)) @definition.enum
(type_definition declarator: (type_identifier) @name) @definition.type
"""
DEFINITIONS: dict[str, str] = {
    "python": """
(class_definition name: (identifier) @name) @definition.class
(function_definition name: (identifier) @name) @definition.function
""",
    "javascript": _JS,
    "typescript": _TS,
    "tsx": _TS,
    "go": """
(function_declaration name: (identifier) @name) @definition.function
(method_declaration name: (field_identifier) @name) @definition.method
(type_spec name: (type_identifier) @name) @definition.type
(type_alias name: (type_identifier) @name) @definition.type
(method_elem name: (field_identifier) @name) @definition.function
""",
    "rust": """
(struct_item name: (type_identifier) @name) @definition.struct
(union_item name: (type_identifier) @name) @definition.struct
(enum_item name: (type_identifier) @name) @definition.enum
(trait_item name: (type_identifier) @name) @definition.trait
(type_item name: (type_identifier) @name) @definition.type
(mod_item name: (identifier) @name) @definition.module
(impl_item type: (_) @name) @definition.impl
(function_item name: (identifier) @name) @definition.function
(function_signature_item name: (identifier) @name) @definition.function
(macro_definition name: (identifier) @name) @definition.macro
""",
    "java": """
(class_declaration name: (identifier) @name) @definition.class
(record_declaration name: (identifier) @name) @definition.class
(interface_declaration name: (identifier) @name) @definition.interface
(annotation_type_declaration name: (identifier) @name) @definition.interface
(enum_declaration name: (identifier) @name) @definition.enum
(method_declaration name: (identifier) @name) @definition.function
(constructor_declaration name: (identifier) @name) @definition.function
""",
    "c": _C,
    "cpp": _C
    + """
(class_specifier name: (_) @name body: (_)) @definition.class
(namespace_definition name: (_) @name) @definition.module
(field_declaration declarator: [(function_declarator) (pointer_declarator)]) @definition.function
(alias_declaration name: (type_identifier) @name) @definition.type
""",
    "ruby": """
(class name: (_) @name) @definition.class
(module name: (_) @name) @definition.module
(method name: (_) @name) @definition.function
(singleton_method name: (_) @name) @definition.function
""",
    "bash": """
(function_definition name: (word) @name) @definition.function
""",
}
CLASS_LIKE = frozenset({"class", "struct", "interface", "trait", "impl", "enum"})
CALLABLE = frozenset({"function", "method"})
GO_TYPE_KINDS = {"struct_type": "struct", "interface_type": "interface"}
DECLARATOR_NAMES = frozenset(
    {"identifier", "field_identifier", "qualified_identifier", "destructor_name", "operator_name"}
)


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str
    kind: str  # class, struct, interface, trait, impl, enum, module, type, macro, function, method
    line: int  # 1-based, first line of the definition
    end_line: int
    depth: int  # 0 at top level
    parent: int  # index of the enclosing symbol in the file's list, -1 at top level
    signature: str  # the definition's header, whitespace collapsed


@functools.cache
def definitions_query(language: str) -> Query | None:
    source = DEFINITIONS.get(language)
    return Query(grammar(language), source) if source else None


def supported_languages() -> list[str]:
    return sorted(language for language in GRAMMARS if language in DEFINITIONS)


def extract_symbols(tree: Tree, source: bytes, language: str) -> tuple[list[Symbol], set[int]]:
    """The file's definitions in source order (parents before children), and the start bytes of
    their name nodes (so that a name where it is defined does not count as a use)."""
    query = definitions_query(language)
    if query is None:
        return [], set()
    found: dict[int, tuple[Node, str, str, int]] = {}  # node id -> (node, kind, name, name start)
    for _, captures in QueryCursor(query).matches(tree.root_node):
        for capture, nodes in captures.items():
            if not capture.startswith("definition."):
                continue
            node = nodes[0]
            named = captures.get("name")
            name_node = named[0] if named else _declarator_name(node)
            if name_node is None or node.id in found:
                continue
            name = _text(source, name_node).rsplit("::", 1)[-1]
            found[node.id] = (node, capture.removeprefix("definition."), name, name_node.start_byte)
    symbols: list[Symbol] = []
    name_starts: set[int] = set()
    stack: list[tuple[int, int]] = []  # (end byte, index in symbols) of the open definitions
    for node, kind, name, name_start in sorted(
        found.values(), key=lambda f: (f[0].start_byte, -f[0].end_byte)
    ):
        name_starts.add(name_start)
        while stack and stack[-1][0] <= node.start_byte:
            stack.pop()
        parent = stack[-1][1] if stack else -1
        if stack and node.end_byte > stack[-1][0]:
            continue  # overlaps without nesting: a parse error; skip it
        if parent >= 0 and symbols[parent].kind in CALLABLE:
            stack.append((node.end_byte, parent))  # inside a function body: left out, with all below
            continue
        if node.type == "type_spec":  # Go: `type X struct {...}`, `type Y interface {...}`
            declared = node.child_by_field_name("type")
            kind = GO_TYPE_KINDS.get(declared.type if declared is not None else "", kind)
        if kind == "function" and parent >= 0 and symbols[parent].kind in CLASS_LIKE:
            kind = "method"
        shown = _declaration_of(node)
        symbols.append(
            Symbol(
                name=name,
                kind=kind,
                line=shown.start_point.row + 1,
                end_line=shown.end_point.row + 1,
                depth=symbols[parent].depth + 1 if parent >= 0 else 0,
                parent=parent,
                signature=signature(shown, node, name, source),
            )
        )
        stack.append((node.end_byte, len(symbols) - 1))
    return symbols, name_starts


def _text(source: bytes, node: Node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _declarator_name(node: Node) -> Node | None:
    """The name in a C/C++ declarator chain (`int *(*f)(void)`), if the chain declares a function."""
    current = node.child_by_field_name("declarator")
    is_function = False
    while current is not None:
        if current.type == "function_declarator":
            is_function = True
        if current.type in DECLARATOR_NAMES:
            return current if is_function else None
        current = current.child_by_field_name("declarator")
    return None


def _declaration_of(node: Node) -> Node:
    """What a definition looks like in the source: `const f = () => ...` for an arrow function."""
    parent = node.parent
    if node.type == "variable_declarator" and parent is not None and parent.named_child_count == 1:
        return parent
    return node


def signature(shown: Node, node: Node, name: str, source: bytes) -> str:
    """The header of a definition: its text up to the body (or the first line), whitespace collapsed."""
    body = node.child_by_field_name("body")
    if node.type == "variable_declarator":
        value = node.child_by_field_name("value")
        body = value.child_by_field_name("body") if value is not None else None
    if body is not None and body.start_byte > shown.start_byte:
        text = source[shown.start_byte : body.start_byte].decode("utf-8", "replace")
    else:
        text = _text(source, shown).split("\n", 1)[0]
        text = text.split("{", 1)[0] if "{" in text and node.type != "type_alias_declaration" else text
    text = " ".join(text.split()).replace("( ", "(").replace(" )", ")").rstrip()
    if node.type == "type_spec":
        text = "type " + text
    if name not in text:  # `typedef struct {...} T`: the name comes after the body
        text = f"{text} {name}"
    if len(text) > MAX_SIGNATURE_CHARS:
        text = text[: MAX_SIGNATURE_CHARS - 3] + "..."
    return text


def parse_symbols(path: str, source: bytes) -> list[Symbol] | None:
    """The symbols of a file; None when its language is unknown or has no outline."""
    language = language_for(path)
    if language is None or definitions_query(language) is None:
        return None
    tree = parser_for(language).parse(source)
    return extract_symbols(tree, source, language)[0]


def describe(symbols: list[Symbol]) -> str:
    counts: dict[str, int] = {}
    for symbol in symbols:
        counts[symbol.kind] = counts.get(symbol.kind, 0) + 1
    order = ["class", "struct", "interface", "trait", "impl", "enum", "module", "type", "macro", "function"]
    return ", ".join(f"{counts[k]} {_plural(k, counts[k])}" for k in [*order, "method"] if counts.get(k))


def _plural(kind: str, count: int) -> str:
    if count == 1:
        return kind
    return kind + ("es" if kind == "class" else "s")


def render_outline(path: str, symbols: list[Symbol], total_lines: int, limit: int = MAX_OUTLINE_LINES) -> str:
    if not symbols:
        return f"{path} ({total_lines:,} lines): no classes or functions"
    header = f"{path} ({total_lines:,} lines): {describe(symbols)}"
    lines = [f"{f'{s.line}-{s.end_line}':>11}  {'  ' * s.depth}{s.signature}" for s in symbols[:limit]]
    if len(symbols) > limit:
        lines.append(f"[{len(symbols) - limit:,} more symbols left out]")
    return "\n".join([header, *lines])


class OutlineArgs(ToolArgs):
    path: str = Field(description="Source file, relative to the workspace root.", examples=["src/app.py"])


class OutlineTool(Tool[OutlineArgs]):
    name = "outline"
    args_model = OutlineArgs
    read_only = True

    async def run(self, args: OutlineArgs, ctx: ToolContext) -> ToolOutput:
        path = normalize(args.path, ctx)
        await ctx.sandbox.list_files(path, limit=1)  # refuses a path outside the workspace
        found = await probe(ctx, path)
        if found.kind == "directory":
            raise ToolError(f"{path} is a directory; use `repo_map` with path={path!r}, or `ls`")
        await refuse_special(ctx, path, found)
        language = language_for(path)
        if language is None or definitions_query(language) is None:
            raise ToolError(
                f"no outline for {path}: not a source file in a supported language "
                f"({', '.join(supported_languages())}); use `read` instead"
            )
        if found.size > MAX_OUTLINE_BYTES:
            raise ToolError(f"{path} is too large to outline ({found.size:,} bytes); use `grep` in it")
        data = await ctx.sandbox.read_file(path)
        if b"\x00" in data[:8192]:
            raise ToolError(f"{path} is a binary file")
        symbols = parse_symbols(path, data) or []
        total_lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
        return ToolOutput(render_outline(path, symbols, total_lines))
