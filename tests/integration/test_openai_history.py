"""A thread's history stays valid for OpenAI: every tool call has its result.

The OpenAI-protocol fake refuses a history with a tool call that has no result the way OpenAI
does (HTTP 400, OpenAI's message), so sending a thread's messages to it through the real
``ChatOpenAI`` checks them as OpenAI would.
"""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from fakes.apps import scripted_app
from fakes.openai_server import DANGLING_TOOL_CALLS, FakeOpenAIServer
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_openai import ChatOpenAI
from langgraph.checkpoint.memory import InMemorySaver

from llmcompiler_graph.state import kind_of

pytestmark = pytest.mark.integration

PLAN = '1. search(query="Paris")\n2. math(problem="2 + 3")\n3. math(problem="$2 * 10")\n4. join()'
SECOND = '1. search(query="Berlin")\n2. join()'


@pytest.fixture(scope="module")
def openai_fake() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(lambda messages: "ok") as server:
        yield server


def chat(server: FakeOpenAIServer) -> ChatOpenAI:
    return ChatOpenAI(model="gpt-4o-mini", base_url=server.base_url, api_key="k", max_retries=0)


def test_the_fake_refuses_a_dangling_tool_call_as_openai_does(
    openai_fake: FakeOpenAIServer,
) -> None:
    call = {"name": "math", "args": {"problem": "1"}, "id": "call_a", "type": "tool_call"}
    history = [HumanMessage("q"), AIMessage("", tool_calls=[call]), HumanMessage("next")]
    with pytest.raises(openai.BadRequestError) as caught:
        chat(openai_fake).invoke(history)
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["message"] == f"{DANGLING_TOOL_CALLS} call_a"
    assert error["type"] == "invalid_request_error" and error["param"] == "messages.[1].role"
    answered = [*history[:2], ToolMessage("1", tool_call_id="call_a"), history[2]]
    assert chat(openai_fake).invoke(answered).content == "ok"


def test_a_thread_whose_held_tasks_were_superseded_is_accepted(
    openai_fake: FakeOpenAIServer,
) -> None:
    built = scripted_app(
        [PLAN, SECOND], checkpointer=InMemorySaver(), interrupt_before_tools=["math"]
    )
    config = {"configurable": {"thread_id": "t"}}
    paused = built.app.invoke({"messages": [("user", "q")]}, config)["messages"]
    # As the thread stood before: the plan's held calls have no result.
    with pytest.raises(openai.BadRequestError, match="did not have response messages"):
        chat(openai_fake).invoke([*paused, HumanMessage("approve")])

    history = built.app.invoke({"messages": [("user", "approve")]}, config)["messages"]
    assert [kind_of(m) for m in history if isinstance(m, AIMessage)] == ["plan", "plan", "answer"]
    assert chat(openai_fake).invoke([*history, HumanMessage("thanks")]).content == "ok"
