"""The real ``ChatOpenAI`` client over HTTP against an OpenAI-protocol fake on loopback.

The model is chosen the way users choose it, by name and environment:
``openai:<model>`` with ``OPENAI_BASE_URL`` pointing at the server and no key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAIServer, split_tokens
from langchain_core.callbacks import get_usage_metadata_callback

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.sim import ToolCallRecord, simulated_search_tool

pytestmark = pytest.mark.integration

QUESTION = "Were Scott Derrickson and Ed Wood of the same nationality?"
PLAN = (
    "Thought: Two independent lookups.\n"
    '1. search(query="Scott Derrickson")\n'
    '2. search(query="Ed Wood")\n'
    "3. join()<END_OF_PLAN>"
)
CORPUS = {
    "Scott Derrickson": "Scott Derrickson (born 1966) is an American filmmaker.",
    "Ed Wood": "Ed Wood (1924-1978) was an American filmmaker.",
}
PAUSE_S = 0.6


def responder(messages: list[dict[str, Any]]) -> str:
    system = str(messages[0].get("content", ""))
    if "Finish(" in system:
        return "Thought: Both are American.\nAction: Finish(Yes, both are American.)"
    return PLAN


def pause_after_first_task(reply: str, number: int) -> float:
    # The chunk after the one that completes line 1 arrives late, so the first task can
    # only start before the stream ends if the plan is streamed and executed as it comes.
    pieces = split_tokens(reply)
    seen = "".join(pieces[:number])
    return PAUSE_S if reply == PLAN and seen.endswith(")\n") and seen.count(")\n") == 1 else 0.0


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(responder, chunk_delay=pause_after_first_task) as server:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("LANGSMITH_TRACING", "false")
        yield server


def check(fake: FakeOpenAIServer, calls: list[ToolCallRecord], answer: str) -> None:
    assert answer == "Yes, both are American."
    planner, joiner = fake.requests
    assert planner.body["model"] == "fake-model"
    assert planner.body["stream"] is True
    assert planner.body["stream_options"] == {"include_usage": True}
    assert planner.headers["authorization"] == "Bearer not-needed"
    system = planner.text("system")
    assert "search(query: str)" in system and "join()" in system and "<END_OF_PLAN>" in system
    assert planner.text("user") == QUESTION
    prompt = joiner.text("user")
    assert QUESTION in prompt
    for text in CORPUS.values():
        assert f"Observation: {text}" in prompt
    assert sorted(c.args["query"] for c in calls) == sorted(CORPUS)
    first = min(calls, key=lambda c: c.start)
    assert first.args["query"] == "Scott Derrickson"
    assert first.start < planner.chunk_times[-1], "task 1 waited for the end of the plan"


def test_chat_openai_streams_a_plan_and_the_graph_runs_it(fake: FakeOpenAIServer) -> None:
    calls: list[ToolCallRecord] = []
    search = simulated_search_tool(latency_s=0.1, jitter_s=0.0, corpus=CORPUS, recorder=calls)
    app = create_llm_compiler("openai:fake-model", [search])
    with get_usage_metadata_callback() as usage:
        out = app.invoke({"messages": [("user", QUESTION)]})
    check(fake, calls, str(out["messages"][-1].content))
    reported = sum(
        len(" ".join(str(m.get("content", "")) for m in r.messages).split()) for r in fake.requests
    )
    assert usage.usage_metadata["fake-model"]["input_tokens"] == reported
    assert usage.usage_metadata["fake-model"]["output_tokens"] == len(split_tokens(PLAN)) + len(
        split_tokens(responder([{"content": "Finish("}]))
    )


def test_chat_openai_async(fake: FakeOpenAIServer) -> None:
    calls: list[ToolCallRecord] = []
    search = simulated_search_tool(latency_s=0.1, jitter_s=0.0, corpus=CORPUS, recorder=calls)
    app = create_llm_compiler(None, [search])  # model from the run's context
    out = asyncio.run(
        app.ainvoke({"messages": [("user", QUESTION)]}, context={"model": "openai:fake-model"})
    )
    check(fake, calls, str(out["messages"][-1].content))
