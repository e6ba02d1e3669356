"""`outline`: definitions of real source files in several languages, with names, kinds, lines, nesting."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.helpers import make_workspace
from trident.sandbox.local import LocalSandbox
from trident.tools.base import ToolContext, ToolOutput
from trident.tools.outline import OutlineTool, Symbol, parse_symbols

PYTHON = '''"""A module."""
import os


class Store(Base):
    """Keeps things."""

    class Entry:
        def key(self) -> str:
            return "k"

    @property
    def size(
        self,
        exact: bool = False,
    ) -> int:
        def local() -> int:  # inside a function body: not in the outline
            return 1

        return local()


def open_store(path: str) -> Store:
    class Hidden:
        pass

    return Store()


async def main() -> None: ...
'''

JAVASCRIPT = """import x from "y";

export class Parser extends Base {
  constructor(text) {
    super();
    this.text = text;
  }

  parse() {
    const inner = () => 1;
    return inner();
  }
}

function tokenize(text) {
  return text.split(" ");
}

export const render = async (tree) => {
  return String(tree);
};
"""

TYPESCRIPT = """export interface Options {
  verbose: boolean;
  log(message: string): void;
}

export type Id = string | number;

enum Color {
  Red,
  Green,
}

export abstract class Shape {
  abstract area(): number;

  describe(): string {
    return `area ${this.area()}`;
  }
}

export function makeShape(options: Options): Shape {
  throw new Error("todo");
}

namespace Geometry {
  export function origin(): number {
    return 0;
  }
}
"""

TSX = """import React from "react";

export function Button(props: { label: string }) {
  return <button>{props.label}</button>;
}

export const Panel = ({ title }: { title: string }) => (
  <div>{title}</div>
);
"""

GO = """package server

import "net/http"

type Server struct {
	Addr string
}

type Handler interface {
	Serve(w http.ResponseWriter) error
}

func New(addr string) *Server {
	return &Server{Addr: addr}
}

func (s *Server) Start() error {
	handler := func() {}
	handler()
	return nil
}
"""

RUST = """use std::fmt;

pub struct Point {
    x: i32,
    y: i32,
}

pub trait Shape {
    fn area(&self) -> f64;
}

impl Shape for Point {
    fn area(&self) -> f64 {
        fn helper() -> f64 { 1.0 }
        helper()
    }
}

pub enum Kind {
    A,
    B,
}

mod geometry {
    pub fn origin() -> Point {
        Point { x: 0, y: 0 }
    }
}
"""

JAVA = """package app;

public class Account {
    private int balance;

    public Account(int start) {
        balance = start;
    }

    public void deposit(int amount) {
        balance += amount;
    }

    interface Listener {
        void changed(int balance);
    }
}
"""

C = """#include <stdio.h>

struct point {
    int x;
};

static int *find(int key, char **names) {
    return 0;
}

int count(void);
"""

CPP = """namespace geo {
class Circle : public Shape {
 public:
  double area() const;
  double radius() const { return r_; }
};
}

double geo::Circle::area() const {
  return 3.14;
}
"""

RUBY = """module Billing
  class Invoice < Base
    def total(items)
      items.sum
    end

    def self.build
      new
    end
  end
