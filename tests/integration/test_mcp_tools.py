"""Tools from a real MCP server (FastMCP), loaded with ``langchain-mcp-adapters``, in plans.

The server (``tests/fakes/mcp_server.py``) runs on a free loopback port over streamable
HTTP, or as a subprocess per session over stdio. Its tools are async-only ``StructuredTool``s
whose results are content blocks with MCP's structured content as the artifact; an exact
``"$N"`` hands each parameter the face it takes (text for ``str``, the value otherwise),
``$N`` inside text is the text, and the joiner reads the text.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from devserver import free_port, offline_env
from fakes.apps import is_joiner, planner_then_joiner
from langchain_core.messages import AIMessage, BaseMessage, ToolCall, ToolMessage
from langchain_core.tools import BaseTool, tool
from langchain_mcp_adapters.client import MultiServerMCPClient
from langchain_mcp_adapters.tools import load_mcp_tools

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.sim import ScriptedChatModel
from llmcompiler_graph.state import result_record

pytestmark = pytest.mark.integration

SERVER = Path(__file__).resolve().parents[1] / "fakes" / "mcp_server.py"
STARTUP_TIMEOUT_S = 60.0
QUESTION = {"messages": [("user", "How many words, and where?")]}
MODES = ["sync", "async"]

# Each line feeds the next through $N; the comment says what the parameter receives.
CHAIN = """1. shout(text="three little words")
2. word_count(text="$1")
3. numbers(n="$2")
4. total(values="$3")
5. place(city="$1")
6. describe(where="$5")
7. word_count(text="counted $2 words in $1")
join()"""
# 2: the text 'THREE LITTLE WORDS'; 3: the number 3; 4: the list [0, 1, 2];
# 6: the object {'city': ..., 'population': ...}; 7: the texts inside a longer string.
EXPECTED = {
    1: "THREE LITTLE WORDS",
    2: "3",
    3: "0\n1\n2",
    4: "3",
    6: "THREE LITTLE WORDS has 18000 people",
    7: "7",
}


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    """Serve the test MCP server over streamable HTTP on a free loopback port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(SERVER), "streamable-http", str(port)],
        env=offline_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    ready = threading.Event()
    lines: list[str] = []

    def read() -> None:  # drains the output; uvicorn logs this line once its socket listens
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "Uvicorn running on" in line:
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not ready.wait(STARTUP_TIMEOUT_S) or process.poll() is not None:
            pytest.fail("the MCP server did not start:\n" + "".join(lines)[-3000:])
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        reader.join(timeout=10)


def load(connection: dict[str, Any]) -> list[BaseTool]:
    return asyncio.run(MultiServerMCPClient({"test": connection}).get_tools())  # type: ignore[dict-item]


@pytest.fixture(scope="module")
def http_tools(http_url: str) -> list[BaseTool]:
    return load({"url": http_url, "transport": "streamable_http"})


@pytest.fixture(scope="module")
def stdio_tools() -> list[BaseTool]:
    command = {"command": sys.executable, "args": [str(SERVER), "stdio"], "env": offline_env()}
    return load({**command, "transport": "stdio"})


def run(app: Any, mode: str) -> dict[str, Any]:
    if mode == "sync":
        return app.invoke(QUESTION)  # type: ignore[no-any-return]
    return asyncio.run(app.ainvoke(QUESTION))  # type: ignore[no-any-return]


def texts(out: dict[str, Any]) -> dict[int, str]:
    """Each task's result as the joiner reads it (content blocks joined)."""
    found = {}
    for message in out["messages"]:
        if isinstance(message, ToolMessage):
            blocks = message.content
            text = blocks if isinstance(blocks, str) else "\n".join(b["text"] for b in blocks)  # type: ignore[index]
            found[result_record(message)["index"]] = text
    return found


def joiner_prompt(model: ScriptedChatModel) -> str:
    return next(m[-1].text for m in model.calls if is_joiner(m))


def test_the_server_returns_what_the_adapters_document(http_tools: list[BaseTool]) -> None:
    # The shapes this module relies on (if they change, the fitting rules need a look).
    count = next(t for t in http_tools if t.name == "word_count")
    assert count.response_format == "content_and_artifact"
    assert getattr(count, "func", None) is None and getattr(count, "coroutine", None)
    call = ToolCall(name="word_count", args={"text": "a b"}, id="1", type="tool_call")
    message = asyncio.run(count.ainvoke(call))
    assert message.artifact == {"structured_content": {"result": 2}}
    assert [b["text"] for b in message.content] == ["2"]


@pytest.mark.parametrize("mode", MODES)
def test_mcp_tools_feed_each_other_in_a_text_plan(http_tools: list[BaseTool], mode: str) -> None:
    model = ScriptedChatModel(responses=planner_then_joiner(CHAIN))
    out = run(create_llm_compiler(model, http_tools), mode)
    results = texts(out)
    assert {i: results[i] for i in EXPECTED} == EXPECTED
    assert all(m.status == "success" for m in out["messages"] if isinstance(m, ToolMessage))
    prompt = joiner_prompt(model)
    assert "Observation: THREE LITTLE WORDS has 18000 people" in prompt
    assert "structured_content" not in prompt  # the joiner reads the text, not the artifact
    assert "Observation: 0\n  | 1\n  | 2" in prompt  # one block per list item, one per line


