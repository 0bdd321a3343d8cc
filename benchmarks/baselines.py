"""The baselines: ReAct and native parallel tool calling, as real ``create_agent`` loops.

Both are :func:`langchain.agents.create_agent` agents (the ecosystem's standard tool-calling
loop, a LangGraph graph) driven by a scripted, latency-simulating model. They differ only in
what the model says (:mod:`benchmarks.scripts`): ReAct makes one tool call per
turn; parallel tool calling puts every call whose inputs are known into one turn, so it needs
one turn per dependency level. The agent runs a turn's calls in parallel itself.
"""

from __future__ import annotations

from typing import Any, Literal

from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import BaseTool

from benchmarks.scripts import parallel_turns, react_turns
from benchmarks.workloads import Case

__all__ = ["AGENT_PROMPTS", "Baseline", "build_agent", "scripted_turns"]

Baseline = Literal["react", "parallel"]

AGENT_PROMPTS: dict[str, str] = {
    "react": (
        "You are a helpful assistant that answers questions with the tools provided. Work step "
        "by step: before every tool call, say in one sentence what you need and why, then call "
        "exactly one tool and wait for its result. Use the results you already have to choose "
        "the next call; never guess a fact you can look up. When you can answer, give a short "
        "justification and end with 'Answer: <answer>'."
    ),
    "parallel": (
        "You are a helpful assistant that answers questions with the tools provided. Work step "
        "by step: in each turn, say in one sentence what you need, then call every tool whose "
        "inputs you already know, all at once in the same turn; wait for results only when a "
        "call needs an earlier result. Never guess a fact you can look up. When you can answer, "
        "give a short justification and end with 'Answer: <answer>'."
    ),
}


def scripted_turns(case: Case, approach: Baseline) -> list[AIMessage]:
    """Return the scripted replies of ``approach``'s model for ``case``."""
    return react_turns(case) if approach == "react" else parallel_turns(case)


def build_agent(model: BaseChatModel, tools: list[BaseTool], approach: Baseline) -> Any:
    """Build the baseline agent (a compiled LangGraph graph)."""
    return create_agent(
        model, tools, system_prompt=AGENT_PROMPTS[approach], name=f"{approach}-agent"
    )
