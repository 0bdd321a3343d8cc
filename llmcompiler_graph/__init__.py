"""LLMCompiler as a LangGraph graph: plan tool calls at once, run them in parallel, join or replan.

>>> from llmcompiler_graph import create_llm_compiler
>>> app = create_llm_compiler(model, [search, math])  # doctest: +SKIP
>>> app.invoke({"messages": [("user", "question")]})["messages"][-1].content  # doctest: +SKIP
"""

# Set before the imports below: modules they load (the demo tools) read it.
__version__ = "0.1.0"

from llmcompiler_graph.context import Context
from llmcompiler_graph.fetching.aio import AsyncTaskFetchingUnit
from llmcompiler_graph.fetching.jobs import Job, Outcome, SchedulerError, TaskEvent
from llmcompiler_graph.fetching.threads import TaskFetchingUnit
from llmcompiler_graph.graph import create_llm_compiler
from llmcompiler_graph.joiner import Decision, parse_decision
from llmcompiler_graph.planner.parser import PlanParser, parse_plan
from llmcompiler_graph.planner.syntax import ToolSpec
from llmcompiler_graph.planner.tasks import PlannedTask
from llmcompiler_graph.state import State
from llmcompiler_graph.tools.jsonschema import tool_from_spec

__all__ = [
    "AsyncTaskFetchingUnit",
    "Context",
    "Decision",
    "Job",
    "Outcome",
    "PlanParser",
    "PlannedTask",
    "SchedulerError",
    "State",
    "TaskEvent",
    "TaskFetchingUnit",
    "ToolSpec",
    "create_llm_compiler",
    "parse_decision",
    "parse_plan",
    "tool_from_spec",
]
