"""A scripted planner that plans only for some tools is refused by a graph without them.

``scripted:demo`` plans ``search`` and ``math`` only: with the reader's own tools it used to
plan ``search(...)``, fail with "unknown tool" three times and answer "I could not find an
answer". Now the graph says so when it is built (or, for a model chosen per run, in the answer).
"""

from __future__ import annotations

import pytest
from langchain_core.tools import tool

from llmcompiler_graph import ConfigurationError, create_llm_compiler
from llmcompiler_graph.server import DEMO_CORPUS
from llmcompiler_graph.sim import ScriptedChatModel, simulated_math_tool, simulated_search_tool


def get_weather(city: str) -> str:
    """Return today's weather in a city."""
    return f"sunny in {city}"


@pytest.mark.parametrize("name", ["scripted:demo", "scripted:demo-instant"])
def test_the_demo_model_with_other_tools_is_refused_when_the_graph_is_built(name: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        create_llm_compiler(name, [get_weather])
    message = str(caught.value)
    assert name in message and "get_weather" in message
    assert "math, search only" in message and "none of them" in message
    assert "ScriptedChatModel(responses=[plan, answer])" in message


def test_the_demo_model_with_the_demo_tools_and_more_is_fine() -> None:
    search = simulated_search_tool(latency_s=0.0, jitter_s=0.0, corpus=DEMO_CORPUS)
    tools = [search, simulated_math_tool(latency_s=0.0), tool(get_weather)]
    app = create_llm_compiler("scripted:demo-instant", tools)
    out = app.invoke({"messages": [("user", "Were Scott Derrickson and Ed Wood American?")]})
    assert "American" in out["messages"][-1].content


def test_a_scripted_model_object_that_declares_its_tools_is_checked_too() -> None:
    model = ScriptedChatModel(responses=["1. search('x')"], plans_for=frozenset({"search"}))
    with pytest.raises(ConfigurationError, match="none of them"):
        create_llm_compiler(model, [get_weather])
    mine = ScriptedChatModel(responses=['1. get_weather("Oslo")', "Action: Finish(sunny)"])
    out = create_llm_compiler(mine, [get_weather]).invoke({"messages": [("user", "Oslo?")]})
    assert out["messages"][-1].content == "sunny"


def test_a_model_chosen_per_run_answers_with_the_same_explanation() -> None:
    calls: list[str] = []

    @tool
    def lookup(key: str) -> str:
        """Look up a record."""
        calls.append(key)
        return key

    app = create_llm_compiler(None, [lookup])
    out = app.invoke(
        {"messages": [("user", "Who is Ed Wood?")]}, context={"model": "scripted:demo-instant"}
    )
    answer = out["messages"][-1].content
    assert "ScriptedChatModel(responses=[plan, answer])" in answer and "lookup" in answer
    assert calls == []
