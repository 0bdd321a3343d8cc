"""Tools as LangChain users write them for ``ToolNode`` work as plan tasks, sync and async."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.tools import InjectedToolCallId, StructuredTool, ToolException, tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.prebuilt import InjectedState, InjectedStore, ToolRuntime
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore
from langgraph.types import Command, interrupt

from llmcompiler_graph import Context, create_llm_compiler
from llmcompiler_graph.sim import ScriptedChatModel
from llmcompiler_graph.state import kind_of, result_record
from tests.fakes.apps import is_joiner, planner_then_joiner

MODES = ["sync", "async"]
QUESTION = {"messages": [("user", "Do it.")]}


def run(app: Any, mode: str, value: Any = QUESTION, config: Any = None, **kw: Any) -> Any:
    if mode == "sync":
        return app.invoke(value, config, **kw)
    return asyncio.run(app.ainvoke(value, config, **kw))


def counting_model(plan: str) -> tuple[ScriptedChatModel, Counter[str]]:
    """A planner/joiner that replies with ``plan`` and counts its calls by role."""
    counts: Counter[str] = Counter()
    script = planner_then_joiner(plan)

    def reply(messages: list[BaseMessage]) -> str:
        counts["join" if is_joiner(messages) else "plan"] += 1
        return str(script(messages))

    return ScriptedChatModel(responses=reply), counts


def results(out: dict[str, Any]) -> dict[int, ToolMessage]:
    return {result_record(m)["index"]: m for m in out["messages"] if isinstance(m, ToolMessage)}


def plan_of(out: dict[str, Any]) -> AIMessage:
    return next(m for m in out["messages"] if kind_of(m) == "plan")


# -- injection -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_state_tool_call_id_runtime_and_store_are_injected(mode: str) -> None:
    seen: dict[str, Any] = {}

    @tool
    def whoami(
        label: str,
        call_id: Annotated[str, InjectedToolCallId],
        messages: Annotated[list[Any], InjectedState("messages")],
        state: Annotated[dict[str, Any], InjectedState],
    ) -> str:
        """Report the tool call id and what the state holds."""
        seen["call_id"], seen["messages"], seen["state"] = call_id, messages, state
        return f"{label}:{call_id}"

    @tool
    def remember(key: str, store: Annotated[BaseStore, InjectedStore()]) -> str:
        """Save a key in the store."""
        store.put(("notes",), key, {"v": 1})
        return "saved"

    @tool
    def inspect_runtime(runtime: ToolRuntime) -> str:
        """Report what the runtime carries."""
        runtime.stream_writer({"type": "from_tool", "id": runtime.tool_call_id})
        seen["runtime"] = runtime
        return "ok"

    plan = '1. whoami(label="x")\n2. remember(key="k")\n3. inspect_runtime()\njoin()'
    model, _ = counting_model(plan)
    store = InMemoryStore()
    app = create_llm_compiler(model, [whoami, remember, inspect_runtime], store=store)
    if mode == "sync":
        chunks = list(
            app.stream(QUESTION, stream_mode=["custom", "values"], context={"max_replans": 1})
        )
    else:

        async def collect() -> list[Any]:
            stream = app.astream(
                QUESTION, stream_mode=["custom", "values"], context={"max_replans": 1}
            )
            return [c async for c in stream]

        chunks = asyncio.run(collect())
    out = [data for kind, data in chunks if kind == "values"][-1]
    calls = {c["name"]: c["id"] for c in plan_of(out).tool_calls}
    # InjectedToolCallId: the plan's own tool call id, also on the result message.
    assert seen["call_id"] == calls["whoami"]
    assert results(out)[1].content == f"x:{calls['whoami']}"
    assert results(out)[1].tool_call_id == calls["whoami"]
    # InjectedState: the graph's state as the node saw it (the question, no plan yet).
    assert [m.type for m in seen["messages"]] == ["human"]
    assert seen["state"]["messages"] == seen["messages"]
    # InjectedStore / ToolRuntime: the graph's store, context, config and stream writer.
    item = store.get(("notes",), "k")
    assert item is not None and item.value == {"v": 1}
    runtime = seen["runtime"]
    assert runtime.tool_call_id == calls["inspect_runtime"]
    assert runtime.store is store
    assert isinstance(runtime.context, Context) and runtime.context.max_replans == 1
    assert runtime.config["metadata"]["llmcompiler_task"] == 3
    assert [m.type for m in runtime.state["messages"]] == ["human"]
    custom = [d for kind, d in chunks if kind == "custom" and d.get("type") == "from_tool"]
    assert custom == [{"type": "from_tool", "id": calls["inspect_runtime"]}]


@pytest.mark.parametrize("mode", MODES)
def test_async_tools_get_injections_too(mode: str) -> None:
    @tool
    async def echo_id(text: str, call_id: Annotated[str, InjectedToolCallId]) -> str:
        """Echo the text and the call id."""
        await asyncio.sleep(0)
        return f"{text}@{call_id}"

    model, _ = counting_model('1. echo_id(text="hi")\njoin()')
    out = run(create_llm_compiler(model, [echo_id]), mode)
    call = plan_of(out).tool_calls[0]
    assert results(out)[1].content == f"hi@{call['id']}"


# -- return values ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_tool_may_return_its_own_tool_message(mode: str) -> None:
    @tool
    def custom(text: str, call_id: Annotated[str, InjectedToolCallId]) -> ToolMessage:
        """Return a ToolMessage."""
        return ToolMessage(f"custom {text}", tool_call_id=call_id, artifact={"raw": text})

    @tool
    def echo(value: Any) -> str:
        """Echo what it got."""
        return f"got {value!r}"

    model, _ = counting_model(
        '1. custom(text="a")\n2. echo(value="$1")\n3. echo(value="<$1>")\njoin()'
    )
    out = run(create_llm_compiler(model, [custom, echo]), mode)
    by_index = results(out)
    assert by_index[1].content == "custom a"
    assert by_index[1].artifact == {"raw": "a"}  # the tool's artifact is kept
    assert by_index[2].content == "got {'raw': 'a'}"  # an exact "$1" gets the artifact
    assert by_index[3].content == "got '<custom a>'"  # "$1" in text gets the content


@pytest.mark.parametrize("mode", MODES)
def test_content_and_artifact_keeps_the_artifact_and_exact_ref_receives_it(mode: str) -> None:
    def rows(n: int) -> tuple[str, list[int]]:
        return f"{n} rows", list(range(n))

    fetch = StructuredTool.from_function(
        rows, name="fetch", description="Fetch rows.", response_format="content_and_artifact"
    )
    received: list[Any] = []

    @tool
    def total(values: list[int], label: str = "") -> int:
        """Sum values."""
        received.append((values, label))
        return sum(values)

    plan = '1. fetch(n=4)\n2. total(values="$1", label="of $1")\njoin()'
    model, _ = counting_model(plan)
    out = run(create_llm_compiler(model, [fetch, total]), mode)
    by_index = results(out)
    assert by_index[1].content == "4 rows"
    assert by_index[1].artifact == [0, 1, 2, 3]
    assert received == [([0, 1, 2, 3], "of 4 rows")]
    assert by_index[2].content == "6"
    assert result_record(by_index[1])["status"] == "ok"


@pytest.mark.parametrize("mode", MODES)
def test_an_artifact_reaches_a_later_round_the_same_way(mode: str) -> None:
    def rows(n: int) -> tuple[str, list[int]]:
        return f"{n} rows", list(range(n))

    fetch = StructuredTool.from_function(
        rows, name="fetch", description="Fetch rows.", response_format="content_and_artifact"
    )
    received: list[Any] = []

    @tool
    def total(values: list[int], label: str = "") -> int:
        """Sum values."""
        received.append((values, label))
        return sum(values)

    plans = ["1. fetch(n=3)\njoin()", '2. total(values="$1", label="of $1")\njoin()']
    model = ScriptedChatModel(
        responses=planner_then_joiner(plans, ["Action: Replan(sum them)", "Action: Finish(3)"])
    )
    run(create_llm_compiler(model, [fetch, total]), mode)
    assert received == [([0, 1, 2], "of 3 rows")]


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("handle", "expected"),
    [
        (True, "quota exceeded"),
        ("Please try another city.", "Please try another city."),
        (lambda e: f"handled: {e}", "handled: quota exceeded"),
    ],
)
def test_tool_exception_with_handle_tool_error(mode: str, handle: Any, expected: str) -> None:
    def weather(city: str) -> str:
        raise ToolException("quota exceeded")

    failing = StructuredTool.from_function(
        weather, name="weather", description="Weather.", handle_tool_error=handle
    )

    @tool
    def echo(value: str) -> str:
        """Echo."""
        return value

    model, _ = counting_model(
        '1. weather(city="Paris")\n2. echo(value="$1")\n3. echo(value="b")\njoin()'
    )
    out = run(create_llm_compiler(model, [failing, echo]), mode)
    by_index = results(out)
    assert by_index[1].status == "error"
    assert expected in str(by_index[1].content)
    assert "task 1 'weather' failed" in str(by_index[1].content)
    assert result_record(by_index[2])["status"] == "skipped"  # its dependent did not run
    assert by_index[3].content == "b"


@pytest.mark.parametrize("mode", MODES)
def test_unhandled_tool_exception_is_an_error_observation_not_a_crash(mode: str) -> None:
    def weather(city: str) -> str:
        raise ToolException("no data")

    failing = StructuredTool.from_function(weather, name="weather", description="Weather.")
    model, counts = counting_model('1. weather(city="Paris")\njoin()')
    out = run(create_llm_compiler(model, [failing]), mode)
    assert results(out)[1].status == "error"
    assert "ToolException: no data" in str(results(out)[1].content)
    assert counts["join"] == 1


# -- return_direct ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_return_direct_ends_with_the_result_and_skips_the_joiner(mode: str) -> None:
    @tool(return_direct=True)
    def lookup(city: str) -> str:
        """Look a city up; its answer is final."""
        return f"{city} is lovely"

    @tool
    def other(x: str) -> str:
        """Another tool."""
        return x

    model, counts = counting_model('1. other(x="a")\n2. lookup(city="Paris")\njoin()')
    out = run(create_llm_compiler(model, [lookup, other]), mode)
    assert counts == Counter({"plan": 1})  # the joiner was never called
    answer = out["messages"][-1]
    assert kind_of(answer) == "answer" and answer.content == "Paris is lovely"
    assert results(out)[1].content == "a"  # the other task still ran and is recorded


@pytest.mark.parametrize("mode", MODES)
def test_a_failed_return_direct_task_goes_to_the_joiner(mode: str) -> None:
    def lookup(city: str) -> str:
        raise ValueError("offline")

    direct = StructuredTool.from_function(
        lookup, name="lookup", description="Look up.", return_direct=True
    )
    model, counts = counting_model('1. lookup(city="Paris")\njoin()')
    run(create_llm_compiler(model, [direct]), mode)
    assert counts == Counter({"plan": 1, "join": 1})


# -- interrupts inside tools -----------------------------------------------------------------


class Ledger:
    """Counts how often each tool body ran, and what interrupt() returned."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: Counter[str] = Counter()
        self.answers: list[Any] = []

    def ran(self, name: str) -> None:
        with self.lock:
            self.runs[name] += 1


