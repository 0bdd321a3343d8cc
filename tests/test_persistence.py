"""Checkpointers: threads keep their conversation; follow-ups don't redo old work; time travel."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.server import DEMO_CORPUS
from llmcompiler_graph.sim import ScriptedChatModel, ToolCallRecord, simulated_search_tool
from llmcompiler_graph.sim.demo_model import demo_reply

PARIS = DEMO_CORPUS["Paris"]
BERLIN = DEMO_CORPUS["Berlin"]


def setup(checkpointer: Any) -> tuple[Any, ScriptedChatModel, list[ToolCallRecord]]:
    calls: list[ToolCallRecord] = []
    model = ScriptedChatModel(responses=demo_reply)
    search = simulated_search_tool(latency_s=0.02, jitter_s=0.0, corpus=DEMO_CORPUS, recorder=calls)
    app = create_llm_compiler(model, [search], checkpointer=checkpointer)
    return app, model, calls


def planner_prompts(model: ScriptedChatModel) -> list[list[BaseMessage]]:
    return [c for c in model.calls if "Finish(" not in c[0].text]


def joiner_prompts(model: ScriptedChatModel) -> list[list[BaseMessage]]:
    return [c for c in model.calls if "Finish(" in c[0].text]


def ask(text: str) -> dict[str, object]:
    return {"messages": [("user", text)]}


def check_follow_up(model: ScriptedChatModel, calls: list[ToolCallRecord]) -> None:
    # Each search ran exactly once: the follow-up did not re-run the first question's task.
    assert [c.args["query"] for c in calls] == ["Paris", "Berlin"]
    first, second = planner_prompts(model)
    # The follow-up's planner sees the earlier question and answer, as conversation...
    history = [m for m in second if not isinstance(m, SystemMessage)]
    assert [type(m).__name__ for m in history] == ["HumanMessage", "AIMessage", "HumanMessage"]
    assert history[0].text == "Where is Paris?"
    assert history[1].text == PARIS  # the answer
    assert history[2].text == "And where is Berlin?"
    # ...but not the earlier plan or results as work of this question, and numbering restarts.
    assert "Observation:" not in "\n".join(m.text for m in second)
    assert "Number the steps from 1" in second[0].text
    assert len(first) == 2  # system + question
    (joiner,) = joiner_prompts(model)[1:]
    assert BERLIN in joiner[-1].text and PARIS not in joiner[-1].text


def test_in_memory_thread_follow_up() -> None:
    app, model, calls = setup(InMemorySaver())
    config = {"configurable": {"thread_id": "t1"}}
    app.invoke(ask("Where is Paris?"), config)
    out = app.invoke(ask("And where is Berlin?"), config)
    assert out["messages"][-1].content == BERLIN
    check_follow_up(model, calls)
    humans = [m for m in out["messages"] if isinstance(m, HumanMessage)]
    assert len(humans) == 2
    # Task numbers restart per question, and every tool call id is unique in the thread.
    results = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    assert [m.artifact["index"] for m in results] == [1, 1]
    assert len({m.tool_call_id for m in results}) == 2
    # Another thread of the same graph starts empty.
    other = app.invoke(ask("Where is Berlin?"), {"configurable": {"thread_id": "t2"}})
    assert len(other["messages"]) == 4  # question, plan, result, answer


def test_sqlite_thread_survives_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "threads.sqlite")
    config = {"configurable": {"thread_id": "t1"}}
    with SqliteSaver.from_conn_string(path) as saver:
        app, model, calls = setup(saver)
        app.invoke(ask("Where is Paris?"), config)
    # A new process would build the graph again: a new saver on the same file, new models.
    with SqliteSaver.from_conn_string(path) as saver:
        app2, model2, calls2 = setup(saver)
        out = app2.invoke(ask("And where is Berlin?"), config)
    assert out["messages"][-1].content == BERLIN
    model2.calls[:0] = model.calls  # the whole conversation's model calls, in order
    check_follow_up(model2, [*calls, *calls2])


def test_async_sqlite_thread(tmp_path: Path) -> None:
    path = str(tmp_path / "threads.sqlite")
    config = {"configurable": {"thread_id": "t1"}}

    async def run() -> tuple[ScriptedChatModel, list[ToolCallRecord], str]:
        async with AsyncSqliteSaver.from_conn_string(path) as saver:
            app, model, calls = setup(saver)
            await app.ainvoke(ask("Where is Paris?"), config)
            out = await app.ainvoke(ask("And where is Berlin?"), config)
            return model, calls, str(out["messages"][-1].content)

    model, calls, answer = asyncio.run(run())
    assert answer == BERLIN
    check_follow_up(model, calls)


def test_state_history_and_time_travel() -> None:
    app, model, calls = setup(InMemorySaver())
    config = {"configurable": {"thread_id": "t1"}}
    app.invoke(ask("Where is Paris?"), config)
    history = list(app.get_state_history(config))
    nexts = [s.next for s in history]  # newest first
    assert nexts[:3] == [(), ("join",), ("plan_and_schedule",)]
    before_join = history[1]
    assert isinstance(before_join.values["messages"][-1], ToolMessage)

    # Replaying from the checkpoint before the joiner runs only the joiner: no new plan,
    # no tool call, and a new branch of history.
    planner_calls, joiner_calls = len(planner_prompts(model)), len(joiner_prompts(model))
    out = app.invoke(None, before_join.config)
    assert out["messages"][-1].content == PARIS
    assert len(calls) == 1
    assert len(planner_prompts(model)) == planner_calls
    assert len(joiner_prompts(model)) == joiner_calls + 1
    assert len(list(app.get_state_history(config))) == len(history) + 2

    # Forking: correct a result at that checkpoint (same message id: it is replaced), then
    # continue from the edit; the joiner answers from the corrected result.
    result = before_join.values["messages"][-1]
    edited = result.model_copy(update={"content": "Paris is in Texas."})
    fork = app.update_state(before_join.config, {"messages": [edited]})
    out = app.invoke(None, fork)
    assert out["messages"][-1].content == "Paris is in Texas."
    assert [m.content for m in out["messages"] if isinstance(m, ToolMessage)] == [
        "Paris is in Texas."
    ]
    assert len(calls) == 1
