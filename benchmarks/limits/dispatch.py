"""When a plan line's call is complete in the stream, and how soon its tool starts after that.

A call is complete at its closing ``)``: nothing later on its line can change it. The parser
dispatches it then (tasks were once dispatched at the newline). Tokens carry
whitespace at their front, so the ``)`` closing a line and the newline after it always
arrive in different tokens, one token interval apart (13 ms at 75 tokens/s).

Dispatch latency of a task = its tool's body starting minus the moment the model yielded
the chunk holding the ``)`` (or the newline). It covers LangChain's stream handling,
parsing, the scheduler, starting the call (on the reading thread, sync; a task on the
loop, async), and ``tool.invoke``.

Where it goes: parsing the call at its ``)`` (plain quoted arguments are
read without compiling), making the job and the scheduler (no ``planned``/``started`` event
is built: the benchmark streams no ``custom`` mode); then the sync round's reader makes the
call on its own thread while a spare worker reads on (no hand-over, see
:mod:`llmcompiler_graph.nodes.reader`), the async round starts a task on the loop; ToolNode's
per-call method with the ``ToolRuntime`` whose shared parts the node read once
(``executor/toolbox.py``); then LangChain's ``BaseTool.run`` up to the body (callbacks,
input validation, signature look-ups; the tool copies' ``_run``/``_arun`` carry resolved
hints and their filter of injected arguments knows its keys, so neither is worked out again
per call). The report splits the latency at LangChain's ``on_tool_start``
(:class:`ToolStarts`). Warm, the whole path is about 0.3 ms; in the benchmark each piece
runs several times slower: the planner's thread sleeps between tokens, so the path runs on a
CPU gone cold (on this project's 2-core VM the same ``tool.invoke`` takes 3 to 4 times its
warm CPU time right after a 13 ms sleep), and the figures move with the machine's state.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler

from benchmarks.ideal import call_close_tokens, line_ready_tokens
from benchmarks.scripts import plan_text
from benchmarks.workloads import Case

__all__ = [
    "ToolStarts",
    "call_close_tokens",
    "dispatch_latencies",
    "newline_tokens",
    "percentile",
]


def newline_tokens(text: str) -> dict[int, int]:
    """Map each numbered plan line to the index of the token holding the newline after it."""
    return line_ready_tokens(text)


class ToolStarts(BaseCallbackHandler):
    """Record when LangChain's ``on_tool_start`` fires for each task (by task number).

    It fires inside ``BaseTool.run`` after the callback manager is configured, before the
    input is validated and the function is looked up and called: it splits a dispatch into
    the part up to LangChain's tool call and the part inside it. LLM, chain and retriever
    events are ignored (tool events are dispatched under the ``ignore_agent`` flag, left off).
    """

    run_inline: bool = True  # on the async path too: no hop to a thread pool per call
    ignore_llm: bool = True
    ignore_chat_model: bool = True
    ignore_chain: bool = True
    ignore_retriever: bool = True
    ignore_custom_event: bool = True

    def __init__(self) -> None:
        """Start with no starts recorded."""
        self.times: dict[int, float] = {}

    def on_tool_start(self, serialized: Any, input_str: str, **kwargs: Any) -> None:
        """Record the time for the task in the call's metadata."""
        task = (kwargs.get("metadata") or {}).get("llmcompiler_task")
        if isinstance(task, int):
            self.times.setdefault(task, time.perf_counter())


def dispatch_latencies(
    case: Case,
    chunk_times: Sequence[Sequence[float]],
    starts: Mapping[int, float],
    handed: Mapping[int, float] | None = None,
) -> dict[str, list[float]]:
    """Return, for each task without dependencies, ms from its ``)`` and its newline to start.

    Args:
        case: The case whose plans were streamed.
        chunk_times: Per planner call, when each chunk was yielded.
        starts: When each task's tool body started (by task number).
        handed: When LangChain's ``on_tool_start`` fired for each task (see
            :class:`ToolStarts`); gives ``"paren_to_callback"``, ms from the ``)`` to it.

    """
    found: dict[str, list[float]] = {"paren": [], "newline": [], "paren_to_callback": []}
    for number, round_ in enumerate(case.rounds):
        if number >= len(chunk_times):
            break
        times, plan = chunk_times[number], plan_text(round_)
        marks = {"paren": call_close_tokens(plan), "newline": newline_tokens(plan)}
        for step in round_.steps:
            if step.deps or step.index not in starts:
                continue
            for kind, tokens in marks.items():
                k = tokens[step.index]
                if k < len(times):
                    found[kind].append((starts[step.index] - times[k]) * 1000.0)
            k = marks["paren"][step.index]
            if handed is not None and step.index in handed and k < len(times):
                found["paren_to_callback"].append((handed[step.index] - times[k]) * 1000.0)
    return found


def percentile(values: Sequence[float], q: float) -> float | None:
    """Return the ``q``-th percentile (0-100, inclusive method); ``None`` for no values."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[min(max(round(q) - 1, 0), 98)]
