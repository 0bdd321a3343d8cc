"""The served graph: what ``langgraph.json`` points at (``llmcompiler_graph.server:make_graph``).

Importing this module builds nothing and reads no environment variable. :func:`make_graph` is
a graph factory: ``langgraph dev`` and LangGraph Platform call it when they need the graph,
and it builds the graph once per process. Its model is resolved per run from the
context's ``model`` or ``LLMCOMPILER_MODEL``, so building it never needs an API key.

``LLMCOMPILER_TOOLS`` picks the tool set when the graph is built:

* ``demo`` (default): :func:`llmcompiler_graph.tools.demo_tools`, Wikipedia ``search`` and
  a safe ``math``;
* ``simulated``: offline look-alikes from :mod:`llmcompiler_graph.sim` (a ``search`` over
  :data:`DEMO_CORPUS` that sleeps about half a second, and ``math``), for trying the server,
  Studio and the SDK without a network, together with ``LLMCOMPILER_MODEL=scripted:demo``.

``LLMCOMPILER_PLAN_FORMAT`` picks the default plan format, ``text`` (default) or
``tool_calls`` (native tool calling); a run's context can still choose with ``plan_format``.

Everything else (model, prompts, limits, approval) is per run, through the runtime context.
"""

from __future__ import annotations

import functools
import os

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool

from llmcompiler_graph.compiler import LLMCompilerGraph, create_llm_compiler
from llmcompiler_graph.context import PLAN_FORMATS, PlanFormat
from llmcompiler_graph.errors import ConfigurationError

__all__ = [
    "DEMO_CORPUS",
    "PLAN_FORMAT_ENV",
    "TOOLS_ENV",
    "TOOL_SETS",
    "make_graph",
    "served_plan_format",
    "served_tools",
]

TOOLS_ENV = "LLMCOMPILER_TOOLS"
PLAN_FORMAT_ENV = "LLMCOMPILER_PLAN_FORMAT"

DEMO_CORPUS: dict[str, str] = {
    "Scott Derrickson": (
        "Scott Derrickson (born July 16, 1966) is an American filmmaker, known for "
        "Sinister and Doctor Strange."
    ),
    "Ed Wood": (
        "Edward Davis Wood Jr. (1924-1978) was an American filmmaker, actor and author, "
        "known for Plan 9 from Outer Space."
    ),
    "Christopher Nolan": (
        "Christopher Nolan (born 30 July 1970) is a British and American filmmaker, known "
        "for Inception and Oppenheimer."
    ),
    "Agnes Varda": "Agnes Varda (1928-2019) was a Belgian-born French film director.",
    "Mount Everest": "Mount Everest is Earth's highest mountain above sea level, 8,849 m.",
    "K2": "K2 is the second-highest mountain on Earth, 8,611 m above sea level.",
    "Paris": "Paris is the capital of France, with a population of about 2.1 million.",
    "Berlin": "Berlin is the capital of Germany, with a population of about 3.8 million.",
}
"""Canned answers of the simulated ``search`` tool (other queries get a synthetic snippet)."""


TOOL_SETS = ("demo", "simulated")
"""The tool sets :func:`served_tools` knows (``LLMCOMPILER_TOOLS``, or ``ask --tools``)."""


def served_tools(
    model: BaseChatModel | str | None = None, *, tool_set: str | None = None
) -> list[BaseTool]:
    """Return the tools of ``tool_set``, or of ``LLMCOMPILER_TOOLS`` when it is ``None``.

    ``math`` is the paper's (word problems over earlier results, by ``model``: ``None`` for
    the run's model); plain arithmetic never calls a model.

    Raises:
        ConfigurationError: For a value other than ``demo`` or ``simulated``.

    """
    chosen = tool_set if tool_set is not None else os.environ.get(TOOLS_ENV)
    choice = (chosen or "demo").strip().lower()
    if choice == "demo":
        from llmcompiler_graph.tools import demo_tools

        return demo_tools(model)
    if choice == "simulated":
        from llmcompiler_graph.sim import simulated_search_tool
        from llmcompiler_graph.tools import make_math_tool

        return [
            simulated_search_tool(latency_s=0.5, jitter_s=0.1, corpus=DEMO_CORPUS),
            make_math_tool(model),
        ]
    where = f"tool set {tool_set!r}" if tool_set is not None else f"{TOOLS_ENV}={chosen!r}"
    raise ConfigurationError(
        f"{where} is not a tool set: use 'demo' (Wikipedia "
        "search and math, the default) or 'simulated' (offline, for trying the server)"
    )


def served_plan_format() -> PlanFormat:
    """Return the plan format ``LLMCOMPILER_PLAN_FORMAT`` selects (``text`` when unset).

    Raises:
        ConfigurationError: For a value other than ``text`` or ``tool_calls``.

    """
    raw = os.environ.get(PLAN_FORMAT_ENV) or "text"
    choice = raw.strip().lower().replace("-", "_")
    for known in PLAN_FORMATS:
        if choice == known:
            return known
    raise ConfigurationError(
        f"{PLAN_FORMAT_ENV}={raw!r} is not a plan format: use 'text' (numbered text plans, the "
        "default) or 'tool_calls' (the planner makes native tool calls)"
    )


def make_graph() -> LLMCompilerGraph:
    """Return the served graph, built on the first call from the ``LLMCOMPILER_*`` variables.

    Raises:
        ConfigurationError: For a bad ``LLMCOMPILER_TOOLS`` or ``LLMCOMPILER_PLAN_FORMAT``
            value, in one line naming the variable and the accepted values.

    """
    return _served_graph()


@functools.cache
def _served_graph() -> LLMCompilerGraph:
    return create_llm_compiler(None, served_tools(), plan_format=served_plan_format())
