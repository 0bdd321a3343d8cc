"""The LLMCompiler paper's ``math(problem, context)``: word problems over earlier results.

>>> from llmcompiler_graph.sim import ScriptedChatModel
>>> math = make_math_tool(ScriptedChatModel(responses=["Expression: 8849 - 8611"]))
>>> math.invoke({"problem": "3 * 4"})  # plain arithmetic: no model call
'12'
>>> math.invoke({"problem": "height difference in m?", "context": ["8,849 m", "8,611 m"]})
'238'

Plain arithmetic is evaluated directly with the safe evaluator. Anything else goes to a chat
model, which is asked for ONE arithmetic expression built from the problem and the context
(earlier results, typically ``["$1", "$2"]`` search paragraphs); that expression is then
evaluated with :func:`~llmcompiler_graph.tools.calculator.safe_eval`. Model text is never
executed. ``model=None`` uses the run's planner model (inside a graph run; else the context's
``model`` or ``LLMCOMPILER_MODEL``), as the served graph and the CLI do.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.tools import BaseTool, StructuredTool

from llmcompiler_graph.errors import CalculatorError
from llmcompiler_graph.tools.calculator import format_number, safe_eval

__all__ = ["MATH_DESCRIPTION", "MATH_PROMPT", "make_math_tool"]

MATH_DESCRIPTION = """\
Solve one math problem: plain arithmetic ('(3 + 4) * 2') or a word problem \
('What is the height difference in meters?'). Words need the numbers: pass the earlier \
results that hold them as context, e.g. math("height difference in meters?", ["$1", "$2"]). \
Never put a search result into problem; put it in context. One expression per call; \
ask for the unit you want."""

MATH_PROMPT = """\
Translate the math problem into ONE arithmetic expression, using numbers from the context. \
Allowed: numbers, + - * / // % ** (or ^), parentheses, pi, e, sqrt, log, log10, exp, sin, \
cos, tan, abs, round, min, max, floor, ceil. No variables, no units, no words, no thousands \
separators. A difference is the absolute value. Convert units to the ones asked for.
Reply with the expression only, inside a ```text block.

Example:
Context:
Steven runs at up to 123 km/h.
Question: What is Steven's speed in km/h if he were 10% faster?
```text
123 * 1.1
```"""
"""The system prompt of the model behind :func:`make_math_tool` (this marks a math request)."""

_FENCE = re.compile(r"```(?:text|python|math)?\s*\n?(.*?)```", re.S)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


def make_math_tool(model: BaseChatModel | str | None = None, *, name: str = "math") -> BaseTool:
    """Build the paper's ``math(problem, context=None)`` tool, backed by ``model``.

    Args:
        model: The chat model that turns word problems into expressions: a model, a
            name (``"openai:gpt-4o-mini"``) or ``None`` for the run's model.
        name: The tool's name.

    Returns:
        A tool with sync and async implementations.

    """

    def math(problem: str, context: list[str] | None = None) -> str:
        try:
            return format_number(safe_eval(problem))
        except CalculatorError:
            pass
        reply = _model(model).invoke(_messages(problem, context))
        return _evaluate(reply, problem)

    async def amath(problem: str, context: list[str] | None = None) -> str:
        try:
            return format_number(safe_eval(problem))
        except CalculatorError:
            pass
        reply = await _model(model).ainvoke(_messages(problem, context))
        return _evaluate(reply, problem)

    return StructuredTool.from_function(
        func=math, coroutine=amath, name=name, description=MATH_DESCRIPTION
    )


def _model(model: BaseChatModel | str | None) -> BaseChatModel:
    if isinstance(model, BaseChatModel):
        return model
    from llmcompiler_graph.models import RUN_MODEL, resolve_model

    if model is None and (running := RUN_MODEL.get()) is not None:
        return running
    return resolve_model(model if model is not None else _run_model())


def _run_model() -> str | None:
    """Return the run's model name from LangGraph's runtime context, if there is one."""
    try:
        from langgraph.runtime import get_runtime

        context: Any = get_runtime().context
    except Exception:  # not inside a graph run: the environment decides
        return None
    value = getattr(context, "model", None)
    return value if isinstance(value, str) else None


def _messages(problem: str, context: list[str] | None) -> list[BaseMessage]:
    items = [str(c) for c in context or ()]
    if len(items) == 1:
        shown = f"Context:\n{items[0]}"
    elif items:
        shown = "\n\n".join(f"Context {i}:\n{c}" for i, c in enumerate(items, start=1))
    else:
        shown = "Context: (none)"
    return [SystemMessage(MATH_PROMPT), HumanMessage(f"{shown}\nQuestion: {problem}")]


def _evaluate(reply: BaseMessage, problem: str) -> str:
    text = reply.text if isinstance(reply.text, str) else str(reply.content)
    fenced = _FENCE.findall(text)
    lines = [ln.strip() for ln in (fenced[-1] if fenced else text).splitlines() if ln.strip()]
    expression = lines[-1] if lines else ""
    expression = re.sub(r"^(?:expression|answer)\s*[:=]\s*", "", expression, flags=re.I)
    expression = _THOUSANDS.sub("", expression).rstrip(".")
    try:
        return format_number(safe_eval(expression))
    except CalculatorError as exc:
        raise CalculatorError(
            f"math could not solve {problem[:200]!r}: the model's expression "
            f"{expression[:200]!r} is not plain arithmetic ({exc}). Pass the results that "
            'hold the numbers as context, e.g. math("...", ["$1"]), or write the arithmetic.'
        ) from exc
