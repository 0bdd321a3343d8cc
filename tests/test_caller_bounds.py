"""A run's context may tighten the settings a graph was built with, never loosen them.

The safety settings (approvals, limits, timeouts, plan bounds) declare in ``Context`` how
they tighten; the deployer's values (the factory's keywords and the declared defaults) are
the loosest a caller may ask for, unless the deployer opts a setting into caller control
(``create_llm_compiler(..., caller_may_loosen=[...])``).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import fields
from typing import Any

import pytest
from langchain_core.messages import BaseMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from llmcompiler_graph import Context, create_llm_compiler
from llmcompiler_graph.context import effective_settings
from llmcompiler_graph.sim import ScriptedChatModel

SAFETY = {
    "interrupt_before_tools",
    "interrupt_on",
    "max_replans",
    "max_concurrency",
    "task_timeout",
    "tool_limits",
    "tool_rate_limits",
    "tool_effects",
    "prompt_budget_chars",
    "fallback_answer_chars",
    "max_plan_tasks",
    "max_plan_line_chars",
    "max_plan_chars",
}


def test_the_safety_settings_declare_how_they_tighten() -> None:
    declared = {f.name for f in fields(Context) if f.metadata.get("tightens") is not None}
    assert declared == SAFETY


# (setting, the graph's value, tighter values a run may ask for, looser ones it may not)
CASES: list[tuple[str, Any, list[Any], list[Any]]] = [
    ("interrupt_before_tools", ["send"], [["send", "look"], ["send"], ["*"]], [[], ["look"]]),
    ("interrupt_before_tools", ["*"], [["*"], ["*", "send"]], [["send", "look"], []]),
    ("interrupt_before_tools", [], [["send"], []], []),
    (
        "interrupt_on",
        {"send": True},
        [{"send": {"allowed_decisions": ["approve"]}}, {"send": True, "look": True}, {"*": True}],
        [{}, {"send": False}, {"send": {"allowed_decisions": ["approve", "respond"]}}],
    ),
    (
        "interrupt_on",
        {"*": {"allowed_decisions": ["approve", "reject"]}},
        [{"*": {"allowed_decisions": ["approve"]}}],
        [{"look": False}, {"*": True}, {"look": True}],
    ),
    ("max_replans", 2, [0, 2], [3, 10**9]),
    ("max_concurrency", 4, [1, 4], [5, 64]),
    ("task_timeout", 10, [0.5, 10], [10.5, math.inf]),
    ("task_timeout", None, [1, 1e6], []),
    (
        "tool_limits",
        {"look": 2},
        [{"look": 1}, {"look": 2, "send": 1}],
        [{}, {"look": 3}, {"send": 1}],
    ),
    ("tool_limits", None, [{"look": 1}], []),
    ("tool_rate_limits", {"look": 5}, [{"look": 1}, {"look": 5, "send": 9}], [{}, {"look": 6}]),
    (
        "tool_effects",
        {"put": {"writes": ["fs"]}, "get": {"reads": ["fs"]}},
        [
            {"put": {"writes": ["fs", "db"]}, "get": {"reads": ["fs"]}},
            {"put": {"writes": ["fs"]}, "get": {"writes": ["fs"]}, "ls": {"reads": ["fs"]}},
        ],
        [{}, {"put": {"reads": ["fs"]}, "get": {"reads": ["fs"]}}, {"put": {"writes": ["fs"]}}],
    ),
    ("prompt_budget_chars", 20_000, [1_000], [20_001]),
    ("fallback_answer_chars", 4_000, [500], [4_001]),
    ("max_plan_tasks", 50, [1, 50], [51]),
    ("max_plan_line_chars", 1_000, [100], [1_001]),
    ("max_plan_chars", 10_000, [100], [10_001]),
]


@pytest.mark.parametrize(("name", "built", "tighter", "looser"), CASES)
def test_a_run_may_tighten_but_not_loosen(
    name: str, built: Any, tighter: list[Any], looser: list[Any]
) -> None:
    defaults = Context(**{name: built})
    for value in tighter:
        settings = effective_settings(defaults, {name: value})
        assert getattr(settings, name) == getattr(Context(**{name: value}), name)
    for value in looser:
        with pytest.raises(ValueError, match=rf"{name}.*caller_may_loosen") as refused:
            effective_settings(defaults, {name: value})
        assert "\n" not in str(refused.value)
        # ... unless the deployer opened the setting to callers.
        opened = effective_settings(defaults, {name: value}, loosenable={name})
        assert getattr(opened, name) == getattr(Context(**{name: value}), name)


def test_settings_without_a_direction_are_the_caller_s_to_choose() -> None:
    defaults = Context(plan_format="text", priority="fifo", fuse="waiting")
    chosen = {"plan_format": "tool_calls", "priority": "critical_path", "fuse": "off"}
    settings = effective_settings(defaults, chosen)
    assert (settings.plan_format, settings.priority, settings.fuse) == (
        "tool_calls",
        "critical_path",
        "off",
    )


def test_config_max_concurrency_is_capped_at_the_graph_s() -> None:
    defaults = Context(max_concurrency=2)
    assert effective_settings(defaults, None, {"max_concurrency": 1}).max_concurrency == 1
    assert effective_settings(defaults, None, {"max_concurrency": 50}).max_concurrency == 2
    opened = effective_settings(
        defaults, None, {"max_concurrency": 50}, loosenable={"max_concurrency"}
    )
    assert opened.max_concurrency == 50


# -- through the graph -------------------------------------------------------------------------

PLAN = '1. look(who="ada")\n2. send(to="$1")\njoin()'


def reply(messages: list[BaseMessage]) -> str:
    if "Finish(" in messages[0].text:
        return "Thought: ok\nAction: Finish(done)"
    return PLAN


def build(sent: list[str], **options: Any) -> Any:
    @tool
    def look(who: str) -> str:
        """Find an address."""
        return f"{who}@example.test"

    @tool
    def send(to: str) -> str:
        """Send an email."""
        sent.append(to)
        return "sent"

    return create_llm_compiler(
        ScriptedChatModel(responses=reply), [look, send], checkpointer=InMemorySaver(), **options
    )


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_run_cannot_switch_an_approval_off(mode: str) -> None:
    sent: list[str] = []
    app = build(sent, interrupt_before_tools=["send"])
    config = {"configurable": {"thread_id": mode}}
    question = {"messages": [("user", "Mail Ada.")]}
    context = {"interrupt_before_tools": []}
    with pytest.raises(ValueError, match=r"interrupt_before_tools.*caller_may_loosen"):
        if mode == "sync":
            app.invoke(question, config, context=context)
        else:
            asyncio.run(app.ainvoke(question, config, context=context))
    assert sent == []


def test_a_deployer_may_open_a_setting_to_callers() -> None:
    sent: list[str] = []
    app = build(sent, interrupt_before_tools=["send"], caller_may_loosen=["interrupt_before_tools"])
    config = {"configurable": {"thread_id": "t"}}
    out = app.invoke(
        {"messages": [("user", "Mail Ada.")]}, config, context={"interrupt_before_tools": []}
    )
    assert out["messages"][-1].content == "done"
    assert sent == ["ada@example.test"]


@pytest.mark.parametrize("names", [["model"], ["max_replan"], "max_replans"])
def test_caller_may_loosen_names_safety_settings(names: Any) -> None:
    with pytest.raises((ValueError, TypeError), match="caller_may_loosen"):
        build([], caller_may_loosen=names)
