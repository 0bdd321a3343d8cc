"""The graph ``langgraph.json`` serves: configuration by environment and runtime context."""

from __future__ import annotations

import asyncio
import importlib
import json
import re
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage
from langgraph.graph.state import CompiledStateGraph

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.models import ModelNotConfiguredError, register_model, resolve_model
from llmcompiler_graph.served import served_tools
from llmcompiler_graph.sim import ScriptedChatModel, make_math_tool, make_search_tool
from llmcompiler_graph.sim.demo import demo_reply

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LLMCOMPILER_MODEL"):
        monkeypatch.delenv(name, raising=False)


def test_langgraph_json_points_at_the_module_graph() -> None:
    config = json.loads((REPO / "langgraph.json").read_text())
    assert config["dependencies"] == ["."]
    assert config["env"] == ".env"
    module, attribute = config["graphs"]["llmcompiler"].split(":")
    graph = getattr(importlib.import_module(module), attribute)
    assert isinstance(graph, CompiledStateGraph)
    assert graph.name == "LLMCompiler"
    assert set(graph.nodes) >= {"plan_and_schedule", "approve", "join"}


def test_served_graph_without_a_key_says_what_to_set(no_model: None) -> None:
    from llmcompiler_graph.graph import graph

    out = graph.invoke({"messages": [("user", "What is 2 + 2?")]})
    answer = out["messages"][-1]
    assert isinstance(answer, AIMessage)
    for setting in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LLMCOMPILER_MODEL"):
        assert setting in str(answer.content)
    assert len(out["messages"]) == 2  # no plan, no tool call
    out = asyncio.run(graph.ainvoke({"messages": [("user", "What is 2 + 2?")]}))
    assert "OPENAI_API_KEY" in str(out["messages"][-1].content)


def test_tool_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLMCOMPILER_TOOLS", raising=False)
    assert [t.name for t in served_tools()] == ["search", "math"]
    monkeypatch.setenv("LLMCOMPILER_TOOLS", "simulated")
    simulated = served_tools()
    assert [t.name for t in simulated] == ["search", "math"]
    assert "Paris is the capital of France" in str(simulated[0].invoke({"query": "Paris"}))
    monkeypatch.setenv("LLMCOMPILER_TOOLS", "wikipedia")
    with pytest.raises(ValueError, match="LLMCOMPILER_TOOLS='wikipedia' is not a tool set"):
        served_tools()


def test_builtin_scripted_models() -> None:
    demo = resolve_model("scripted:demo")
    assert isinstance(demo, ScriptedChatModel) and demo.latency.name == "gpt-3.5-like"
    instant = resolve_model("scripted:demo-instant")
    assert isinstance(instant, ScriptedChatModel) and instant.latency.name == "instant"
    with pytest.raises(ModelNotConfiguredError, match=r"no scripted model named 'nope'.*demo"):
        resolve_model("scripted:nope")


def test_demo_planner_and_joiner_rules() -> None:
    app = create_llm_compiler(
        "scripted:demo-instant",
        [make_search_tool(latency_s=0.0, jitter_s=0.0), make_math_tool(latency_s=0.0)],
    )
    out = app.invoke({"messages": [("user", "What is (3 + 4) * 6 and who is Ada Lovelace?")]})
    plan = out["messages"][1]
    assert [(c["name"], c["args"]) for c in plan.tool_calls] == [
        ("math", {"problem": "(3 + 4) * 6"}),
        ("search", {"query": "Ada Lovelace"}),
    ]
    assert str(out["messages"][-1].content).startswith("42 Search result for 'Ada Lovelace'")


def test_context_settings_change_a_run(no_model: None) -> None:
    seen: list[list[BaseMessage]] = []

    def recording(messages: list[BaseMessage]) -> str:
        seen.append(messages)
        if "Finish(" in messages[0].text:
            return "Thought: not enough.\nAction: Replan(look again)"
        return demo_reply(messages)

    register_model("test-replanner", lambda: ScriptedChatModel(responses=recording))
    app = create_llm_compiler(None, [make_search_tool(latency_s=0.0, jitter_s=0.0)])
    question = {"messages": [("user", "Where is Paris?")]}

    out = app.invoke(question, context={"model": "scripted:test-replanner", "max_replans": 0})
    assert str(out["messages"][-1].content).startswith("I could not complete this within 0 replan")
    assert len(seen) == 2  # one plan, one joiner call that had to finish

    seen.clear()
    context = {"model": "scripted:test-replanner", "max_replans": 1, "planner_prompt": "Plan."}
    out = app.invoke(question, context=context)
    assert len(seen) == 4  # plan, replan, plan, must finish
    assert seen[0][0].text == "Plan."
    assert "within 1 replan" in str(out["messages"][-1].content)


def test_env_example_lists_every_variable_the_package_reads() -> None:
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (REPO / ".env.example").read_text(), re.M)
    )
    read: set[str] = set()
    for path in (REPO / "llmcompiler_graph").rglob("*.py"):
        read |= set(re.findall(r"\b(LLMCOMPILER_[A-Z0-9_]+|OPENAI_[A-Z_]+)\b", path.read_text()))
    assert read - documented == set()
