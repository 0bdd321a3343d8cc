"""The Function Calling Planner (paper section 3.1): from a question to a plan of tool calls.

The planner model is prompted (:mod:`.prompts`, with tool descriptions and few-shot
examples) to write a numbered plan, one call per line, where ``$N`` stands for the result of
task ``N``. :mod:`.parser` reads that plan while it streams and hands out each task the moment
its line is complete; :mod:`.syntax` reads one call's arguments (with :mod:`ast`, never
``eval``) and :mod:`.references` holds the ``$N`` rules: which tasks a call depends on and how
their results are substituted. With ``plan_format="tool_calls"`` the plan is the model's native
tool calls instead, read while they stream by :mod:`.tool_calls` into the same tasks. With
hundreds of tools, :mod:`.tool_selection` picks the ones a question needs (a BM25 search,
:mod:`.tool_search`, by default) so the prompt lists only those. Nothing here runs a tool or
knows about LangGraph.
"""

from llmcompiler_graph.planner.parser import PlanParser, parse_plan
from llmcompiler_graph.planner.syntax import ToolSpec
from llmcompiler_graph.planner.tasks import PlannedTask

__all__ = ["PlanParser", "PlannedTask", "ToolSpec", "parse_plan"]
