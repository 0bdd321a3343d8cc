"""``plan_format="tool_calls"``: a scripted model streams ``tool_call_chunks`` through the graph."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from fakes.chat_models import ChunkedToolCalls, FaultyPlanner
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolCall, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.server import served_plan_format
from llmcompiler_graph.sim import (
    LatencyProfile,
    ScriptedChatModel,
    ToolCallRecord,
    simulated_math_tool,
    simulated_search_tool,
)

# Slow enough that a plan takes ~1 s to stream, so "ran before the stream ended" is robust.
STREAMING = LatencyProfile("streaming", 0.0, 60.0, 0.0, 0.0)
CONFIG = {"configurable": {"thread_id": "t"}}


_ids = iter(range(10**6))


def call(tool_name: str, /, **args: Any) -> ToolCall:
    return ToolCall(name=tool_name, args=args, id=f"call_{next(_ids)}")


def plan(*calls: ToolCall, thought: str = "I will look these up in parallel.") -> AIMessage:
    return AIMessage(content=thought, tool_calls=list(calls))


def is_joiner(messages: list[BaseMessage]) -> bool:
    return "Finish(" in messages[0].text


def observations(messages: list[BaseMessage]) -> list[str]:
    return [
        line.removeprefix("Observation: ")
        for line in messages[-1].text.splitlines()
        if line.startswith("Observation:")
    ]


def responder(*plans: AIMessage, feedback: str | None = None) -> Callable[..., Any]:
    """Plan ``plans`` in order; the joiner replans (with ``feedback``) until the last one."""

    def reply(messages: list[BaseMessage]) -> str | AIMessage:
        rounds = sum(isinstance(m, AIMessage) for m in messages)
        if is_joiner(messages):
            done = messages[-1].text.count("Plan ") >= len(plans)
            if not done:
                return f"Thought: not yet.\nAction: Replan({feedback})"
            return f"Thought: done.\nAction: Finish({' | '.join(observations(messages))})"
        return plans[min(rounds, len(plans) - 1)]

    return reply


def build(
    *plans: AIMessage, feedback: str | None = None, **kwargs: Any
) -> tuple[Any, ScriptedChatModel, list[ToolCallRecord]]:
    records: list[ToolCallRecord] = []
    model = ScriptedChatModel(
        responses=responder(*plans, feedback=feedback),
        latency=kwargs.pop("latency", "instant"),
        stream_tool_calls=True,
    )
    tools = kwargs.pop("tools", None) or [
        simulated_search_tool(latency_s=0.05, jitter_s=0.0, recorder=records),
        simulated_math_tool(latency_s=0.05, recorder=records),
    ]
    app = create_llm_compiler(model, tools, plan_format="tool_calls", **kwargs)
    return app, model, records


def results(messages: list[BaseMessage]) -> dict[int, ToolMessage]:
    return {m.artifact["index"]: m for m in messages if isinstance(m, ToolMessage)}


DIAMOND = plan(
    call("math", problem="2 + 3"),
    call("math", problem="$1 * 10"),
    call("math", problem="${1} + 1"),
    call("math", problem="$2 + $3"),
)


def check_diamond(out: dict[str, Any], model: ScriptedChatModel, records: list[Any]) -> None:
    done = results(out["messages"])
    assert {i: m.content for i, m in done.items()} == {1: "5", 2: "50", 3: "6", 4: "56"}
    problems = {r.args["problem"] for r in records}
    assert problems == {"2 + 3", "5 * 10", "5 + 1", "50 + 6"}
    (planner_call,) = [e for e in model.events if e.output_tokens > 30]
    first = min(records, key=lambda r: r.start)
    assert first.args["problem"] == "2 + 3"
    assert first.start < planner_call.end, "task 1 waited for the end of the stream"
    assert out["messages"][-1].content == "5 | 50 | 6 | 56"


def test_a_diamond_runs_while_the_calls_stream() -> None:
    app, model, records = build(DIAMOND, latency=STREAMING)
    check_diamond(app.invoke({"messages": [("user", "q")]}), model, records)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_last_call_starts_at_the_final_chunk_not_when_the_stream_returns(mode: str) -> None:
    # LangChain yields the chunk_position="last" chunk before it merges the chunks and runs
    # callbacks; no call can follow it, so the last call is complete there.
    gate = threading.Event()

    @tool
    def search(query: str) -> str:
        """Search the web."""
        if query == "b":  # the last call
            gate.set()
        return f"found {query}"

    first = {"index": 0, "id": "c1", "name": "search", "args": '{"query": "a"}'}
    second = {"index": 1, "id": "c2", "name": "search", "args": '{"query": "b"}'}
    planner = ChunkedToolCalls(groups=[[first], [second]], hold_after_last=gate)
    joiner = ScriptedChatModel(responses=["Thought: ok.\nAction: Finish(done)"])
    app = create_llm_compiler(planner, [search], joiner_model=joiner, plan_format="tool_calls")
    question = {"messages": [("user", "q")]}
    out = app.invoke(question) if mode == "sync" else asyncio.run(app.ainvoke(question))
    assert planner.released == [True], "the last call waited for the end of the stream"
    assert [m.content for m in out["messages"] if isinstance(m, ToolMessage)] == [
        "found a",
        "found b",
    ]


def test_a_diamond_runs_while_the_calls_stream_async() -> None:
    app, model, records = build(DIAMOND, latency=STREAMING)
    check_diamond(asyncio.run(app.ainvoke({"messages": [("user", "q")]})), model, records)


def test_the_planner_is_bound_to_the_tools_and_told_the_numbering() -> None:
    app, model, _ = build(plan(call("search", query="Paris")))
    app.invoke({"messages": [("user", "q")]})
    planner_prompt = model.calls[0]
    assert "numbered in order, from 1" in planner_prompt[0].text
    assert "$N" in planner_prompt[0].text and "<END_OF_PLAN>" not in planner_prompt[0].text


def test_a_chain_passes_whole_objects_for_an_exact_reference() -> None:
    seen: list[object] = []

    @tool
    def lookup(name: str) -> dict[str, Any]:
        """Return a record."""
        return {"name": name, "population": 2_100_000}

    @tool
    def describe(record: dict[str, Any], note: str) -> str:
        """Describe a record."""
        seen.append(record)
        return f"{record['name']} has {record['population']} people ({note})"

    chain = plan(
        call("lookup", name="Paris"),
        call("describe", record="$1", note="from $1"),
        call("describe", record="$1", note="again: ${2}"),
    )
    app, _, _ = build(chain, tools=[lookup, describe])
    done = results(app.invoke({"messages": [("user", "q")]})["messages"])
    assert seen[0] == {"name": "Paris", "population": 2_100_000}
    assert "from {'name': 'Paris'" in str(done[2].content)
    assert str(done[3].content).endswith(
        "(again: Paris has 2100000 people (from {'name': 'Paris', 'population': 2100000}))"
    )


def test_bad_calls_fail_alone_and_the_joiner_reads_why() -> None:
    bad = plan(
        call("search", query="Paris"),
        call("serch", query="Berlin"),
        call("math", problem="$1", extra=1),
        call("math", problem="${9}"),
    )
    app, _, records = build(bad)
    out = app.invoke({"messages": [("user", "q")]})
    done = results(out["messages"])
    assert done[1].status == "success"
    assert [records[0].args] == [{"query": "Paris"}]
    assert "task 2 'serch': unknown tool 'serch'; did you mean 'search'?" in str(done[2].content)
    assert "tool 'math' has no argument(s) 'extra'" in str(done[3].content)
    assert "${9} refers to task 9, which was not planned before it" in str(done[4].content)
    assert "unknown tool 'serch'" in str(out["messages"][-1].content)


def test_approval_holds_calls_like_text_plans() -> None:
    calls = plan(call("search", query="Paris"), call("math", problem="2 + 3"))
    app, _, records = build(calls, checkpointer=InMemorySaver(), interrupt_before_tools=("math",))
    out = app.invoke({"messages": [("user", "q")]}, CONFIG)
    (interrupt,) = out["__interrupt__"]
    assert [(a["name"], a["args"]) for a in interrupt.value["action_requests"]] == [
        ("math", {"problem": "2 + 3"})
    ]
    assert [r.tool for r in records] == ["search"]
    out = app.invoke(Command(resume={"decisions": [{"type": "approve"}]}), CONFIG)
    assert sorted(results(out["messages"])) == [1, 2]
    assert out["messages"][-1].content.endswith("| 5")


def test_a_replan_refers_to_a_first_round_result_by_number() -> None:
    first = plan(call("math", problem="6 * 7"))
    second = plan(call("math", problem="$1 + 1"), thought="Now add one to call 1's result.")
    app, model, records = build(first, second, feedback="add one to it")
    out = app.invoke({"messages": [("user", "q")]})
    done = results(out["messages"])
    assert {i: m.content for i, m in done.items()} == {1: "42", 2: "43"}
    assert [r.args["problem"] for r in records] == ["6 * 7", "42 + 1"]
    # The second prompt shows round 1 as the model's own tool calling, then the feedback.
    prompt = [m for m in model.calls if not is_joiner(m)][1]
    replayed = [m for m in prompt if isinstance(m, AIMessage)]
    assert [c["name"] for c in replayed[0].tool_calls] == ["math"]
    answer = next(m for m in prompt if isinstance(m, ToolMessage))
    assert answer.tool_call_id == replayed[0].tool_calls[0]["id"]
    assert answer.content == "Call $1 returned: 42"
    last = prompt[-1]
    assert isinstance(last, HumanMessage)
    assert "Feedback: add one to it" in last.text and "numbered from 2" in last.text


def test_the_context_chooses_the_format_per_run() -> None:
    model = ScriptedChatModel(
        responses=responder(plan(call("math", problem="1 + 1"))), stream_tool_calls=True
    )
    app = create_llm_compiler(model, [simulated_math_tool(latency_s=0.0)])
    out = app.invoke({"messages": [("user", "q")]}, context={"plan_format": "tool_calls"})
    assert results(out["messages"])[1].content == "2"


def test_checkpointed_conversation_continues_in_tool_call_format() -> None:
    app, model, _ = build(plan(call("math", problem="1 + 1")), checkpointer=InMemorySaver())
    app.invoke({"messages": [("user", "first")]}, CONFIG)
    out = app.invoke({"messages": [("user", "second")]}, CONFIG)
    assert results(out["messages"][-4:])[1].content == "2"
    second_plan = [m for m in model.calls if not is_joiner(m)][1]
    assert [m.text for m in second_plan if isinstance(m, HumanMessage)] == ["first", "second"]


def test_a_model_without_tool_calling_is_refused_with_advice() -> None:
    with pytest.raises(ValueError, match="plan_format='tool_calls' needs a chat model with tool"):
        create_llm_compiler(
            FaultyPlanner(chunks=[]), [simulated_math_tool()], plan_format="tool_calls"
        )


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="plan_format must be one of 'text', 'tool_calls'"):
        create_llm_compiler(None, [simulated_math_tool()], plan_format="json")  # type: ignore[arg-type]


def test_the_served_format_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLMCOMPILER_PLAN_FORMAT", raising=False)
    assert served_plan_format() == "text"
    monkeypatch.setenv("LLMCOMPILER_PLAN_FORMAT", "tool-calls")
    assert served_plan_format() == "tool_calls"
    monkeypatch.setenv("LLMCOMPILER_PLAN_FORMAT", "yaml")
    with pytest.raises(ValueError, match="LLMCOMPILER_PLAN_FORMAT='yaml' is not a plan format"):
        served_plan_format()


def test_task_events_stream_for_tool_calls() -> None:
    app, _, _ = build(plan(call("math", problem="1 + 1"), call("math", problem="$1 * 3")))
    events = [
        data
        for mode, data in app.stream({"messages": [("user", "q")]}, stream_mode=["custom"])
        if mode == "custom"
    ]
    finished = {e["index"]: e for e in events if e["event"] == "finished"}
    assert sorted(finished) == [1, 2]
    assert next(e for e in events if e["event"] == "started" and e["index"] == 2)["deps"] == [1]


def test_plan_size_limits_apply_to_tool_calls() -> None:
    many = plan(*(call("math", problem=f"{n} + 1") for n in range(5)))
    app, _, records = build(many, max_plan_tasks=3)
    done = results(app.invoke({"messages": [("user", "q")]})["messages"])
    assert len(records) == 3
    assert "max_plan_tasks=3" in str(done[4].content)

    long = plan(call("search", query="x" * 500), call("math", problem="1 + 1"))
    app, _, records = build(long, max_plan_line_chars=200)
    done = results(app.invoke({"messages": [("user", "q")]})["messages"])
    assert "longer than max_plan_line_chars=200" in str(done[1].content)
    assert done[2].content == "2"

    app, _, records = build(long, max_plan_chars=300)
    out = app.invoke({"messages": [("user", "q")]})
    assert "the plan was cut at max_plan_chars=300" in str(out["messages"][1].content)
    assert records == []


class ToolRuns(BaseCallbackHandler):
    """Record each tool run's parent run name and task number."""

    def __init__(self) -> None:
        self.names: dict[UUID, str] = {}
        self.tools: list[tuple[UUID | None, object]] = []

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.names[run_id] = str(kwargs.get("name") or (serialized or {}).get("name"))

    def on_tool_start(
        self,
        serialized: Any,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.tools.append((parent_run_id, (metadata or {}).get("llmcompiler_task")))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_tool_runs_are_traced_under_the_planning_node(mode: str) -> None:
    app, _, _ = build(plan(call("math", problem="1 + 1"), call("math", problem="$1 * 3")))
    runs = ToolRuns()
    config: Any = {"callbacks": [runs]}
    question = {"messages": [("user", "q")]}
    if mode == "sync":
        app.invoke(question, config)
    else:
        asyncio.run(app.ainvoke(question, config))
    assert sorted(task for _, task in runs.tools) == [1, 2]
    assert {runs.names[parent] for parent, _ in runs.tools if parent} == {"plan_and_schedule"}


def test_the_built_in_scripted_model_plans_with_tool_calls_when_asked() -> None:
    corpus = {
        "Scott Derrickson": "Scott Derrickson (born 1966) is an American filmmaker.",
        "Ed Wood": "Ed Wood (1924-1978) was an American filmmaker.",
    }
    records: list[ToolCallRecord] = []
    search = simulated_search_tool(latency_s=0.0, jitter_s=0.0, corpus=corpus, recorder=records)
    app = create_llm_compiler(None, [search, simulated_math_tool(latency_s=0.0)])
    question = {
        "messages": [("user", "Were Scott Derrickson and Ed Wood of the same nationality?")]
    }
    context = {"model": "scripted:demo-instant", "plan_format": "tool_calls"}
    out = app.invoke(question, context=context)
    plan_message = out["messages"][1]
    assert "<END_OF_PLAN>" not in str(plan_message.content)
    assert sorted(r.args["query"] for r in records) == ["Ed Wood", "Scott Derrickson"]
    assert out["messages"][-1].content == "Yes, they are both American."
