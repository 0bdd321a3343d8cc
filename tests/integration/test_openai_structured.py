"""``response_format`` through the real ``ChatOpenAI`` client and the OpenAI-protocol fake.

A model whose profile has structured output (``gpt-4o-mini``) is asked for the provider's
JSON schema output (``response_format`` in the request); one without (an unknown name) is
asked for a forced tool call. Both come back validated in ``structured_response``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAIServer, Reply
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.sim import simulated_search_tool

pytestmark = pytest.mark.integration

PLAN = '1. search(query="Ada Lovelace")\n2. search(query="Charles Babbage")\njoin()<END_OF_PLAN>'
FINISH = "Thought: both found.\nAction: Finish(Ada Lovelace (1815) and Charles Babbage (1791).)"
PEOPLE = {
    "people": [{"name": "Ada Lovelace", "born": 1815}, {"name": "Charles Babbage", "born": 1791}]
}
MODES = ["sync", "async"]


class Person(BaseModel):
    name: str
    born: int


class People(BaseModel):
    """The people the answer names."""

    people: list[Person]


def responder(structured: list[str | Reply]) -> Any:
    def reply(messages: list[dict[str, Any]]) -> str | Reply:
        system = str(messages[0].get("content", ""))
        if "structured data" in system:
            done = sum(m.get("role") == "assistant" for m in messages)
            return structured[min(done, len(structured) - 1)]
        return FINISH if "Finish(" in system else PLAN

    return reply


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    servers: list[FakeOpenAIServer] = []

    def start(structured: list[str | Reply]) -> FakeOpenAIServer:
        server = FakeOpenAIServer(responder(structured)).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def run(app: Any, mode: str) -> dict[str, Any]:
    question = {"messages": [("user", "When were Ada Lovelace and Charles Babbage born?")]}
    if mode == "sync":
        return app.invoke(question)  # type: ignore[no-any-return]
    return asyncio.run(app.ainvoke(question))  # type: ignore[no-any-return]


def model(server: FakeOpenAIServer, name: str) -> ChatOpenAI:
    return ChatOpenAI(model=name, base_url=server.base_url, api_key="not-needed")  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", MODES)
def test_native_json_schema_output_with_one_retry(serve: Any, mode: str) -> None:
    server = serve(['{"people": [{"name": "Ada Lovelace", "born": "soon"}]}', json.dumps(PEOPLE)])
    app = create_llm_compiler(
        model(server, "gpt-4o-mini"), [simulated_search_tool()], response_format=People
    )
    out = run(app, mode)
    assert out["structured_response"] == People.model_validate(PEOPLE)
    first, second = [r for r in server.requests if "structured data" in r.text("system")]
    schema = first.body["response_format"]
    assert schema["type"] == "json_schema" and schema["json_schema"]["name"] == "People"
    assert "tools" not in first.body
    assert "people.0.born: Input should be a valid integer" in second.text("user")


@pytest.mark.parametrize("mode", MODES)
def test_a_forced_tool_call_for_a_model_without_structured_output(serve: Any, mode: str) -> None:
    server = serve([Reply(tool_calls=(("People", json.dumps(PEOPLE)),))])
    app = create_llm_compiler(
        model(server, "fake-model"), [simulated_search_tool()], response_format=People
    )
    out = run(app, mode)
    assert out["structured_response"].people[1].born == 1791
    (request,) = [r for r in server.requests if "structured data" in r.text("system")]
    assert [t["function"]["name"] for t in request.body["tools"]] == ["People"]
    assert request.body["tool_choice"] == "required"  # OpenAI's word for a forced call
    assert out["messages"][-1].content == "Ada Lovelace (1815) and Charles Babbage (1791)."
