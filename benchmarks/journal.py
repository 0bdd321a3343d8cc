"""A long plan with and without a checkpointer: what the crash journal costs (a simulation).

``python -m benchmarks.journal [--lines 8000] [--repeats 2] [--out DIR]`` (``make
bench-journal``). A scripted planner streams a plan of ``--lines`` calls, one line per chunk
at no model latency, to a tool that returns at once; the run is timed end to end with no
checkpointer, with LangGraph's in-memory saver (as under ``langgraph dev``) and with SQLite.
With a checkpointer the round writes its journal (the plan's text as it streams, each
result) and LangGraph saves its checkpoints: the journal writes only what is new since its
last write, so the whole run should stay within 2x of the run without one. Runs of the
three kinds are interleaved, ``--repeats`` times each, and the fastest of each is kept.
Prints a table; with ``--out`` also writes ``journal.json`` there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from llmcompiler_graph import create_llm_compiler

__all__ = ["LinePlanner", "main", "run_once", "run_suite"]

TARGET_RATIO = 2.0
"""A run with a checkpointer should take at most this many times the run without."""


class LinePlanner(BaseChatModel):
    """Streams a plan of ``lines`` calls, one line per chunk; answers as the joiner."""

    lines: int

    @property
    def _llm_type(self) -> str:
        return "line-planner"

    def _generate(self, messages: list[BaseMessage], *a: Any, **k: Any) -> ChatResult:
        text = "".join(chunk.message.text for chunk in self._stream(messages))
        return ChatResult(generations=[ChatGeneration(message=AIMessageChunk(content=text))])

    def _stream(
        self, messages: list[BaseMessage], *a: Any, **k: Any
    ) -> Iterator[ChatGenerationChunk]:
        if "Finish(" in messages[0].text:
            answer = "Thought: done.\nAction: Finish(done)"
            yield ChatGenerationChunk(message=AIMessageChunk(content=answer))
            return
        for i in range(1, self.lines + 1):
            line = f'{i}. echo(text="t{i}")\n'
            yield ChatGenerationChunk(message=AIMessageChunk(content=line))
        yield ChatGenerationChunk(message=AIMessageChunk(content="<END_OF_PLAN>"))


@tool
def echo(text: str) -> str:
    """Return the text."""
    return text


def _saver(kind: str, folder: Path) -> AbstractContextManager[Any]:
    if kind == "none":
        return nullcontext(None)
    if kind == "memory":
        return nullcontext(InMemorySaver())
    if kind == "sqlite":
        from langgraph.checkpoint.sqlite import SqliteSaver

        return SqliteSaver.from_conn_string(str(folder / f"{time.monotonic_ns()}.sqlite"))
    if kind == "sqlite-async":
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        return AsyncSqliteSaver.from_conn_string(str(folder / f"{time.monotonic_ns()}.sqlite"))  # type: ignore[return-value]
    raise ValueError(f"unknown checkpointer {kind!r}: none, memory or sqlite")


def run_once(lines: int, checkpointer: str, mode: str, folder: Path) -> float:
    """Return the seconds one run of a ``lines``-call plan takes; check that all ran."""
    config: RunnableConfig = {"configurable": {"thread_id": "journal"}}
    payload: Any = {"messages": [("user", "go")]}

    def build(saver: Any) -> Any:
        return create_llm_compiler(
            LinePlanner(lines=lines),
            [echo],
            checkpointer=saver,
            max_plan_tasks=lines,
            max_plan_chars=100 * lines + 1_000,
        )

    kind = "sqlite-async" if checkpointer == "sqlite" and mode == "async" else checkpointer

    async def arun() -> tuple[float, Any]:
        async with _saver(kind, folder) as saver:  # type: ignore[attr-defined]
            app = build(saver)
            start = time.perf_counter()
            out = await app.ainvoke(payload, config)
            return time.perf_counter() - start, out

    if mode == "async":
        seconds, out = asyncio.run(arun())
    else:
        with _saver(kind, folder) as saver:
            app = build(saver)
            start = time.perf_counter()
            out = app.invoke(payload, config)
            seconds = time.perf_counter() - start
    done = sum(1 for m in out["messages"] if m.type == "tool" and m.status == "success")
    if done != lines:
        raise RuntimeError(f"{done} of {lines} tasks succeeded ({checkpointer}, {mode})")
    return seconds


def run_suite(
    lines: int,
    repeats: int,
    *,
    modes: Sequence[str] = ("sync", "async"),
    checkpointers: Sequence[str] = ("none", "memory", "sqlite"),
    progress: Callable[[str], None] = lambda _: None,
) -> list[dict[str, Any]]:
    """Return one row per (mode, checkpointer): the fastest of ``repeats`` interleaved runs."""
    best: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            for mode in modes:
                for kind in checkpointers:
                    seconds = run_once(lines, kind, mode, Path(tmp))
                    progress(f"{mode:5} {kind:6} {seconds:6.2f} s")
                    best[mode, kind] = min(seconds, best.get((mode, kind), seconds))
    rows = []
    for (mode, kind), seconds in best.items():
        base = best.get((mode, "none"))
        ratio = seconds / base if base else None
        rows.append(
            {"lines": lines, "mode": mode, "checkpointer": kind, "seconds": seconds, "ratio": ratio}
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """Return the rows as a Markdown table."""
    out = [
        "Simulation: a scripted planner streams the plan one line per chunk at no model "
        "latency; the tool returns at once.",
        "",
        "| plan lines | driver | checkpointer | seconds | against none | target |",
        "|--:|---|---|--:|--:|---|",
    ]
    for row in rows:
        ratio = "" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        target = "" if row["checkpointer"] == "none" else f"< {TARGET_RATIO:.0f}x"
        out.append(
            f"| {row['lines']:,} | {row['mode']} | {row['checkpointer']} | "
            f"{row['seconds']:.2f} | {ratio} | {target} |"
        )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return 0 if every run with a checkpointer met the target."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.journal", description=__doc__)
    parser.add_argument("--lines", type=int, default=8_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    rows = run_suite(args.lines, args.repeats, progress=lambda s: print(s, file=sys.stderr))
    print(table(rows))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "journal.json").write_text(json.dumps(rows, indent=2) + "\n")
    missed = [r for r in rows if r["ratio"] is not None and r["ratio"] > TARGET_RATIO]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
