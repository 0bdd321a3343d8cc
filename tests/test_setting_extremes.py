"""Every setting's extremes (inf, 0, huge, negative, a bool) are refused at build time or work.

"Work" means a run ends, sync and async, with every planned task accounted for: no
watchdog thread dies, no wait never ends. Refused means ``create_llm_compiler`` raises a
``ValueError`` whose one line names the setting.
"""

from __future__ import annotations

import asyncio
import math
import threading
from typing import Any

import pytest
from langchain_core.messages import BaseMessage, ToolMessage
from langchain_core.tools import tool

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.sim import ScriptedChatModel

pytestmark = pytest.mark.timeout(120)

PLAN = '1. search(q="a")\n2. search(q="b")\n3. search(q="$1 $2")\njoin()'
RUN_SECONDS = 30  # a run of this plan takes milliseconds; beyond this it hangs


@tool
def search(q: str) -> str:
    """Search for q."""
    return f"found {q}"


def reply(messages: list[BaseMessage]) -> str:
    if "Finish(" in messages[0].text:
        return "Thought: ok\nAction: Finish(done)"
    return PLAN


def build(**settings: Any) -> Any:
    return create_llm_compiler(ScriptedChatModel(responses=reply), [search], **settings)


def finishes(app: Any, mode: str) -> dict[str, Any]:
    """Run ``app`` on a thread; fail the test if it has not ended after RUN_SECONDS."""
    out: dict[str, Any] = {}
    question = {"messages": [("user", "q")]}

    def go() -> None:
        try:
            if mode == "sync":
                out["value"] = app.invoke(question)
            else:
                out["value"] = asyncio.run(app.ainvoke(question))
        except BaseException as exc:  # reported below
            out["error"] = exc

    runner = threading.Thread(target=go, daemon=True)
    runner.start()
    runner.join(RUN_SECONDS)
    assert not runner.is_alive(), f"the {mode} run hangs"
    assert "error" not in out, f"the {mode} run failed: {out.get('error')!r}"
    return out["value"]  # type: ignore[no-any-return]


WORK = [
    ("task_timeout", math.inf, {"tool_rate_limits": {"search": 100}}),
    ("task_timeout", 1e300, {"tool_rate_limits": {"search": 100}}),
    ("task_timeout", 1e300, {}),
    ("task_timeout", 1e-300, {}),
    ("tool_rate_limits", {"search": math.inf}, {}),
    ("tool_rate_limits", {"search": 1e300}, {}),
    ("max_replans", 0, {}),
    ("max_replans", 10**18, {}),
    ("max_concurrency", 1, {}),
    ("max_concurrency", 64, {}),
    ("tool_limits", {"search": 1}, {}),
    ("prompt_budget_chars", 10**18, {}),
    ("prompt_budget_chars", 1_000, {}),
    ("fallback_answer_chars", 10**18, {}),
    ("max_plan_tasks", 1, {}),
    ("max_plan_tasks", 10**18, {}),
    ("max_plan_line_chars", 100, {}),
    ("max_plan_line_chars", 10**18, {}),
    ("max_plan_chars", 100, {}),
    ("max_plan_chars", 10**18, {}),
]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("name", "value", "others"), WORK, ids=lambda v: repr(v)[:20])
def test_extremes_that_work(name: str, value: Any, others: dict[str, Any], mode: str) -> None:
    out = finishes(build(**{name: value}, **others), mode)
    assert out["messages"][-1].name == "joiner"
    # Every planned task has a result (an error for those beyond max_plan_tasks).
    results = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    assert len(results) == 3, [m.content for m in results]


REFUSED = [
    ("task_timeout", 0),
    ("task_timeout", -1),
    ("task_timeout", -math.inf),
    ("task_timeout", math.nan),
    ("task_timeout", True),
    ("tool_rate_limits", {"search": 0}),
    ("tool_rate_limits", {"search": -1}),
    ("tool_rate_limits", {"search": math.nan}),
    ("tool_rate_limits", {"search": 1e-300}),  # one call per 1e300 s: a hang
    ("tool_rate_limits", {"search": True}),
    ("max_replans", -1),
    ("max_replans", math.inf),
    ("max_replans", True),
    ("max_concurrency", 0),
    ("max_concurrency", 10**9),
    ("max_concurrency", math.inf),
    ("max_concurrency", True),
    ("tool_limits", {"search": 0}),
    ("tool_limits", {"search": 10**9}),
    ("prompt_budget_chars", 0),
    ("prompt_budget_chars", math.inf),
    ("fallback_answer_chars", -1),
    ("max_plan_tasks", 0),
    ("max_plan_tasks", True),
    ("max_plan_line_chars", 0),
    ("max_plan_chars", -1),
]


@pytest.mark.parametrize(("name", "value"), REFUSED, ids=lambda v: repr(v)[:20])
def test_extremes_that_are_refused_at_build_time(name: str, value: Any) -> None:
    with pytest.raises(ValueError, match=name) as raised:
        build(**{name: value})
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("value", [math.inf, 10**9, 1])
def test_config_max_concurrency_extremes_are_clamped(value: Any) -> None:
    app = build()
    out = app.invoke({"messages": [("user", "q")]}, {"max_concurrency": value})
    assert out["messages"][-1].content == "done"


@pytest.mark.parametrize("value", [math.nan])
def test_config_max_concurrency_that_is_no_number_is_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="max_concurrency"):
        build().invoke({"messages": [("user", "q")]}, {"max_concurrency": value})


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_huge_replan_limit_ends_with_an_answer_not_the_recursion_limit(mode: str) -> None:
    def always_replan(messages: list[BaseMessage]) -> str:
        if "Finish(" in messages[0].text:
            return "Thought: not yet\nAction: Replan(look again)"
        return PLAN

    app = create_llm_compiler(
        ScriptedChatModel(responses=always_replan), [search], max_replans=10**18
    )
    out = finishes(app, mode)
    answer = out["messages"][-1]
    assert answer.additional_kwargs["llmcompiler"]["incomplete"] == "replan_limit"
    assert "Best answer from the results" in answer.content
