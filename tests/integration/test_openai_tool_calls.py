"""``plan_format="tool_calls"`` through the real ``ChatOpenAI`` against the OpenAI-protocol fake.

The fake streams ``delta.tool_calls`` the way OpenAI and vLLM do (id and name in a call's first
chunk, its arguments in fragments), so this checks the whole path: the client's chunk parsing,
``tool_call_chunks``, the streaming reader, the task fetching unit and the joiner.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAIServer, Reply, split_tokens

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.sim import ToolCallRecord, simulated_math_tool, simulated_search_tool

pytestmark = pytest.mark.integration

QUESTION = "Were Scott Derrickson and Ed Wood of the same nationality?"
CORPUS = {
    "Scott Derrickson": "Scott Derrickson (born 1966) is an American filmmaker.",
    "Ed Wood": "Ed Wood (1924-1978) was an American filmmaker.",
}
PAUSE_S = 0.6


def calls(*items: tuple[str, dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    return tuple((name, json.dumps(args)) for name, args in items)


LOOKUPS = Reply(
    "Two independent lookups, then a sum.",
    calls(
        ("search", {"query": "Scott Derrickson"}),
        ("search", {"query": "Ed Wood"}),
        ("math", {"problem": "1966 - 1924", "context": ["$1", "${2}"]}),
    ),
)
DIAMOND = Reply(
    "",
    calls(
        ("math", {"problem": "2 + 3"}),
        ("math", {"problem": "$1 * 10"}),
        ("math", {"problem": "${1} + 1"}),
        ("math", {"problem": "$2 + $3"}),
    ),
)
CHAIN = Reply(
    "",
    calls(
        ("math", {"problem": "1 + 1"}),
        ("math", {"problem": "$1 * 3"}),
        ("math", {"problem": "$2 * 3"}),
        ("math", {"problem": "$3 - 1"}),
    ),
)
BROKEN = Reply(
    "",
    (
        ("search", '{"query": "Scott Derrickson"}'),
        ("search", '{"query": "Ed Wood"'),  # the closing brace never comes
        ("math", '{"problem": "6 * 7"}'),
    ),
)


class Planner:
    """Answer the planner with ``plan`` and the joiner with every observation it was shown."""

    def __init__(self, plan: Reply) -> None:
        self.plan = plan

    def __call__(self, messages: list[dict[str, Any]]) -> str | Reply:
        if "Finish(" in str(messages[0].get("content", "")):
            prompt = str(messages[-1].get("content", ""))
            seen = [line for line in prompt.splitlines() if line.startswith("Observation:")]
            return f"Thought: I read the results.\nAction: Finish({' | '.join(seen)})"
        return self.plan


def pause_after_the_second_call_begins(reply: object, number: int) -> float:
    # The chunk right after call 2's first chunk arrives late: call 1 is complete once call 2
    # begins, so it can only start before the stream ends if calls are dispatched as they come.
    if not isinstance(reply, Reply) or len(reply.tool_calls) < 2:
        return 0.0
    first_call = len(split_tokens(reply.content)) + 1 + len(split_tokens(reply.tool_calls[0][1]))
    return PAUSE_S if number == first_call + 1 else 0.0


def serve(monkeypatch: pytest.MonkeyPatch, plan: Reply) -> FakeOpenAIServer:
    server = FakeOpenAIServer(Planner(plan), chunk_delay=pause_after_the_second_call_begins)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("LANGSMITH_TRACING", "false")
    return server


@pytest.fixture
def records() -> list[ToolCallRecord]:
    return []


def build(records: list[ToolCallRecord]) -> Any:
    search = simulated_search_tool(latency_s=0.05, jitter_s=0.0, corpus=CORPUS, recorder=records)
    math = simulated_math_tool(latency_s=0.05, recorder=records)
    return create_llm_compiler("openai:fake-model", [search, math], plan_format="tool_calls")


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    with serve(monkeypatch, LOOKUPS) as server:
        yield server


def check_lookups(fake: FakeOpenAIServer, records: list[ToolCallRecord], answer: str) -> None:
    planner, joiner = fake.requests
    assert planner.body["stream"] is True
    assert sorted(t["function"]["name"] for t in planner.body["tools"]) == ["math", "search"]
    assert "numbered in order, from 1" in planner.text("system")
    searches = sorted((r for r in records if r.tool == "search"), key=lambda r: r.start)
    assert searches[0].args["query"] == "Scott Derrickson"
    assert searches[0].start < planner.chunk_times[-1], "call 1 waited for the end of the stream"
    (math,) = [r for r in records if r.tool == "math"]
    assert math.args["context"] == list(CORPUS.values())  # $1 and ${2}, substituted
    assert "Observation: 42" in joiner.text("user")
    assert answer.endswith("Observation: 42")


def test_chat_openai_streams_tool_calls_and_the_graph_runs_them(
    lookups: FakeOpenAIServer, records: list[ToolCallRecord]
) -> None:
    out = build(records).invoke({"messages": [("user", QUESTION)]})
    check_lookups(lookups, records, str(out["messages"][-1].content))
    plan = out["messages"][1]
    assert plan.content == LOOKUPS.content
    assert [c["name"] for c in plan.tool_calls] == ["search", "search", "math"]


def test_chat_openai_tool_calls_async(
    lookups: FakeOpenAIServer, records: list[ToolCallRecord]
) -> None:
    out = asyncio.run(build(records).ainvoke({"messages": [("user", QUESTION)]}))
    check_lookups(lookups, records, str(out["messages"][-1].content))


@pytest.mark.parametrize(
    ("plan", "expected"),
    [(DIAMOND, ["5", "50", "6", "56"]), (CHAIN, ["2", "6", "18", "17"])],
    ids=["diamond", "chain"],
)
def test_a_diamond_and_a_chain_resolve(
    monkeypatch: pytest.MonkeyPatch, records: list[ToolCallRecord], plan: Reply, expected: list[str]
) -> None:
    with serve(monkeypatch, plan):
        out = build(records).invoke({"messages": [("user", "compute")]})
    results = [m.content for m in out["messages"] if m.type == "tool"]
    assert results == expected
    assert out["messages"][-1].content == " | ".join(f"Observation: {r}" for r in expected)


def test_a_call_with_broken_json_fails_alone_and_the_joiner_sees_why(
    monkeypatch: pytest.MonkeyPatch, records: list[ToolCallRecord]
) -> None:
    with serve(monkeypatch, BROKEN) as fake:
        out = build(records).invoke({"messages": [("user", QUESTION)]})
    assert sorted(str(r.args.get("query", r.args.get("problem"))) for r in records) == [
        "6 * 7",
        "Scott Derrickson",
    ]
    joiner_prompt = fake.requests[-1].text("user")
    assert "ERROR: task 2 'search': the arguments are not valid JSON" in joiner_prompt
    assert "task 2 'search': the arguments are not valid JSON" in str(out["messages"][-1].content)
