"""Redaction is linear in its input: no backtracking pattern, fuzzed for work per character.

A long token with no spaces (a hex dump, a response body) once took a backtracking regular
expression quadratic time (150 kB: 25 s, on the event loop under ``ainvoke``). Here every
pattern of :mod:`llmcompiler_graph.redact` is checked to have no backtracking repeat, and
the CPU time of redacting a text is compared with that of a text 8 times as long: linear
work is about 8 times the work (the test allows 3 times that), quadratic work 64 times.
"""

from __future__ import annotations

import asyncio
import gc
import os
import re
import time
from collections.abc import Iterator
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from langchain_core.messages import BaseMessage, ToolMessage
from langchain_core.tools import tool

import llmcompiler_graph.redact as redact_module
from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.fetching.jobs import MAX_ERROR_CHARS
from llmcompiler_graph.redact import redact, redact_clipped
from llmcompiler_graph.sim import ScriptedChatModel

EXAMPLES = int(os.environ.get("LLMCOMPILER_FUZZ_EXAMPLES", "300"))
PATTERNS = [v for v in vars(redact_module).values() if isinstance(v, re.Pattern)]
BACKTRACKING = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}


def repeats(node: Any) -> Iterator[Any]:
    """Yield every repeat opcode in a parsed pattern (a tree of lists and tuples)."""
    if isinstance(node, sre_parse.SubPattern):
        node = node.data
    opcode = node[0] if isinstance(node, tuple) and len(node) == 2 else None
    if isinstance(opcode, sre_constants._NamedIntConstant):
        if opcode in BACKTRACKING or opcode == sre_constants.POSSESSIVE_REPEAT:
            yield opcode
        yield from repeats(node[1])
    elif isinstance(node, list | tuple):
        for item in node:
            yield from repeats(item)


def test_no_pattern_backtracks() -> None:
    assert PATTERNS, "redact has no patterns to check"
    for pattern in PATTERNS:
        found = set(repeats(sre_parse.parse(pattern.pattern, pattern.flags)))
        assert not found & BACKTRACKING, f"{pattern.pattern!r} has a backtracking repeat"


def cpu_seconds(text: str, times: int) -> float:
    """Return the least thread CPU time of ``times`` redactions of ``text``, of 3 tries."""
    best = float("inf")
    gc.disable()
    try:
        for _ in range(3):
            start = time.thread_time()
            for _ in range(times):
                redact(text)
            best = min(best, time.thread_time() - start)
    finally:
        gc.enable()
    return best


FRAGMENTS = st.sampled_from(
    [
        "a",
        "Z9",
        "+",
        ".",
        "-",
        ":",
        "/",
        "://",
        "@",
        "?",
        "&",
        "=",
        "#",
        "token=",
        "Bearer ",
        "Basic",
        " ",
        "\n",
        '"',
        "%",
        "[",
        "]",
        "https://",
        "u:p@",
        "é",
    ]
)


@settings(max_examples=min(EXAMPLES, 100), deadline=None)
@given(unit=st.lists(FRAGMENTS, min_size=1, max_size=8).map("".join))
@example(unit="a")  # a hex dump or token: quadratic before
@example(unit="a1")
@example(unit="Bearer ")
@example(unit="http://a@")
@example(unit="://@")
def test_redaction_work_grows_linearly(unit: str) -> None:
    copies = -(-4_000 // len(unit))
    small, large = unit * copies, unit * (8 * copies)
    # The same number of characters each way: 8 small texts, or 1 large one.
    assert cpu_seconds(large, 1) <= 3 * cpu_seconds(small, 8) + 0.002


SECRET = "hunter2pw"


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    before=st.lists(FRAGMENTS, max_size=6).map("".join),
    after=st.lists(FRAGMENTS, max_size=6).map("".join),
    url=st.sampled_from(
        [
            f"https://bob:{SECRET}@h.example/p",
            f"https://h.example/p?q=1&api_key={SECRET}",
            f"http://h.example/#access_token={SECRET}",
        ]
    ),
)
def test_a_credential_between_any_text_is_hidden(before: str, after: str, url: str) -> None:
    assert SECRET not in redact(f"{before} {url} {after}")


@pytest.mark.parametrize("cut", range(-12, 12, 3))
def test_a_clipped_text_keeps_no_part_of_a_credential(cut: int) -> None:
    url = f"https://bob:{SECRET}@h.example/p?token={SECRET}"
    text = "x" * (1_000 + cut - url.index(SECRET)) + " " + url + " tail" + "y" * 5_000
    clipped = redact_clipped(text, 1_000)
    assert "hunter" not in clipped and "2pw" not in clipped
    assert len(clipped) < 1_100 and clipped.endswith("more characters not shown]")


def test_a_huge_tool_error_is_cut_once_redacted_and_small_everywhere() -> None:
    # 300 kB of token with no space, then a URL with a password: 200 s of redaction before.
    error = "f" * 300_000 + f" https://bob:{SECRET}@h.example/ " + "e" * 300_000

    @tool
    def fetch(url: str) -> str:
        """Fetch a URL."""
        raise ValueError(error)

    def reply(messages: list[BaseMessage]) -> str:
        if "Finish(" in messages[0].text:
            return "Thought: it failed\nAction: Finish(failed)"
        return '1. fetch(url="x")\njoin()'

    app = create_llm_compiler(ScriptedChatModel(responses=reply), [fetch])
    events: list[object] = []

    async def run() -> dict[str, object]:
        final: dict[str, object] = {}
        question = {"messages": [("user", "q")]}
        async for mode, data in app.astream(question, stream_mode=["custom", "values"]):
            (events if mode == "custom" else [final.update(data)]).append(data)
        return final

    final = asyncio.run(run())
    (failed,) = [m for m in final["messages"] if isinstance(m, ToolMessage)]  # type: ignore[attr-defined]
    assert failed.status == "error" and len(failed.content) <= MAX_ERROR_CHARS + 200
    assert "more characters not shown" in failed.content
    assert SECRET not in repr(final) and SECRET not in repr(events)