@pytest.mark.parametrize("mode", MODES)
def test_mcp_tools_in_a_native_tool_call_plan(http_tools: list[BaseTool], mode: str) -> None:
    calls = [
        ToolCall(name="shout", args={"text": "three little words"}, id="c1"),
        ToolCall(name="word_count", args={"text": "$1"}, id="c2"),
        ToolCall(name="numbers", args={"n": "$2"}, id="c3"),
        ToolCall(name="total", args={"values": "$3"}, id="c4"),
        ToolCall(name="place", args={"city": "$1"}, id="c5"),
        ToolCall(name="describe", args={"where": "$5"}, id="c6"),
        ToolCall(name="word_count", args={"text": "counted $2 words in $1"}, id="c7"),
    ]
    plan = AIMessage(content="In parallel where I can.", tool_calls=calls)

    def reply(messages: list[BaseMessage]) -> str | AIMessage:
        if is_joiner(messages):
            return "Thought: done.\nAction: Finish(3 words)"
        return plan

    model = ScriptedChatModel(responses=reply, stream_tool_calls=True)
    app = create_llm_compiler(model, http_tools, plan_format="tool_calls")
    out = run(app, mode)
    results = texts(out)
    assert {i: results[i] for i in EXPECTED} == EXPECTED
    assert out["messages"][-1].content == "3 words"


@pytest.mark.parametrize("mode", MODES)
def test_an_mcp_error_is_an_observation_and_skips_dependents(
    http_tools: list[BaseTool], mode: str
) -> None:
    plan = '1. explode(reason="on purpose")\n2. shout(text="$1")\n3. shout(text="fine")\njoin()'
    model = ScriptedChatModel(responses=planner_then_joiner(plan))
    out = run(create_llm_compiler(model, http_tools), mode)
    by_index = {result_record(m)["index"]: m for m in out["messages"] if isinstance(m, ToolMessage)}
    assert by_index[1].status == "error" and "exploded: on purpose" in str(by_index[1].content)
    assert result_record(by_index[2])["status"] == "skipped"
    assert texts(out)[3] == "FINE"
    assert "Observation: ERROR: " in joiner_prompt(model)


def recording_keys(received: list[object]) -> BaseTool:
    @tool
    def keys(data: dict[str, Any]) -> str:
        """List an object's keys."""
        received.append(data)
        return ", ".join(data)

    return keys


@pytest.mark.parametrize("mode", MODES)
def test_a_result_without_structured_content_passes_its_json(
    http_tools: list[BaseTool], mode: str
) -> None:
    received: list[object] = []
    keys = recording_keys(received)
    plan = '1. tags(text="a b")\n2. keys(data="$1")\n3. shout(text="$1")\njoin()'
    model = ScriptedChatModel(responses=planner_then_joiner(plan))
    out = run(create_llm_compiler(model, [*http_tools, keys]), mode)
    assert received == [{"words": ["a", "b"]}]  # the object its text holds
    assert texts(out)[3] == json.dumps({"words": ["a", "b"]}, indent=2).upper()  # the text


@pytest.mark.parametrize("mode", MODES)
def test_mcp_results_reach_a_later_round_the_same_way(
    http_tools: list[BaseTool], mode: str
) -> None:
    received: list[object] = []
    plans = [
        '1. numbers(n=3)\n2. tags(text="a b")\njoin()',
        '3. total(values="$1")\n4. shout(text="$1")\n5. keys(data="$2")\njoin()',
    ]
    joins = ["Thought: now sum them.\nAction: Replan(sum the numbers)", "Action: Finish(3)"]
    model = ScriptedChatModel(responses=planner_then_joiner(plans, joins))
    out = run(create_llm_compiler(model, [*http_tools, recording_keys(received)]), mode)
    results = texts(out)
    assert results[3] == "3"  # the list, from the structured content kept on the message
    assert results[4] == "0\n1\n2"  # the text
    assert received == [{"words": ["a", "b"]}]  # the JSON text of a result without structure


def test_tools_of_one_open_session_under_ainvoke(http_url: str) -> None:
    client = MultiServerMCPClient({"test": {"url": http_url, "transport": "streamable_http"}})

    async def main() -> dict[str, Any]:
        async with client.session("test") as session:
            tools = await load_mcp_tools(session)
            model = ScriptedChatModel(responses=planner_then_joiner(CHAIN))
            return await create_llm_compiler(model, tools).ainvoke(QUESTION)  # type: ignore[no-any-return]

    results = texts(asyncio.run(main()))
    assert {i: results[i] for i in EXPECTED} == EXPECTED


@pytest.mark.parametrize("mode", MODES)
def test_mcp_tools_over_stdio(stdio_tools: list[BaseTool], mode: str) -> None:
    plan = '1. shout(text="a b c")\n2. word_count(text="$1")\n3. numbers(n="$2")\njoin()'
    model = ScriptedChatModel(responses=planner_then_joiner(plan))
    out = run(create_llm_compiler(model, stdio_tools), mode)
    assert texts(out) == {1: "A B C", 2: "3", 3: "0\n1\n2"}
