"""The paper's math(problem, context), the demo's ParallelQA question in one plan, tool names."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage, ToolMessage
from langchain_core.tools import StructuredTool

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.errors import CalculatorError
from llmcompiler_graph.server import DEMO_CORPUS
from llmcompiler_graph.sim import ScriptedChatModel, simulated_search_tool
from llmcompiler_graph.tools import make_math_tool
from llmcompiler_graph.tools.llm_math import MATH_PROMPT

CONTEXT = ["Mount Everest: 8,849 m high.", "K2: 8,611 m high."]


def test_plain_arithmetic_never_calls_the_model() -> None:
    model = ScriptedChatModel(responses=[])  # any call would fail: the script is empty
    math = make_math_tool(model)
    assert math.invoke({"problem": "(3 + 4) * 2"}) == "14"
    assert asyncio.run(math.ainvoke({"problem": "2 ^ 10", "context": CONTEXT})) == "1024"
    assert model.calls == []


def test_a_word_problem_asks_the_model_for_one_expression_over_the_context() -> None:
    model = ScriptedChatModel(responses=["```text\n8,849 - 8,611\n```", "Expression: 8849 / 8611"])
    math = make_math_tool(model)
    assert math.invoke({"problem": "height difference in m?", "context": CONTEXT}) == "238"
    ratio = asyncio.run(math.ainvoke({"problem": "ratio?", "context": CONTEXT}))
    assert ratio.startswith("1.027")
    system, human = model.calls[0]
    assert isinstance(system, SystemMessage) and system.text == MATH_PROMPT
    assert "Context 1:\nMount Everest: 8,849 m high." in human.text
    assert human.text.endswith("Question: height difference in m?")


@pytest.mark.parametrize(
    "reply", ["__import__('os').system('echo hacked')", "x * 2", "open('/etc/passwd')", ""]
)
def test_model_text_is_never_executed(reply: str) -> None:
    math = make_math_tool(ScriptedChatModel(responses=[reply]))
    with pytest.raises(CalculatorError, match="is not plain arithmetic"):
        math.invoke({"problem": "what is the height?", "context": CONTEXT})


def demo_app() -> Any:
    search = simulated_search_tool(latency_s=0.0, corpus=DEMO_CORPUS)
    return create_llm_compiler("scripted:demo-instant", [search, make_math_tool()])


def test_the_demo_answers_a_parallelqa_question_in_one_plan() -> None:
    question = "What is the height difference between Mount Everest and K2?"
    out = demo_app().invoke({"messages": [("user", question)]})
    plans = [m for m in out["messages"] if isinstance(m, AIMessage) and m.name == "planner"]
    assert len(plans) == 1  # no replan
    assert [c["name"] for c in plans[0].tool_calls] == ["search", "search", "math"]
    math = [m for m in out["messages"] if isinstance(m, ToolMessage) and m.name == "math"]
    assert [m.content for m in math] == ["238"]
    assert out["messages"][-1].content == "238"


def test_math_built_without_a_model_uses_the_runs_planner() -> None:
    def reply(messages: list[BaseMessage]) -> str:
        system = messages[0].text
        if system == MATH_PROMPT:
            return "```text\n6 * 7\n```"
        if "Finish(" in system:
            return "Thought: done.\nAction: Finish(" + str(messages[-1].text.count("42")) + ")"
        return '1. math("six times seven?", ["6", "7"])\n2. join()<END_OF_PLAN>'

    model = ScriptedChatModel(responses=reply)
    out = create_llm_compiler(model, [make_math_tool()]).invoke({"messages": [("user", "q")]})
    assert [m.content for m in out["messages"] if isinstance(m, ToolMessage)] == ["42"]
    assert len(model.calls) == 3  # planner, math, joiner: the same model object


def test_the_served_and_demo_tool_sets_use_the_papers_math(monkeypatch: pytest.MonkeyPatch) -> None:
    from llmcompiler_graph.server import served_tools
    from llmcompiler_graph.tools import demo_tools

    assert [t.name for t in demo_tools()] == ["search", "math"]
    assert "context" in demo_tools()[1].args
    monkeypatch.setenv("LLMCOMPILER_TOOLS", "simulated")
    served = served_tools()
    assert [t.name for t in served] == ["search", "math"]
    assert served[1].invoke({"problem": "6 * 7"}) == "42"


# -- tool names the plan format cannot call -------------------------------------------------------


def named(name: str) -> StructuredTool:
    tool = StructuredTool.from_function(lambda query: query, name="x", description="A tool.")
    tool.name = name
    return tool


@pytest.mark.parametrize(
    ("name", "fix"),
    [
        ("join", "rename it, e.g. 'join_data'"),
        ("Join", "rename it, e.g. 'join_data'"),
        ("JOIN", "rename it, e.g. 'join_data'"),
        ("my tool", "rename it, e.g. 'my_tool'"),
        ("a-b", "rename it, e.g. 'a_b'"),
        ("", "rename it, e.g. 'tool'"),
        ("3d", "rename it, e.g. 'tool_3d'"),
    ],
)
def test_uncallable_tool_names_are_refused_at_build_time(name: str, fix: str) -> None:
    model = ScriptedChatModel(responses=[])
    with pytest.raises(ValueError, match=f"tool {name!r}: .*{fix}"):
        create_llm_compiler(model, [named(name)])


def test_dotted_and_keyword_like_names_are_callable() -> None:
    model = ScriptedChatModel(responses=[])
    create_llm_compiler(model, [named("kit.sum_of"), named("class"), named("joiner")])


def test_the_demo_model_recognizes_the_math_tools_prompt() -> None:
    from llmcompiler_graph.sim.demo_model import MATH_REQUEST

    assert MATH_PROMPT.startswith(MATH_REQUEST)
