"""The graph ``langgraph.json`` serves: configuration by environment and runtime context."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage
from langgraph.graph.state import CompiledStateGraph

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.errors import ConfigurationError, ModelNotConfiguredError
from llmcompiler_graph.models import register_model, resolve_model
from llmcompiler_graph.server import served_tools
from llmcompiler_graph.sim import ScriptedChatModel, simulated_math_tool, simulated_search_tool
from llmcompiler_graph.sim.demo_model import demo_reply

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
    factory = getattr(importlib.import_module(module), attribute)
    graph = factory()  # a zero-argument graph factory, built once
    assert factory() is graph
    assert isinstance(graph, CompiledStateGraph)
    assert graph.name == "LLMCompiler"
    assert set(graph.nodes) >= {"plan_and_schedule", "approve", "join"}


def test_served_graph_without_a_key_says_what_to_set(no_model: None) -> None:
    from llmcompiler_graph.server import make_graph

    graph = make_graph()
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
        [simulated_search_tool(latency_s=0.0, jitter_s=0.0), simulated_math_tool(latency_s=0.0)],
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
    app = create_llm_compiler(None, [simulated_search_tool(latency_s=0.0, jitter_s=0.0)])
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


def test_importing_builds_no_graph_and_reads_no_environment_variable() -> None:
    """Every module imports with garbage ``LLMCOMPILER_*`` values, touching none of them."""
    probe = """
import importlib, os, pkgutil
from langgraph.graph import StateGraph

read = []
class Spy(type(os.environ)):
    def __getitem__(self, key):
        read.append(key)
        return super().__getitem__(key)
spy = Spy(os.environ._data, os.environ.encodekey, os.environ.decodekey,
          os.environ.encodevalue, os.environ.decodevalue)
os.environ = spy
def no_compile(*args, **kwargs):
    raise AssertionError("a graph was compiled at import")
StateGraph.compile = no_compile
import llmcompiler_graph
for module in pkgutil.walk_packages(llmcompiler_graph.__path__, "llmcompiler_graph."):
    importlib.import_module(module.name)
print(sorted({k for k in read if k.startswith("LLMCOMPILER_")}))
"""
    env = {
        **os.environ,
        "LLMCOMPILER_TOOLS": "nope",
        "LLMCOMPILER_PLAN_FORMAT": "nope",
        "LLMCOMPILER_MODEL": "nope:nope",
    }
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("variable", "accepted"),
    [("LLMCOMPILER_TOOLS", "'demo'"), ("LLMCOMPILER_PLAN_FORMAT", "'tool_calls'")],
)
def test_a_bad_variable_fails_when_the_served_graph_is_built(
    monkeypatch: pytest.MonkeyPatch, variable: str, accepted: str
) -> None:
    from llmcompiler_graph import server

    monkeypatch.setenv(variable, "garbage")
    server._served_graph.cache_clear()
    try:
        with pytest.raises(ConfigurationError) as raised:
            server.make_graph()
    finally:
        server._served_graph.cache_clear()
    message = str(raised.value)
    assert "\n" not in message
    assert f"{variable}='garbage'" in message and accepted in message
