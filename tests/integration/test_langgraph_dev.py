"""``langgraph dev`` serving the package's graph, driven through the LangGraph SDK.

The server runs offline: ``LLMCOMPILER_MODEL=scripted:demo-instant`` (a built-in scripted
model) and ``LLMCOMPILER_TOOLS=simulated`` (sleeping look-alike tools), no API key.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from devserver import DevServer
from fakes.openai_server import FakeOpenAIServer
from langchain_core.messages import convert_to_messages
from langchain_openai import ChatOpenAI
from langgraph_sdk import get_client, get_sync_client

pytestmark = pytest.mark.integration

GRAPH = "llmcompiler"
NATIONALITY = "Were Scott Derrickson and Ed Wood of the same nationality?"


def ask(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def last_text(state: dict[str, Any]) -> str:
    return str(state["messages"][-1]["content"])


def task_events(parts: list[Any]) -> list[dict[str, Any]]:
    return [
        p.data
        for p in parts
        if p.event == "custom"
        and isinstance(p.data, dict)
        and p.data.get("type") == "llmcompiler.task"
    ]


def windows(events: list[dict[str, Any]]) -> dict[int, tuple[float, float]]:
    """Return (started, finished) times per task index."""
    start = {e["index"]: e["time"] for e in events if e["event"] == "started"}
    end = {e["index"]: e["time"] for e in events if e["event"] == "finished"}
    return {i: (start[i], end[i]) for i in start if i in end}


def test_lists_the_graph_with_its_context_schema(langgraph_dev: DevServer) -> None:
    client = get_sync_client(url=langgraph_dev.url)
    assistants = client.assistants.search(graph_id=GRAPH)
    assert [a["graph_id"] for a in assistants] == [GRAPH]
    schemas = client.assistants.get_schemas(assistants[0]["assistant_id"])
    context = schemas["context_schema"]["properties"]
    for setting in ("model", "max_replans", "max_concurrency", "task_timeout", "planner_prompt"):
        assert setting in context


def test_studio_gets_every_schema_and_the_graph(langgraph_dev: DevServer) -> None:
    # What Studio reads: the input form (input_schema), the state view (state_schema and
    # output_schema), the assistant's settings (context_schema), and the drawing (xray).
    # langgraph dev answers null for a schema it cannot build and says why only in its log
    # (a typing.TypedDict on Python < 3.12, say).
    client = get_sync_client(url=langgraph_dev.url)
    assistants = client.assistants.search()
    assert assistants
    for assistant in assistants:
        schemas = client.assistants.get_schemas(assistant["assistant_id"])
        for name in ("input_schema", "output_schema", "state_schema"):
            assert schemas[name] is not None, (assistant["graph_id"], name)
            assert schemas[name]["properties"]["messages"]["type"] == "array"
        assert "interrupt_before_tools" in schemas["context_schema"]["properties"]
        graph = client.assistants.get_graph(assistant["assistant_id"], xray=True)
        assert {"plan_and_schedule", "approve", "join"} <= {node["id"] for node in graph["nodes"]}
        edges = {(edge["source"], edge["target"]) for edge in graph["edges"]}
        assert {("plan_and_schedule", "approve"), ("approve", "join")} <= edges
    log = langgraph_dev.log
    assert "Failed to get" not in log, log[log.find("Failed to get") :][:500]


def test_wait_returns_the_answer(langgraph_dev: DevServer) -> None:
    client = get_sync_client(url=langgraph_dev.url)
    thread = client.threads.create()
    state = client.runs.wait(thread["thread_id"], GRAPH, input=ask(NATIONALITY))
    assert isinstance(state, dict)
    assert last_text(state) == "Yes, they are both American."
    tools = [m for m in state["messages"] if m["type"] == "tool"]
    assert sorted(m["content"].split(" (")[0] for m in tools) == [
        "Edward Davis Wood Jr.",
        "Scott Derrickson",
    ]


def test_stream_modes_yield_tasks_tokens_and_updates(langgraph_dev: DevServer) -> None:
    client = get_sync_client(url=langgraph_dev.url)
    thread = client.threads.create()
    parts = list(
        client.runs.stream(
            thread["thread_id"],
            GRAPH,
            input=ask(NATIONALITY),
            stream_mode=["updates", "messages-tuple", "custom"],
        )
    )
    events = task_events(parts)
    assert {(e["index"], e["event"]) for e in events} == {
        (i, kind) for i in (1, 2) for kind in ("planned", "started", "finished")
    }
    finished = {e["index"]: e for e in events if e["event"] == "finished"}
    assert all(e["ok"] and e["duration"] > 0 for e in finished.values())
    assert {e["args"]["query"] for e in finished.values()} == {"Scott Derrickson", "Ed Wood"}
    for index, (started, ended) in windows(events).items():
        assert started <= ended, index

    nodes = [node for p in parts if p.event == "updates" for node in p.data]
    assert nodes == ["plan_and_schedule", "join"]

    # messages-tuple: (message chunk, metadata); the joiner's reply arrives token by token.
    joiner_tokens = [
        p.data[0]["content"]
        for p in parts
        if p.event == "messages"
        and p.data[1].get("langgraph_node") == "join"
        and p.data[0]["type"] == "AIMessageChunk"
    ]
    assert len(joiner_tokens) > 5
    assert "Action: Finish(Yes, they are both American.)" in "".join(joiner_tokens)


def test_assistant_context_changes_behaviour(langgraph_dev: DevServer) -> None:
    client = get_sync_client(url=langgraph_dev.url)

    def run(context: dict[str, Any] | None, question: str) -> tuple[str, list[dict[str, Any]]]:
        assistant = GRAPH
        if context is not None:
            assistant = client.assistants.create(GRAPH, context=context)["assistant_id"]
        thread = client.threads.create()
        parts = list(
            client.runs.stream(
                thread["thread_id"],
                assistant,
                input=ask(question),
                stream_mode=["values", "custom"],
            )
        )
        values = [p.data for p in parts if p.event == "values"]
        return last_text(values[-1]), task_events(parts)

    # Another model, chosen by the assistant's context.
    answer, _ = run({"model": "scripted:echo"}, "Paris")
    assert answer.startswith("Echo: Paris is the capital of France")

    # max_concurrency: the default overlaps the two searches, a cap of 1 serializes them.
    _, parallel = run(None, NATIONALITY)
    (s1, e1), (s2, e2) = windows(parallel).values()
    assert s2 < e1 and s1 < e2
    _, serial = run({"max_concurrency": 1}, NATIONALITY)
    (s1, e1), (s2, e2) = sorted(windows(serial).values())
    assert s2 >= e1

    # A real model with no key: the served graph answers with what to set, it does not fail.
    answer, events = run({"model": "openai:gpt-4o-mini"}, NATIONALITY)
    assert "OPENAI_API_KEY" in answer and "OPENAI_BASE_URL" in answer
    assert events == []


def paused(client: Any, thread: str) -> dict[str, Any]:
    """Return the thread's pending approval request (a LangChain HITLRequest)."""
    state = client.threads.get_state(thread)
    assert state["next"] == ["approve"]
    (request,) = [i["value"] for task in state["tasks"] for i in task["interrupts"]]
    return dict(request)