def interrupt_tools(ledger: Ledger) -> list[Any]:
    @tool
    def ask_human(question: str) -> str:
        """Ask a human."""
        ledger.ran("ask_human")
        answer = interrupt({"question": question, "kind": "ask"})
        ledger.answers.append(answer)
        return f"human said {answer}"

    @tool
    def work(x: str) -> str:
        """Do some work."""
        ledger.ran(f"work:{x}")
        return f"worked {x}"

    return [ask_human, work]


@pytest.mark.parametrize("mode", MODES)
def test_interrupt_inside_a_tool_pauses_and_resumes_without_repeating_others(mode: str) -> None:
    ledger = Ledger()
    plan = (
        '1. work(x="a")\n2. ask_human(question="color?")\n3. work(x="$2")\n4. work(x="b")\njoin()'
    )
    model, counts = counting_model(plan)
    app = create_llm_compiler(model, interrupt_tools(ledger), checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": f"t-{mode}"}}
    out = run(app, mode, QUESTION, config)
    # Paused with the tool's own payload.
    assert [i.value for i in out["__interrupt__"]] == [{"question": "color?", "kind": "ask"}]
    assert ledger.runs["work:a"] == 1 and ledger.runs["work:b"] == 1
    out = run(app, mode, Command(resume="blue"), config)
    assert ledger.answers == ["blue"]
    by_index = results(out)
    assert by_index[2].content == "human said blue"
    assert by_index[3].content == "worked human said blue"
    # Nothing else of the round ran twice; the planner was called once.
    assert ledger.runs["work:a"] == 1 and ledger.runs["work:b"] == 1
    assert ledger.runs["work:human said blue"] == 1
    assert counts == Counter({"plan": 1, "join": 1})
    assert out["messages"][-1].content.count("worked") >= 1


@pytest.mark.parametrize("mode", MODES)
def test_interrupt_inside_an_approved_tool(mode: str) -> None:
    ledger = Ledger()
    model, counts = counting_model('1. work(x="a")\n2. ask_human(question="size?")\njoin()')
    app = create_llm_compiler(
        model,
        interrupt_tools(ledger),
        checkpointer=InMemorySaver(),
        interrupt_before_tools=["ask_human"],
    )
    config = {"configurable": {"thread_id": f"a-{mode}"}}
    out = run(app, mode, QUESTION, config)
    assert out["__interrupt__"][0].value["action_requests"][0]["name"] == "ask_human"
    out = run(app, mode, Command(resume={"decisions": [{"type": "approve"}]}), config)
    assert out["__interrupt__"][0].value == {"question": "size?", "kind": "ask"}
    out = run(app, mode, Command(resume="large"), config)
    assert results(out)[2].content == "human said large"
    assert ledger.runs["work:a"] == 1
    assert counts == Counter({"plan": 1, "join": 1})
