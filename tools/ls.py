"""`ls`: a directory's entries with sizes, subdirectories marked and summarized, capped."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import Field

from trident.tools.base import Tool, ToolArgs, ToolContext, ToolOutput
from trident.tools.glob import list_under, relative_to

MAX_ENTRIES = 200


class LsArgs(ToolArgs):
    path: str = Field(".", description="Directory to list, relative to the workspace root.", examples=["src"])
    depth: int = Field(
        1, ge=1, le=5, description="Levels shown: 1 lists the directory's own entries.", examples=[2]
    )
    max_entries: int = Field(MAX_ENTRIES, ge=1, le=2000, description="How many lines to show at most.")


@dataclass
class Node:
    files: dict[str, int] = field(default_factory=dict)  # name -> size
    dirs: dict[str, Node] = field(default_factory=dict)
    count: int = 0  # files below, at any depth
    size: int = 0

    def add(self, parts: list[str], size: int) -> None:
        self.count += 1
        self.size += size
        if len(parts) == 1:
            self.files[parts[0]] = size
        else:
            self.dirs.setdefault(parts[0], Node()).add(parts[1:], size)


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            break
    return f"{value:.1f} {unit}"


def plural(count: int, word: str, words: str = "") -> str:
    return f"{count:,} {word if count == 1 else words or word + 's'}"


def render_tree(node: Node, depth: int, indent: str = "") -> list[str]:
    """Directories first (with their file count and total size), then files; each by name."""
    lines: list[str] = []
    for name in sorted(node.dirs):
        sub = node.dirs[name]
        lines.append(f"{indent}{name}/  ({plural(sub.count, 'file')}, {human_size(sub.size)})")
        if depth > 1:
            lines += render_tree(sub, depth - 1, indent + "  ")
    lines += [f"{indent}{name}  {human_size(node.files[name])}" for name in sorted(node.files)]
    return lines


class LsTool(Tool[LsArgs]):
    name = "ls"
    args_model = LsArgs
    read_only = True

    async def run(self, args: LsArgs, ctx: ToolContext) -> ToolOutput:
        listing = await list_under(ctx, args.path)
        if listing.is_file:
            return ToolOutput(f"{listing.base}  {human_size(listing.files[0].size)} (a file)")
        root = Node()
        for info in listing.files:
            root.add(relative_to(info.path, listing.base).split("/"), info.size)
        where = "." if listing.base == "." else listing.base + "/"
        if root.count == 0:
            return ToolOutput(f"{where} has no files (not listed: .git, node_modules, virtualenvs, caches)")
        lines = render_tree(root, args.depth)
        header = (
            f"{where}  ({plural(len(root.dirs), 'directory', 'directories')}, "
            f"{plural(len(root.files), 'file')}; {plural(root.count, 'file')} in all, "
            f"{human_size(root.size)})"
        )
        shown = lines[: args.max_entries]
        if len(lines) > len(shown):
            shown.append(
                f"[{len(lines) - len(shown):,} more entries left out; list a subdirectory, "
                "lower depth or raise max_entries]"
            )
        return ToolOutput("\n".join([header, *shown]))