end
"""


def shape(symbols: list[Symbol] | None) -> list[tuple[str, str, int, int, int]]:
    assert symbols is not None
    return [(s.name, s.kind, s.line, s.end_line, s.depth) for s in symbols]


def test_python() -> None:
    symbols = parse_symbols("store.py", PYTHON.encode())
    assert shape(symbols) == [
        ("Store", "class", 5, 20, 0),
        ("Entry", "class", 8, 10, 1),
        ("key", "method", 9, 10, 2),
        ("size", "method", 13, 20, 1),
        ("open_store", "function", 23, 27, 0),
        ("main", "function", 30, 30, 0),
    ]
    assert symbols is not None
    assert [s.signature for s in symbols] == [
        "class Store(Base):",
        "class Entry:",
        "def key(self) -> str:",
        "def size(self, exact: bool = False,) -> int:",
        "def open_store(path: str) -> Store:",
        "async def main() -> None:",
    ]
    assert [s.parent for s in symbols] == [-1, 0, 1, 0, -1, -1]


def test_javascript() -> None:
    symbols = parse_symbols("parser.js", JAVASCRIPT.encode())
    assert shape(symbols) == [
        ("Parser", "class", 3, 13, 0),
        ("constructor", "method", 4, 7, 1),
        ("parse", "method", 9, 12, 1),
        ("tokenize", "function", 15, 17, 0),
        ("render", "function", 19, 21, 0),
    ]
    assert symbols is not None
    assert symbols[0].signature == "class Parser extends Base"
    assert symbols[4].signature == "const render = async (tree) =>"


def test_typescript() -> None:
    symbols = parse_symbols("shapes.ts", TYPESCRIPT.encode())
    assert shape(symbols) == [
        ("Options", "interface", 1, 4, 0),
        ("log", "method", 3, 3, 1),
        ("Id", "type", 6, 6, 0),
        ("Color", "enum", 8, 11, 0),
        ("Shape", "class", 13, 19, 0),
        ("area", "method", 14, 14, 1),
        ("describe", "method", 16, 18, 1),
        ("makeShape", "function", 21, 23, 0),
        ("Geometry", "module", 25, 29, 0),
        ("origin", "function", 26, 28, 1),
    ]
    assert symbols is not None
    assert symbols[7].signature == "function makeShape(options: Options): Shape"


def test_tsx() -> None:
    symbols = parse_symbols("button.tsx", TSX.encode())
    assert shape(symbols) == [("Button", "function", 3, 5, 0), ("Panel", "function", 7, 9, 0)]


def test_go() -> None:
    symbols = parse_symbols("server.go", GO.encode())
    assert shape(symbols) == [
        ("Server", "struct", 5, 7, 0),
        ("Handler", "interface", 9, 11, 0),
        ("Serve", "method", 10, 10, 1),
        ("New", "function", 13, 15, 0),
        ("Start", "method", 17, 21, 0),  # a Go method is declared at the top level, with its receiver
    ]
    assert symbols is not None
    assert symbols[0].signature == "type Server struct"
    assert symbols[4].signature == "func (s *Server) Start() error"


def test_rust() -> None:
    symbols = parse_symbols("geometry.rs", RUST.encode())
    assert shape(symbols) == [
        ("Point", "struct", 3, 6, 0),
        ("Shape", "trait", 8, 10, 0),
        ("area", "method", 9, 9, 1),
        ("Point", "impl", 12, 17, 0),
        ("area", "method", 13, 16, 1),
        ("Kind", "enum", 19, 22, 0),
        ("geometry", "module", 24, 28, 0),
        ("origin", "function", 25, 27, 1),
    ]
    assert symbols is not None
    assert symbols[3].signature == "impl Shape for Point"


def test_java_c_cpp_ruby() -> None:
    assert shape(parse_symbols("Account.java", JAVA.encode())) == [
        ("Account", "class", 3, 17, 0),
        ("Account", "method", 6, 8, 1),
        ("deposit", "method", 10, 12, 1),
        ("Listener", "interface", 14, 16, 1),
        ("changed", "method", 15, 15, 2),
    ]
    assert shape(parse_symbols("find.c", C.encode())) == [
        ("point", "struct", 3, 5, 0),
        ("find", "function", 7, 9, 0),
        ("count", "function", 11, 11, 0),
    ]
    assert shape(parse_symbols("circle.cpp", CPP.encode())) == [
        ("geo", "module", 1, 7, 0),
        ("Circle", "class", 2, 6, 1),
        ("area", "method", 4, 4, 2),
        ("radius", "method", 5, 5, 2),
        ("area", "function", 9, 11, 0),
    ]
    assert shape(parse_symbols("invoice.rb", RUBY.encode())) == [
        ("Billing", "module", 1, 11, 0),
        ("Invoice", "class", 2, 10, 1),
        ("total", "method", 3, 5, 2),
        ("build", "method", 7, 9, 2),
    ]


def test_unknown_languages_have_no_outline() -> None:
    assert parse_symbols("notes.md", b"# Title\n") is None
    assert parse_symbols("empty.py", b"") == []


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[LocalSandbox]:
    root = make_workspace(
        tmp_path / "ws", {"src/store.py": PYTHON, "notes.md": "# hi\n", "src/flat.py": "x = 1\n"}
    )
    (root / "blob.py").write_bytes(b"\x00\x01binary")
    sandbox = LocalSandbox(root)
    yield sandbox
    await sandbox.close()


async def outline(box: LocalSandbox, path: str) -> ToolOutput:
    return await OutlineTool().invoke({"path": path}, ToolContext(sandbox=box))


async def test_the_tool_shows_ranges_headers_and_nesting(box: LocalSandbox) -> None:
    result = await outline(box, "src/store.py")
    assert result.ok
    assert result.output.splitlines() == [
        "src/store.py (30 lines): 2 classes, 2 functions, 2 methods",
        "       5-20  class Store(Base):",
        "       8-10    class Entry:",
        "       9-10      def key(self) -> str:",
        "      13-20    def size(self, exact: bool = False,) -> int:",
        "      23-27  def open_store(path: str) -> Store:",
        "      30-30  async def main() -> None:",
    ]


async def test_the_tool_explains_what_it_cannot_outline(box: LocalSandbox) -> None:
    flat = await outline(box, "src/flat.py")
    assert flat.ok and flat.output == "src/flat.py (1 lines): no classes or functions"
    markdown = await outline(box, "notes.md")
    assert not markdown.ok and "not a source file in a supported language" in markdown.output
    assert "python" in markdown.output and "use `read` instead" in markdown.output
    binary = await outline(box, "blob.py")
    assert not binary.ok and "binary" in binary.output
    missing = await outline(box, "src/missing.py")
    assert not missing.ok and "does not exist" in missing.output
    directory = await outline(box, "src")
    assert not directory.ok and "src is a directory; use `repo_map` with path='src'" in directory.output
    outside = await outline(box, "../elsewhere.py")
    assert not outside.ok and "outside the workspace" in outside.output


async def test_a_fifo_is_refused_without_being_opened(box: LocalSandbox) -> None:
    os.mkfifo(Path(box.workspace) / "pipe.py")
    result = await asyncio.wait_for(outline(box, "pipe.py"), 20)
    assert not result.ok and "not a regular file" in result.output
