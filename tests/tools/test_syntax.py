"""tree-sitter syntax checks: language by path, real grammars, and which errors count as new."""

from __future__ import annotations

import pytest

from trident.tools.syntax import (
    MAX_CHECK_BYTES,
    SyntaxIssue,
    language_for,
    new_syntax_errors,
    parse,
    parser_for,
    syntax_errors,
    syntax_report,
)


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("src/app.py", "python"),
        ("stubs/x.pyi", "python"),
        ("web/app.js", "javascript"),
        ("web/app.mjs", "javascript"),
        ("web/App.jsx", "javascript"),
        ("web/app.ts", "typescript"),
        ("web/App.tsx", "tsx"),
        ("cmd/main.go", "go"),
        ("src/lib.rs", "rust"),
        ("src/Main.java", "java"),
        ("src/main.c", "c"),
        ("include/vec.h", "cpp"),
        ("src/vec.cpp", "cpp"),
        ("src/vec.HPP", "cpp"),
        ("lib/gem.rb", "ruby"),
        ("Rakefile", "ruby"),
        ("scripts/run.sh", "bash"),
        ("README.md", None),
        ("Makefile", None),
        ("data.json", None),
    ],
)
def test_language_is_chosen_by_extension_or_file_name(path: str, language: str | None) -> None:
    assert language_for(path) == language


# (path, valid source, source with one error, the error's line:column)
CASES = [
    ("a.py", "def f(x):\n    return x\n", "def f(x):\n    return (x\n\ny = 1\n", None),
    ("a.py", "x = 1\n", "x = 1\ndef g(:\n    pass\n", (2, 7)),
    ("a.js", "function f(a) { return a; }\n", "function f(a) { return a; }\nlet = ;\n", (2, 5)),
    ("a.ts", "let x: number = 1;\n", "let x: number = 1;\nlet y: = 2;\n", (2, 6)),
    ("a.tsx", "const a = <div>hi</div>;\n", "const a = <div>hi</div>;\nconst b = <div>;\n", (2, 1)),
    ("a.go", "package main\n\nfunc main() {}\n", "package main\n\nfunc main() {\n", (3, 13)),
    ("a.rs", "fn main() { let x = 1; }\n", "fn main() { let x = ; }\n", (1, 19)),
    ("A.java", "class A { int f() { return 1; } }\n", "class A { int f() { return 1 } }\n", None),
    ("a.c", "int main(void) { return 0; }\n", "int main(void) { return 0 }\n", None),
    ("a.cpp", "class A { int x; };\n", "class A { int x };\n", None),
    ("a.rb", "def f\n  1\nend\n", "def f\n  if x\nend\n", None),
    ("a.sh", "if true; then\n  echo hi\nfi\n", "if true; then\n  echo hi\n", None),
]


@pytest.mark.parametrize(
    ("path", "good", "bad", "where"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_every_grammar_parses_valid_code_clean_and_finds_the_error(
    path: str, good: str, bad: str, where: tuple[int, int] | None
) -> None:
    assert syntax_errors(path, good) == []
    errors = syntax_errors(path, bad)
    assert errors, f"no error found in {bad!r}"
    if where is not None:
        assert (errors[0].line, errors[0].column) == where
    assert all(1 <= e.line <= bad.count("\n") + 1 and e.column >= 1 for e in errors)


def test_a_missing_token_is_named() -> None:
    (issue,) = syntax_errors("a.py", "def f(:\n    pass\n")
    assert issue == SyntaxIssue(1, 7, "missing `)`", "def f(:")
    assert str(issue) == "1:7 missing `)`  | def f(:"


def test_columns_count_characters_not_bytes() -> None:
    (issue,) = syntax_errors("a.py", "x = 1\ndef héllo(:\n    pass\n")
    assert (issue.line, issue.column) == (2, 11)  # "é" is two bytes: byte column 12


def test_unknown_language_and_oversized_text_are_not_checked() -> None:
    assert syntax_errors("notes.txt", "def f(:\n") == []
    assert parse("notes.txt", "x") is None
    huge = "x = (\n" + "y = 1\n" * (MAX_CHECK_BYTES // 6 + 1)
    assert syntax_errors("big.py", huge) == []


def test_parsers_are_cached_per_language() -> None:
    assert parser_for("python") is parser_for("python")
    assert parser_for("python") is not parser_for("rust")
    tree = parse("x.py", "a = 1\n")
    assert tree is not None and tree.root_node.type == "module"


def test_a_pre_existing_error_is_not_new_even_when_lines_move() -> None:
    before = "def broken(:\n    pass\n\n\ndef ok():\n    return 1\n"
    after = "import os\n\n" + before.replace("return 1", "return 2")
    assert len(syntax_errors("m.py", after)) == 1
    assert new_syntax_errors("m.py", before, after) == []
    assert syntax_report("m.py", before, after) == ""


def test_a_new_error_is_reported_beside_an_old_one() -> None:
    before = "def broken(:\n    pass\n\n\ndef ok():\n    return 1\n"
    after = before.replace("def ok():", "def ok(:")
    (fresh,) = new_syntax_errors("m.py", before, after)
    assert (fresh.line, fresh.message) == (5, "missing `)`")
    report = syntax_report("m.py", before, after)
    assert "introduced 1 syntax error" in report and "m.py:5:8 missing `)`" in report
    assert "1:12" not in report  # the old error on line 1 is not repeated


def test_a_created_file_reports_all_its_errors() -> None:
    errors = new_syntax_errors("new.go", None, "package main\nfunc main() {\n")
    assert [(e.line, e.message) for e in errors] == [(2, "unexpected `{`")]


def test_the_report_is_capped() -> None:
    text = "".join(f"def f{i}(:\n    pass\n" for i in range(20))
    report = syntax_report("m.py", None, text)
    assert "introduced 20 syntax error(s)" in report
    assert report.count("missing `)`") == 8 and "[... 12 more]" in report