def ui_answer(client: Any, thread: str, assistant: str, *decisions: dict[str, Any]) -> Any:
    """Resume as Agent Chat UI's buttons do: ``submit({}, {command: {resume: {decisions}}})``."""
    command = {"resume": {"decisions": list(decisions)}}
    return client.runs.wait(thread, assistant, input={}, command=command)


QUESTION_6_7 = "What is 6 * 7, and where is Paris?"


@pytest.mark.parametrize(
    ("decisions", "math_result", "answer"),
    [
        ([{"type": "approve"}], "42", "42 Paris is the capital of France"),
        (
            [{"type": "edit", "edited_action": {"name": "math", "args": {"problem": "6 * 8"}}}],
            "48",
            "48 Paris is the capital of France",
        ),
        (
            [{"type": "reject", "message": "No math today."}],
            "task 1 'math' was not run: the reviewer rejected it: No math today.",
            "Paris is the capital of France",
        ),
    ],
    ids=["approve", "edit", "reject"],
)
def test_approval_answered_with_agent_chat_ui_payloads(
    langgraph_dev: DevServer, decisions: list[dict[str, Any]], math_result: str, answer: str
) -> None:
    client = get_sync_client(url=langgraph_dev.url)
    assistant = client.assistants.create(GRAPH, context={"interrupt_before_tools": ["math"]})
    thread = client.threads.create()["thread_id"]
    client.runs.wait(thread, assistant["assistant_id"], input=ask(QUESTION_6_7))

    request = paused(client, thread)
    assert request["action_requests"] == [
        {
            "name": "math",
            "args": {"problem": "6 * 7"},
            "description": 'Task 1 of the plan: `math(problem="6 * 7")`\n\n'
            "The planner's thought: These lookups are independent, so they run in parallel.",
        }
    ]
    assert request["review_configs"] == [
        {"action_name": "math", "allowed_decisions": ["approve", "edit", "reject"]}
    ]
    # The independent search already ran while the math call waited.
    state = client.threads.get_state(thread)
    assert [m["name"] for m in state["values"]["messages"] if m["type"] == "tool"] == ["search"]

    final = ui_answer(client, thread, assistant["assistant_id"], *decisions)
    assert isinstance(final, dict)
    assert last_text(final).startswith(answer)
    results = {m["name"]: m["content"] for m in final["messages"] if m["type"] == "tool"}
    assert list(results) == ["search", "math"]
    assert results["math"] == math_result


