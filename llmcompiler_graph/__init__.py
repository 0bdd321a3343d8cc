"""LLMCompiler as a LangGraph graph: plan tool calls at once, run them in parallel, join or replan.

>>> from llmcompiler_graph import create_llm_compiler
>>> app = create_llm_compiler(model, [search, math])  # doctest: +SKIP
>>> app.invoke({"messages": [("user", "question")]})["messages"][-1].content  # doctest: +SKIP

The public API is what this module exports. The paper's parts live in their own packages:
:mod:`~llmcompiler_graph.planner` (the function calling planner),
:mod:`~llmcompiler_graph.fetching` (the task fetching unit),
:mod:`~llmcompiler_graph.executor` (tool calls) and :mod:`~llmcompiler_graph.joiner`; the
LangGraph nodes that run them are in :mod:`~llmcompiler_graph.nodes`. Offline scripted models
and simulated tools are in :mod:`~llmcompiler_graph.sim`, pictures in
:mod:`~llmcompiler_graph.viz`, ready-made tools in :mod:`~llmcompiler_graph.tools`.
Importing the package builds no graph and reads no environment variable.
"""

__version__ = "0.1.0"

from llmcompiler_graph.compiler import LLMCompilerGraph, create_llm_compiler
from llmcompiler_graph.context import Context
from llmcompiler_graph.errors import (
    ApprovalAnswerError,
    CalculatorError,
    ConfigurationError,
    FunctionSpecError,
    LLMCompilerError,
    ModelNotConfiguredError,
    PlanFormatError,
    SchedulerError,
    ScriptExhaustedError,
    SearchError,
)
from llmcompiler_graph.fetching.jobs import TaskEvent
from llmcompiler_graph.nodes.task_runs import BatchTool
from llmcompiler_graph.state import State
from llmcompiler_graph.tools.jsonschema import tool_from_spec

__all__ = [
    "ApprovalAnswerError",
    "BatchTool",
    "CalculatorError",
    "ConfigurationError",
    "Context",
    "FunctionSpecError",
    "LLMCompilerError",
    "LLMCompilerGraph",
    "ModelNotConfiguredError",
    "PlanFormatError",
    "SchedulerError",
    "ScriptExhaustedError",
    "SearchError",
    "State",
    "TaskEvent",
    "__version__",
    "create_llm_compiler",
    "tool_from_spec",
]
