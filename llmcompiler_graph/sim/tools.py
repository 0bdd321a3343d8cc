"""Simulated tools: fixed, seeded latencies and deterministic outputs.

The tools sleep (``time.sleep`` or ``asyncio.sleep``) to simulate the latency of
a real web search or math call, so that parallel execution is visible in wall
time, and return deterministic text so runs are reproducible.
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import operator
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

__all__ = [
    "ToolCallRecord",
    "simulated_latency",
    "simulated_math_tool",
    "simulated_search_tool",
]


@dataclass(frozen=True)
class ToolCallRecord:
    """One simulated tool call (``time.perf_counter`` seconds)."""

    tool: str
    args: dict[str, Any]
    output: str
    start: float
    end: float
    thread: str


class _SearchArgs(BaseModel):
    query: str = Field(description="What to search for.")


class _MathArgs(BaseModel):
    problem: str = Field(description="An arithmetic expression or a math word problem.")
    context: list[str] | None = Field(
        default=None, description="Optional earlier results the problem may refer to."
    )


def simulated_latency(query: str, *, latency_s: float, jitter_s: float, seed: int) -> float:
    """Return the latency the search tool simulates for ``query``.

    The jitter is drawn uniformly from ``[-jitter_s, jitter_s]`` by a generator
    seeded from ``(seed, query)``, so it does not depend on call order or
    concurrency; the result is clipped at 0.
    """
    digest = hashlib.sha256(f"{seed}\x00{query}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    return max(0.0, latency_s + rng.uniform(-jitter_s, jitter_s))


def _make_tool(
    name: str,
    description: str,
    args_schema: type[BaseModel],
    answer: Callable[..., str],
    latency: Callable[..., float],
    recorder: list[ToolCallRecord] | None,
) -> StructuredTool:
    def record(args: dict[str, Any], output: str, start: float) -> None:
        if recorder is not None:
            thread = threading.current_thread().name
            recorder.append(ToolCallRecord(name, args, output, start, time.perf_counter(), thread))

    fields = list(args_schema.model_fields)

    def func(*args: Any, **kwargs: Any) -> str:
        kwargs.update(zip(fields, args, strict=False))  # a plain-string input arrives positionally
        start = time.perf_counter()
        time.sleep(latency(**kwargs))
        output = answer(**kwargs)
        record(kwargs, output, start)
        return output

    async def coroutine(*args: Any, **kwargs: Any) -> str:
        kwargs.update(zip(fields, args, strict=False))
        start = time.perf_counter()
        await asyncio.sleep(latency(**kwargs))
        output = answer(**kwargs)
        record(kwargs, output, start)
        return output

    return StructuredTool.from_function(
        func=func,
        coroutine=coroutine,
        name=name,
        description=description,
        args_schema=args_schema,
    )


def simulated_search_tool(
    *,
    latency_s: float = 1.0,
    jitter_s: float = 0.2,
    seed: int = 0,
    corpus: Mapping[str, str] | None = None,
    name: str = "search",
    recorder: list[ToolCallRecord] | None = None,
) -> StructuredTool:
    """Build a simulated web-search tool.

    Args:
        latency_s: Mean latency of a call in seconds.
        jitter_s: Half-width of the uniform, per-query seeded jitter.
        seed: Seed of the jitter (see :func:`simulated_latency`).
        corpus: Canned answers by query, matched case-insensitively after
            stripping; other queries get a deterministic synthetic snippet.
        name: Tool name.
        recorder: If given, every call is appended to it as a :class:`ToolCallRecord`.

    Returns:
        A tool with sync and async implementations taking ``query: str``.

    """
    answers = {k.strip().casefold(): v for k, v in (corpus or {}).items()}

    def answer(query: str) -> str:
        found = answers.get(query.strip().casefold())
        if found is not None:
            return found
        ref = hashlib.sha256(query.encode()).hexdigest()[:8]
        return f"Search result for '{query}': no indexed page; synthetic snippet #{ref}."

    def latency(query: str) -> float:
        return simulated_latency(query, latency_s=latency_s, jitter_s=jitter_s, seed=seed)

    description = "Search the web for a short factual snippet about a query."
    return _make_tool(name, description, _SearchArgs, answer, latency, recorder)


def simulated_math_tool(
    *,
    latency_s: float = 0.3,
    name: str = "math",
    recorder: list[ToolCallRecord] | None = None,
) -> StructuredTool:
    """Build a simulated math tool.

    A pure arithmetic ``problem`` (numbers, ``+ - * / // % **`` and parentheses)
    is evaluated safely, without ``eval``; anything else gets a deterministic
    placeholder answer.

    Args:
        latency_s: Latency of a call in seconds.
        name: Tool name.
        recorder: If given, every call is appended to it as a :class:`ToolCallRecord`.

    Returns:
        A tool with sync and async implementations taking ``problem: str`` and
        optional ``context: list[str]``.

    """

    def answer(problem: str, context: list[str] | None = None) -> str:
        try:
            return _format_number(_arithmetic(problem))
        except ZeroDivisionError:
            return "Error: division by zero"
        except (ValueError, TypeError, SyntaxError, OverflowError, RecursionError):
            given = f" given {len(context)} context item(s)" if context else ""
            return f"Simulated answer to '{problem}'{given}."

    def latency(problem: str, context: list[str] | None = None) -> float:
        return max(0.0, latency_s)

    description = (
        "Solve a math problem: an arithmetic expression or a word problem. "
        "'context' optionally lists earlier results that the problem refers to."
    )
    return _make_tool(name, description, _MathArgs, answer, latency, recorder)


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}


def _arithmetic(expression: str) -> int | float:
    """Evaluate a pure arithmetic expression; raise ``ValueError`` otherwise."""
    if len(expression) > 500:
        raise ValueError("expression too long")
    return _node(ast.parse(expression.strip(), mode="eval").body)


def _node(node: ast.expr) -> int | float:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _number(node.value)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _number(_UNARY[type(node.op)](_node(node.operand)))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _node(node.left), _node(node.right)
        if isinstance(node.op, ast.Pow) and (abs(right) > 100 or abs(left) > 1e6):
            raise ValueError("exponentiation too large")
        return _number(_BINARY[type(node.op)](left, right))
    raise ValueError(f"not arithmetic: {ast.dump(node)[:80]}")


def _number(value: Any) -> int | float:
    if isinstance(value, int | float):
        return value
    raise ValueError(f"non-real result {value!r}")


def _format_number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value) if isinstance(value, int) else format(value, ".12g")
