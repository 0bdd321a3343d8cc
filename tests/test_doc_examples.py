"""Every Python block of the README and the docs runs, offline, as a reader would run it.

Sybil reads each page's ```` ```python ```` blocks in order and runs them in one namespace per
page, so a page reads as one session. Two HTML comments (invisible on the site) steer it:

* ``<!-- invisible-code-block: python ... -->`` runs code the reader does not see (checks of
  what a block printed, or setup a block needs);
* ``<!-- compile-only: why -->`` just before a block that needs a key, a server or a network:
  the block is compiled (so its syntax stays right), not run.

Nothing else may keep a block from running: a Python block in another spelling (```` ```py ````,
```` ```python title=... ````) would be skipped silently, so it fails here instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sybil import Document, Example, Region, Sybil
from sybil.evaluators.python import PythonEvaluator, pad
from sybil.parsers.markdown import PythonCodeBlockParser
from sybil.parsers.markdown.lexers import DirectiveInHTMLCommentLexer

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
COMPILE_ONLY = "__compile_only__"


class CompileOnlyParser:
    """``<!-- compile-only: why -->``: the next Python block is compiled, not run."""

    lexer = DirectiveInHTMLCommentLexer(directive="compile-only", arguments=r"[^\n]+?")

    def __call__(self, document: Document) -> Iterator[Region]:
        for region in self.lexer(document):
            region.parsed = region.lexemes["arguments"].strip()
            region.evaluator = self.evaluate
            yield region

    @staticmethod
    def evaluate(example: Example) -> None:
        example.namespace[COMPILE_ONLY] = example.parsed


class Evaluator(PythonEvaluator):
    """Run a block, or only compile it when a ``compile-only`` comment stands before it."""

    def __call__(self, example: Example) -> None:
        __tracebackhide__ = True
        if example.namespace.pop(COMPILE_ONLY, None) is not None:
            source = pad(example.parsed, example.line + example.parsed.line_offset)
            compile(source, example.path, "exec", flags=self.flags, dont_inherit=True)
            return
        super().__call__(example)


class Parser(PythonCodeBlockParser):
    def __init__(self) -> None:
        super().__init__()
        self.codeblock_parser._evaluator = Evaluator()


SYBIL = Sybil(parsers=[CompileOnlyParser(), Parser()])


def _page_id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key, no server: a block that would reach a real model fails instead of calling out."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "LLMCOMPILER_MODEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_python_block_runs(page: Path, offline: None, tmp_path: Path) -> None:
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.chdir(tmp_path)  # blocks that write files write them here
    try:
        document = SYBIL.parse(page)
        namespace: dict[str, Any] = document.namespace
        for example in document:
            example.evaluate()
        assert COMPILE_ONLY not in namespace, (
            f"{_page_id(page)}: a compile-only comment with no Python block after it"
        )
    finally:
        monkeypatch.undo()


FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([^\s`]*)(.*)$")


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_python_blocks_are_written_so_that_they_run(page: Path) -> None:
    """A Python block is fenced as exactly ```` ```python ```` (or it would not be run)."""
    wrong = []
    inside: str | None = None
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        match = FENCE.match(line)
        if not match:
            continue
        fence, language, rest = match.groups()
        if inside is not None:
            if line.strip() == inside:
                inside = None
            continue
        inside = fence
        if language.lower() in {"py", "python", "python3", "pycon"} and (
            language != "python" or rest.strip()
        ):
            wrong.append(f"line {number}: {line.strip()}")
    assert not wrong, f"{_page_id(page)}: write ```python alone, or the block is not run: {wrong}"
