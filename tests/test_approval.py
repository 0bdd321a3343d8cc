"""Human approval: held tasks pause the run with ``interrupt``; resume approves or rejects."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fakes.apps import scripted_app
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from llmcompiler_graph.errors import ApprovalAnswerError
from llmcompiler_graph.nodes.approve import APPROVAL_TYPE, Verdict, parse_verdicts
from llmcompiler_graph.sim import ScriptedChatModel, ToolCallRecord

PLAN = (
    '1. search(query="Paris")\n'
    '2. math(problem="2 + 3")\n'
    '3. math(problem="$2 * 10")\n'
    '4. search(query="Berlin")\n'
    "5. join()<END_OF_PLAN>"
)


def build(
    plan: str = PLAN, approval: tuple[str, ...] = ("math",), **kwargs: Any
) -> tuple[Any, ScriptedChatModel, list[ToolCallRecord]]:
    built = scripted_app(
        plan, checkpointer=InMemorySaver(), interrupt_before_tools=approval, **kwargs
    )
    return built.app, built.model, built.calls


def request_of(out: dict[str, Any]) -> dict[str, Any]:
    (interrupt,) = out["__interrupt__"]
    value = interrupt.value
    assert value["type"] == APPROVAL_TYPE
    return dict(value)


def results(messages: list[BaseMessage]) -> dict[int, ToolMessage]:
    return {m.artifact["index"]: m for m in messages if isinstance(m, ToolMessage)}


CONFIG = {"configurable": {"thread_id": "t"}}
QUESTION = {"messages": [("user", "q")]}


def test_held_task_waits_while_independent_tasks_run() -> None:
    app, model, calls = build()
    events: list[dict[str, Any]] = []
    out: dict[str, Any] = {}
    for mode, data in app.stream(QUESTION, CONFIG, stream_mode=["custom", "values", "updates"]):
        if mode == "custom":
            events.append(data)
        elif mode == "values":
            out = dict(data)
        elif "__interrupt__" in data:
            out["__interrupt__"] = data["__interrupt__"]
    request = request_of(out)
    assert [(t["index"], t["tool"], t["args"]) for t in request["tasks"]] == [
        (2, "math", {"problem": "2 + 3"})
    ]
    # The independent searches ran to completion before the pause; no math ran.
    assert sorted(c.args["query"] for c in calls) == ["Berlin", "Paris"]
    assert sorted(results(out["messages"])) == [1, 4]
    assert app.get_state(CONFIG).next == ("approve",)
    held = {e["index"]: e for e in events if e.get("awaiting_approval") is not None}
    assert held[2]["awaiting_approval"] is True and held[3]["awaiting_approval"] is True
    assert {e["index"] for e in events if e["event"] == "started"} == {1, 4}

    # Approve task 2: it runs; task 3 needed its result, so it is asked about next, with
    # its real arguments.
    out = app.invoke(Command(resume="approve"), CONFIG)
    request = request_of(out)
    assert [(t["index"], t["args"], t["planned_args"]) for t in request["tasks"]] == [
        (3, {"problem": "5 * 10"}, {"problem": "$2 * 10"})
    ]
    assert [c.args.get("problem") for c in calls if c.tool == "math"] == ["2 + 3"]

    # Reject task 3 with a reason: it becomes an error observation the joiner reads.
    out = app.invoke(Command(resume={"3": {"action": "reject", "reason": "too big"}}), CONFIG)
    assert "__interrupt__" not in out
    done = results(out["messages"])
    assert sorted(done) == [1, 2, 3, 4]
    assert done[2].content == "5"
    assert done[3].status == "error"
    assert done[3].content == "task 3 'math' was not run: the reviewer rejected it: too big"
    answer = out["messages"][-1]
    assert isinstance(answer, AIMessage) and "rejected it: too big" in str(answer.content)
    # Nothing ran twice, and the plan was made once.
    assert len(calls) == 3
    assert len([c for c in model.calls if "Finish(" not in c[0].text]) == 1


def test_rejected_task_skips_its_dependents() -> None:
    plan = '1. math(problem="1 + 1")\n2. search(query="$1 apples")\n3. join()<END_OF_PLAN>'
    app, _, calls = build(plan)
    out = app.invoke(QUESTION, CONFIG)
    assert [t["index"] for t in request_of(out)["tasks"]] == [1]
    assert calls == []  # task 2 needs task 1, so it is held too
    out = app.invoke(Command(resume=False), CONFIG)
    done = results(out["messages"])
    assert done[1].status == "error" and "rejected" in str(done[1].content)
    assert done[2].status == "error"
    assert "did not run: it depends on task 1 'math'" in str(done[2].content)
    assert calls == []


def test_every_tool_and_a_decision_per_task() -> None:
    plan = '1. search(query="a")\n2. math(problem="2 * 4")\n3. join()<END_OF_PLAN>'
    app, _, calls = build(plan, approval=("*",))
    out = app.invoke(QUESTION, CONFIG)
    assert [t["index"] for t in request_of(out)["tasks"]] == [1, 2]
    # Task 2 left undecided: only task 1 runs, and task 2 is asked about again.
    out = app.invoke(Command(resume={"1": "approve"}), CONFIG)
    assert [t["index"] for t in request_of(out)["tasks"]] == [2]
    assert [c.tool for c in calls] == ["search"]
    out = app.invoke(Command(resume=["yes"]), CONFIG)
    assert "__interrupt__" not in out
    assert results(out["messages"])[2].content == "8"
    assert [c.tool for c in calls] == ["search", "math"]


def test_approval_from_the_runtime_context() -> None:
    app, _, calls = build(approval=())
    out = app.invoke(QUESTION, CONFIG, context={"interrupt_before_tools": ["search"]})
    assert [t["index"] for t in request_of(out)["tasks"]] == [1, 4]
    assert [c.args.get("problem") for c in calls] == ["2 + 3", "5 * 10"]


def test_async_approval() -> None:
    app, _, calls = build()

    async def run() -> list[dict[str, Any]]:
        first = await app.ainvoke(QUESTION, CONFIG)
        second = await app.ainvoke(Command(resume=True), CONFIG)
        third = await app.ainvoke(Command(resume="approve"), CONFIG)
        return [first, second, third]

    first, second, third = asyncio.run(run())
    assert [t["index"] for t in request_of(first)["tasks"]] == [2]
    assert [t["index"] for t in request_of(second)["tasks"]] == [3]
    assert results(third["messages"])[3].content == "50"
    assert sorted((c.tool, c.args.get("problem") or c.args["query"]) for c in calls) == [
        ("math", "2 + 3"),
        ("math", "5 * 10"),
        ("search", "Berlin"),
        ("search", "Paris"),
    ]


def test_unknown_tool_names_are_refused() -> None:
    with pytest.raises(
        ValueError,
        match=r"unknown tool\(s\) \['serch'\]: 'serch' \(did you mean 'search'\?\); "
        r"the tools are: math, search",
    ):
        build(approval=("serch",))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("approve", {2: Verdict(True), 3: Verdict(True)}),
        (" Reject ", {2: Verdict(False), 3: Verdict(False)}),
        (True, {2: Verdict(True), 3: Verdict(True)}),
        ({"action": "reject", "reason": "no"}, {2: Verdict(False, "no"), 3: Verdict(False, "no")}),
        ({"type": "approve"}, {2: Verdict(True), 3: Verdict(True)}),
        ({"3": "yes", 2: False}, {2: Verdict(False), 3: Verdict(True)}),
        (["approve"], {2: Verdict(True)}),
        ({3: "approve"}, {3: Verdict(True)}),
    ],
)
def test_parse_verdicts(value: object, expected: dict[int, Verdict]) -> None:
    got = parse_verdicts(value, [2, 3])
    assert {i: v.approved for i, v in got.items()} == {i: v.approved for i, v in expected.items()}
    for index, verdict in expected.items():
        if verdict.reason:
            assert got[index].reason == verdict.reason


@pytest.mark.parametrize(
    "value",
    [
        None,
        [],
        {},
        "",
        42,
        "maybe",
        {"9": "approve"},
        {"2": "maybe"},
        {"x": "yes"},
        ["yes", "no", "yes"],
        ["perhaps"],
        {"action": "perhaps"},
        {True: "approve"},
    ],
)
def test_unreadable_answers_are_refused_naming_the_accepted_shapes(value: object) -> None:
    with pytest.raises(ApprovalAnswerError, match="was not understood") as caught:
        parse_verdicts(value, [2, 3])
    assert "'approve' or 'reject'" in str(caught.value)
    assert "dict from task index" in str(caught.value)


@pytest.mark.parametrize("bad", ["maybe", [], {"9": "approve"}, {"2": "perhaps"}, 0.5])
def test_a_wrong_answer_asks_again_and_fails_nothing(bad: object) -> None:
    app, _, calls = build()
    request_of(app.invoke(QUESTION, CONFIG))
    before = len(calls)
    out = app.invoke(Command(resume=bad), CONFIG)
    again = request_of(out)
    assert [t["index"] for t in again["tasks"]] == [2]
    assert "was not understood" in again["error"] and "'approve' or 'reject'" in again["error"]
    assert sorted(results(out["messages"])) == [1, 4]  # nothing failed or ran
    assert len(calls) == before
    assert app.get_state(CONFIG).next == ("approve",)
    # A second wrong answer asks again too; then a valid one goes on as usual.
    assert "error" in request_of(app.invoke(Command(resume="hmm"), CONFIG))
    out = app.invoke(Command(resume="approve"), CONFIG)
    assert [t["index"] for t in request_of(out)["tasks"]] == [3]
    assert results(out["messages"])[2].content == "5"


def test_integer_keys_and_none_do_not_crash_inside_langgraph() -> None:
    app, _, _ = build()
    request_of(app.invoke(QUESTION, CONFIG))
    with pytest.raises(ApprovalAnswerError, match=r"resume=None.*'approve' or 'reject'"):
        app.invoke(Command(resume=None), CONFIG)
    with pytest.raises(ApprovalAnswerError, match=r"resume=\{\}.*'approve' or 'reject'"):
        app.invoke(Command(resume={}), CONFIG)
    assert app.get_state(CONFIG).next == ("approve",)  # still paused, nothing decided
    out = app.invoke(Command(resume={2: "approve"}), CONFIG)  # an int key, as in the request
    assert [t["index"] for t in request_of(out)["tasks"]] == [3]
    assert results(out["messages"])[2].content == "5"

    async def run() -> dict[str, Any]:
        return dict(await app.ainvoke(Command(resume={3: "reject"}), CONFIG))

    done = results(asyncio.run(run())["messages"])
    assert done[3].status == "error" and "rejected" in str(done[3].content)


def test_a_misspelt_tool_in_the_context_fails_closed_before_anything_runs() -> None:
    app, model, calls = build(approval=())
    with pytest.raises(ValueError, match=r"'math-tool' \(did you mean 'math'\?\)"):
        app.invoke(QUESTION, CONFIG, context={"interrupt_before_tools": ["math-tool"]})
    assert calls == [] and model.calls == []

    async def run() -> None:
        await app.ainvoke(
            QUESTION,
            {"configurable": {"thread_id": "a"}},
            context={"interrupt_before_tools": ["serch"]},
        )

    with pytest.raises(ValueError, match=r"'serch' \(did you mean 'search'\?\)"):
        asyncio.run(run())
    assert calls == [] and model.calls == []