def test_mixed_decisions_and_a_malformed_answer_through_the_api(langgraph_dev: DevServer) -> None:
    client = get_sync_client(url=langgraph_dev.url)
    assistant = client.assistants.create(GRAPH, context={"interrupt_on": {"*": True}})
    thread = client.threads.create()["thread_id"]
    client.runs.wait(thread, assistant["assistant_id"], input=ask(QUESTION_6_7))
    request = paused(client, thread)
    assert [(a["name"], a["args"]) for a in request["action_requests"]] == [
        ("math", {"problem": "6 * 7"}),
        ("search", {"query": "Paris"}),
    ]

    # An answer in the earlier format keeps the run paused, saying what to send.
    client.runs.wait(thread, assistant["assistant_id"], command={"resume": "approve"})
    again = paused(client, thread)
    assert 'expected Command(resume={"decisions": [...]})' in again["error"]
    assert again["action_requests"][0]["description"].startswith(again["error"])

    # Agent Chat UI answers the first action alone; the second is asked about next.
    ui_answer(
        client,
        thread,
        assistant["assistant_id"],
        {"type": "edit", "edited_action": {"name": "math", "args": {"problem": "6 * 9"}}},
    )
    request = paused(client, thread)
    assert [(a["name"], a["args"]) for a in request["action_requests"]] == [
        ("search", {"query": "Paris"})
    ]
    final = ui_answer(client, thread, assistant["assistant_id"], {"type": "reject"})
    assert isinstance(final, dict)
    results = {m["name"]: m for m in final["messages"] if m["type"] == "tool"}
    assert results["math"]["content"] == "54"
    assert results["search"]["status"] == "error"

    # A create_agent client answers both actions at once.
    thread = client.threads.create()["thread_id"]
    client.runs.wait(thread, assistant["assistant_id"], input=ask(QUESTION_6_7))
    both = {"decisions": [{"type": "approve"}, {"type": "reject", "message": "offline"}]}
    final = client.runs.wait(thread, assistant["assistant_id"], command={"resume": both})
    assert isinstance(final, dict)
    results = {m["name"]: m for m in final["messages"] if m["type"] == "tool"}
    assert results["math"]["content"] == "42"
    assert results["search"]["content"] == (
        "task 2 'search' was not run: the reviewer rejected it: offline"
    )


def test_a_new_message_while_a_task_waits_ends_it_and_is_answered(
    langgraph_dev: DevServer,
) -> None:
    client = get_sync_client(url=langgraph_dev.url)
    assistant = client.assistants.create(GRAPH, context={"interrupt_before_tools": ["math"]})
    thread = client.threads.create()["thread_id"]
    client.runs.wait(thread, assistant["assistant_id"], input=ask(QUESTION_6_7))
    paused(client, thread)

    # Typing in Agent Chat UI while the run waits starts a new run with the new message.
    final = client.runs.wait(thread, assistant["assistant_id"], input=ask("Where is Berlin?"))
    assert isinstance(final, dict)
    state = client.threads.get_state(thread)
    assert state["next"] == [] and not state["tasks"]
    assert last_text(final).startswith("Berlin is the capital of Germany")
    (math,) = [m for m in final["messages"] if m["type"] == "tool" and m["name"] == "math"]
    assert math["status"] == "error" and "task 1 'math' was not run" in math["content"]

    # The whole thread is a valid history for OpenAI (the fake refuses an unanswered call).
    history = convert_to_messages([*final["messages"], {"role": "user", "content": "Thanks"}])
    with FakeOpenAIServer(lambda messages: "You're welcome.") as fake:
        model = ChatOpenAI(model="gpt-4o-mini", base_url=fake.base_url, api_key="k", max_retries=0)
        assert model.invoke(history).content == "You're welcome."
    sent = fake.requests[-1].messages
    assert sum(len(m.get("tool_calls") or ()) for m in sent) == 3  # math, search; search


def test_two_threads_run_at_once(langgraph_dev: DevServer) -> None:
    questions = {NATIONALITY: "Yes, they are both American.", "What is 12 * 12?": "144"}

    async def one(question: str) -> tuple[str, list[dict[str, Any]]]:
        client = get_client(url=langgraph_dev.url)
        thread = await client.threads.create()
        parts = [
            part
            async for part in client.runs.stream(
                thread["thread_id"], GRAPH, input=ask(question), stream_mode=["values", "custom"]
            )
        ]
        values = [p.data for p in parts if p.event == "values"]
        return last_text(values[-1]), task_events(parts)

    async def both() -> list[tuple[str, list[dict[str, Any]]]]:
        return list(await asyncio.gather(*(one(q) for q in questions)))

    results = asyncio.run(both())
    assert [answer for answer, _ in results] == list(questions.values())
    spans = [windows(events).values() for _, events in results]
    first = (min(s for s, _ in spans[0]), max(e for _, e in spans[0]))
    second = (min(s for s, _ in spans[1]), max(e for _, e in spans[1]))
    assert first[0] < second[1] and second[0] < first[1], "the two runs did not overlap"


def test_server_never_blocked_the_event_loop(langgraph_dev: DevServer) -> None:
    # Runs after the others in this module: langgraph dev (without --allow-blocking) reports
    # blocking calls in async code as errors in its log.
    assert "BlockingError" not in langgraph_dev.log
    assert "Heads up! LangGraph dev identified a synchronous blocking call" not in langgraph_dev.log
