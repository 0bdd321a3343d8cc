"""The one place tests build an LLMCompiler app with scripted models and simulated tools.

``scripted_app(plans)`` gives the planner the plans in order and the joiner, by default,
``Finish(<the last round's observations joined by ' | '>)``; the simulated ``search`` and
``math`` tools record their calls. Also available as the ``scripted_app`` fixture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.sim import (
    ScriptedChatModel,
    ToolCallRecord,
    simulated_math_tool,
    simulated_search_tool,
)


@dataclass
class ScriptedApp:
    """An app, the model behind its planner and joiner, and the calls its tools recorded."""

    app: Any
    model: ScriptedChatModel
    calls: list[ToolCallRecord]


def is_joiner(messages: list[BaseMessage]) -> bool:
    """Tell the joiner's prompt from the planner's (only the joiner's mentions ``Finish(``)."""
    return "Finish(" in messages[0].text


def planner_then_joiner(plans: str | Sequence[str], joins: Sequence[str] | None = None) -> Any:
    """Reply with ``plans`` (in order; the last repeats) to the planner, ``joins`` to the joiner."""
    plan_list = [plans] if isinstance(plans, str) else list(plans)
    counts = {"plan": 0, "join": 0}

    def reply(messages: list[BaseMessage]) -> str:
        if not is_joiner(messages):
            counts["plan"] += 1
            return plan_list[min(counts["plan"], len(plan_list)) - 1]
        counts["join"] += 1
        if joins:
            return joins[min(counts["join"], len(joins)) - 1]
        observations = [
            line.removeprefix("Observation: ")
            for line in messages[-1].text.splitlines()
            if line.startswith("Observation:")
        ]
        return f"Thought: done.\nAction: Finish({' | '.join(observations)})"

    return reply


def scripted_app(
    plans: str | Sequence[str],
    *,
    joins: Sequence[str] | None = None,
    latency_s: float = 0.05,
    tools: Sequence[Any] | None = None,
    **options: Any,
) -> ScriptedApp:
    """Build an app whose planner and joiner follow the script; ``options`` go to the factory."""
    calls: list[ToolCallRecord] = []
    model = ScriptedChatModel(responses=planner_then_joiner(plans, joins))
    if tools is None:
        tools = [
            simulated_search_tool(latency_s=latency_s, jitter_s=0.0, recorder=calls),
            simulated_math_tool(latency_s=latency_s, recorder=calls),
        ]
    return ScriptedApp(create_llm_compiler(model, list(tools), **options), model, calls)
