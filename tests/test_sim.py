"""Tests for the simulation layer: tokenizer, scripted model, simulated tools."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage

from llmcompiler_graph.sim import (
    PROFILES,
    LatencyProfile,
    ScriptedChatModel,
    ScriptExhaustedError,
    ToolCallRecord,
    cost_of,
    count_tokens,
    get_profile,
    prompt_tokens,
    simulated_latency,
    simulated_math_tool,
    simulated_search_tool,
    tokenize,
)

FAST = LatencyProfile(
    "test",
    ttft_s=0.05,
    output_tokens_per_s=100.0,
    input_cost_per_mtok=1.0,
    output_cost_per_mtok=2.0,
)
TOOL_REPLY = AIMessage(
    content="Searching.",
    tool_calls=[{"name": "search", "args": {"query": "capital of France"}, "id": "call_a"}],
)


def _aggregate(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


# --- tokenizer ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "hello world",
        "  lead\n\ttrail  ",
        '1. search("Obama")\n2. join()',
        "ünïcödé ß 東京 £5_000 $1,234.5",
        '{"a": [1, 2]}',
    ],
)
def test_tokenize_round_trips(text: str) -> None:
    assert "".join(tokenize(text)) == text
    assert count_tokens(text) == len(tokenize(text))


def test_tokenize_pieces() -> None:
    assert tokenize("planning is fun") == ["plan", "ning", " is", " fun"]
    assert tokenize("1234567") == ["123", "456", "7"]
    assert tokenize('f("x") ') == ["f", '("', "x", '")', " "]
    assert count_tokens("") == 0


# --- profiles ------------------------------------------------------------------------------


def test_profiles_and_cost() -> None:
    assert {"instant", "gpt-3.5-like", "gpt-4-like"} <= set(PROFILES)
    assert get_profile("gpt-4-like").output_cost_per_mtok == 30.0
    with pytest.raises(ValueError, match=r"gpt-3\.5-like, gpt-4-like, instant"):
        get_profile("nope")
    assert cost_of(get_profile("gpt-3.5-like"), 1_000_000, 1_000_000) == pytest.approx(2.0)


# --- scripted model --------------------------------------------------------------------------


def test_stream_yields_one_chunk_per_token() -> None:
    text = "The answer is 42, as computed."
    model = ScriptedChatModel(responses=[text])
    chunks = list(model.stream("question"))
    assert [c.content for c in chunks] == tokenize(text)
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert _aggregate(chunks).content == text
    assert model.calls[0][0].content == "question"


def test_ttft_and_rate_are_honoured() -> None:
    text = "one two three four five six seven eight nine ten eleven twelve"
    n = count_tokens(text)
    model = ScriptedChatModel(responses=[text], latency=FAST)
    assert model.latency is FAST
    start = time.perf_counter()
    stamps = [time.perf_counter() - start for _ in model.stream("go")]
    assert 0.045 <= stamps[0] < 0.5
    expected_total = FAST.ttft_s + (n - 1) / FAST.output_tokens_per_s
    assert expected_total - 0.005 <= stamps[-1] < expected_total + 0.5
    (event,) = model.events
    assert event.first_token - event.start >= 0.045
    assert event.end >= event.first_token >= event.start
    assert event.output_tokens == n


def test_profile_alias_and_profile_names() -> None:
    assert ScriptedChatModel(responses=[], profile=FAST).latency is FAST  # type: ignore[arg-type]
    assert ScriptedChatModel(responses=[], latency="gpt-4-like").latency.ttft_s == 0.9  # type: ignore[arg-type]
    assert ScriptedChatModel(responses=[]).profile is None  # LangChain's capability profile
    with pytest.raises(ValueError, match="valid names"):
        ScriptedChatModel(responses=[], latency="nope")  # type: ignore[arg-type]


def test_tool_calls_survive_stream_and_invoke() -> None:
    model = ScriptedChatModel(responses=[TOOL_REPLY, TOOL_REPLY])
    streamed = _aggregate(list(model.stream("q")))
    invoked = model.invoke("q")
    for message in (streamed, invoked):
        assert message.content == "Searching."
        assert message.tool_calls == [
            {
                "name": "search",
                "args": {"query": "capital of France"},
                "id": "call_a",
                "type": "tool_call",
            }
        ]


def test_missing_tool_call_ids_are_filled() -> None:
    reply = AIMessage("", tool_calls=[{"name": "math", "args": {"problem": "1+1"}, "id": None}])
    message = ScriptedChatModel(responses=[reply]).invoke("q")
    assert message.tool_calls[0]["id"] == "call_0_0"


def test_usage_metadata_counts() -> None:
    model = ScriptedChatModel(responses=[TOOL_REPLY], latency=FAST)
    prompt: list[BaseMessage] = [HumanMessage("What is the capital of France?")]
    message = model.invoke(prompt)
    usage = message.usage_metadata
    assert usage is not None
    tool_json = '{"args": {"query": "capital of France"}, "name": "search"}'
    assert usage["input_tokens"] == count_tokens("What is the capital of France?")
    assert usage["output_tokens"] == count_tokens("Searching.") + count_tokens(tool_json)
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert model.cost_usd(usage) == pytest.approx(model.cost_usd())
    assert model.cost_usd() > 0


def test_bound_tools_count_as_input_tokens() -> None:
    search = simulated_search_tool(latency_s=0.0, jitter_s=0.0)
    bare = ScriptedChatModel(responses=["ok"]).invoke("hi").usage_metadata
    bound = ScriptedChatModel(responses=["ok"]).bind_tools([search]).invoke("hi").usage_metadata
    assert bare is not None and bound is not None
    assert bound["input_tokens"] > bare["input_tokens"] + 10
    assert prompt_tokens([HumanMessage("hi"), TOOL_REPLY]) > count_tokens("hi Searching.")


def test_responder_callable_is_thread_safe() -> None:
    def responder(messages: list[BaseMessage]) -> str:
        return f"echo: {messages[-1].content}"

    model = ScriptedChatModel(responses=responder, latency=FAST)
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda i: model.invoke(f"q{i}").content, range(8)))
    assert replies == [f"echo: q{i}" for i in range(8)]
    assert len(model.calls) == len(model.events) == 8
    assert len({e.thread for e in model.events}) > 1


def test_scripted_list_is_consumed_in_order_then_raises() -> None:
    model = ScriptedChatModel(responses=["first", AIMessage("second")])
    assert model.invoke("a").content == "first"
    assert model.invoke("b").content == "second"
    with pytest.raises(ScriptExhaustedError, match="2 response"):
        model.invoke("c")


def test_stream_fires_new_token_callbacks() -> None:
    class Collect(BaseCallbackHandler):
        def __init__(self) -> None:
            self.tokens: list[str] = []

        def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
            self.tokens.append(token)

    handler = Collect()
    list(ScriptedChatModel(responses=["a b c"]).stream("q", config={"callbacks": [handler]}))
    assert handler.tokens == ["a", " b", " c"]


def test_create_agent_runs_scripted_react_loop() -> None:
    from langchain.agents import create_agent

    records: list[ToolCallRecord] = []
    search = simulated_search_tool(
        latency_s=0.01, jitter_s=0.0, corpus={"Capital of France": "Paris."}, recorder=records
    )
    model = ScriptedChatModel(responses=[TOOL_REPLY, "The capital of France is Paris."])
    agent = create_agent(model, [search])
    result = agent.invoke({"messages": [HumanMessage("What is the capital of France?")]})
    messages = result["messages"]
    assert [m.type for m in messages] == ["human", "ai", "tool", "ai"]
    assert messages[2].content == "Paris." and messages[2].tool_call_id == "call_a"
    assert messages[-1].content == "The capital of France is Paris."
    assert [r.args for r in records] == [{"query": "capital of France"}]
    assert len(model.calls) == 2 and model.calls[1][-1].content == "Paris."


def test_langgraph_messages_stream_mode_sees_each_token_once() -> None:
    from langchain.agents import create_agent

    search = simulated_search_tool(latency_s=0.0, jitter_s=0.0)
    model = ScriptedChatModel(responses=[TOOL_REPLY, "Paris it is."])
    agent = create_agent(model, [search])
    chunks = [
        message
        for message, _ in agent.stream({"messages": [HumanMessage("q")]}, stream_mode="messages")
        if isinstance(message, AIMessageChunk)
    ]
    assert [c.content for c in chunks] == tokenize("Searching.") + tokenize("Paris it is.")
    assert [tc["name"] for c in chunks for tc in c.tool_call_chunks] == ["search"]


def test_async_ainvoke_and_astream() -> None:
    async def run() -> tuple[AIMessage, list[AIMessageChunk]]:
        model = ScriptedChatModel(responses=[TOOL_REPLY, "async tokens here"], latency=FAST)
        invoked = await model.ainvoke("q")
        chunks = [c async for c in model.astream("q")]
        return invoked, chunks

    invoked, chunks = asyncio.run(run())
    assert invoked.tool_calls[0]["args"] == {"query": "capital of France"}
    assert [c.content for c in chunks] == tokenize("async tokens here")
    assert chunks[-1].usage_metadata is not None


def test_async_calls_overlap() -> None:
    slow_start = dataclasses.replace(FAST, ttft_s=0.5)
    model = ScriptedChatModel(responses=lambda _: "x y", latency=slow_start)

    async def run() -> None:
        await asyncio.gather(*(model.ainvoke(str(i)) for i in range(5)))

    asyncio.run(run())
    # Every call started before any ended: they waited out their latency together.
    assert len(model.events) == 5
    assert max(r.start for r in model.events) < min(r.end for r in model.events)


# --- simulated tools ---------------------------------------------------------------------------


def test_search_tool_latency_and_determinism() -> None:
    records: list[ToolCallRecord] = []
    search = simulated_search_tool(latency_s=0.1, jitter_s=0.05, seed=3, recorder=records)
    assert search.name == "search" and "Search the web" in search.description
    start = time.perf_counter()
    first = search.invoke({"query": "Tokyo population"})
    elapsed = time.perf_counter() - start
    expected = simulated_latency("Tokyo population", latency_s=0.1, jitter_s=0.05, seed=3)
    assert 0.05 <= expected <= 0.15
    assert expected - 0.005 <= elapsed < expected + 0.3
    assert search.invoke("Tokyo population") == first
    assert "Tokyo population" in first
    assert records[0].end - records[0].start >= expected - 0.005
    assert records[0].thread == threading.current_thread().name


def test_search_jitter_is_seeded_per_query() -> None:
    lat = [simulated_latency(q, latency_s=1.0, jitter_s=0.2, seed=0) for q in ("a", "b", "a")]
    assert lat[0] == lat[2] != lat[1]
    assert all(0.8 <= x <= 1.2 for x in lat)
    assert simulated_latency("a", latency_s=1.0, jitter_s=0.2, seed=1) != lat[0]
    assert simulated_latency("a", latency_s=0.0, jitter_s=5.0, seed=0) >= 0.0


def test_search_corpus_is_case_insensitive() -> None:
    search = simulated_search_tool(
        latency_s=0.0, jitter_s=0.0, corpus={"Capital of France": "Paris."}
    )
    assert search.invoke({"query": "  capital of FRANCE "}) == "Paris."


def test_parallel_tool_calls_overlap() -> None:
    search = simulated_search_tool(latency_s=0.1, jitter_s=0.0)
    start = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda q: search.invoke({"query": q}), ["a", "b", "c", "d"]))
    assert time.perf_counter() - start < 0.3


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        ("(3 + 4) * 2", "14"),
        ("7 / 2", "3.5"),
        ("2 ** 10 - 24", "1000"),
        ("-(5 % 3)", "-2"),
        ("1 / 0", "Error: division by zero"),
    ],
)
def test_math_tool_arithmetic(problem: str, expected: str) -> None:
    assert simulated_math_tool(latency_s=0.0).invoke({"problem": problem}) == expected


@pytest.mark.parametrize("problem", ["__import__('os')", "9 ** 9 ** 9", "x + 1", "age of Obama"])
def test_math_tool_never_evaluates_code(problem: str) -> None:
    math = simulated_math_tool(latency_s=0.0)
    out = math.invoke({"problem": problem, "context": ["Obama is 62"]})
    assert out.startswith("Simulated answer") and out == math.invoke(
        {"problem": problem, "context": ["Obama is 62"]}
    )


def test_math_tool_async_and_latency() -> None:
    records: list[ToolCallRecord] = []
    math = simulated_math_tool(latency_s=0.05, recorder=records)
    start = time.perf_counter()
    assert asyncio.run(math.ainvoke({"problem": "6 * 7"})) == "42"
    assert 0.045 <= time.perf_counter() - start < 0.5
    assert records[0].tool == "math" and records[0].output == "42"


def test_a_stream_closed_early_is_still_recorded_and_billed_for_what_it_sent() -> None:
    model = ScriptedChatModel(responses=["one two three four five six seven eight"])
    stream = model.stream("hi")
    first = next(stream)
    stream.close()
    assert len(model.events) == 1
    record = model.events[0]
    assert record.output_tokens == count_tokens(str(first.content))
    assert record.output_tokens < count_tokens("one two three four five six seven eight")


def test_a_stream_finalized_by_the_gc_inside_the_models_lock_does_not_deadlock() -> None:
    # A generator in a reference cycle is finalized by the garbage collector on whatever
    # thread allocates next; its `finally` records the call under the model's lock.
    import gc
    import threading

    model = ScriptedChatModel(responses=["one two three"])
    stream = model._stream([])
    next(stream)
    cycle: list[object] = [stream]
    cycle.append(cycle)
    del stream, cycle

    def collect_inside_the_lock() -> None:
        with model._lock:
            gc.collect()

    worker = threading.Thread(target=collect_inside_the_lock, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "the model's lock deadlocked during garbage collection"
    assert len(model.events) == 1
