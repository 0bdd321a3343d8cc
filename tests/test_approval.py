"""Human approval in LangChain's HITL format: held tasks pause the run; decisions resume it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fakes.apps import scripted_app
from langchain.agents.middleware.human_in_the_loop import HITLResponse
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from llmcompiler_graph.errors import ApprovalAnswerError
from llmcompiler_graph.sim import ScriptedChatModel, ToolCallRecord

PLAN = (
    '1. search(query="Paris")\n'
    '2. math(problem="2 + 3")\n'
    '3. math(problem="$2 * 10")\n'
    '4. search(query="Berlin")\n'
    "5. join()<END_OF_PLAN>"
)
APPROVE = {"decisions": [{"type": "approve"}]}


def build(
    plan: str = PLAN, approval: tuple[str, ...] = ("math",), **kwargs: Any
) -> tuple[Any, ScriptedChatModel, list[ToolCallRecord]]:
    built = scripted_app(
        plan, checkpointer=InMemorySaver(), interrupt_before_tools=approval, **kwargs
    )
    return built.app, built.model, built.calls


def is_agent_inbox_interrupt(value: object) -> bool:
    """Agent Chat UI's ``isAgentInboxInterruptSchema``: only then it shows its controls."""
    if not isinstance(value, dict):
        return False
    actions, configs = value.get("action_requests"), value.get("review_configs")
    if not isinstance(actions, list) or not actions or not isinstance(configs, list) or not configs:
        return False
    return all(
        isinstance(a, dict) and isinstance(a.get("name"), str) and isinstance(a.get("args"), dict)
        for a in actions
    ) and all(
        isinstance(c, dict)
        and isinstance(c.get("action_name"), str)
        and isinstance(c.get("allowed_decisions"), list)
        for c in configs
    )


def request_of(out: dict[str, Any]) -> dict[str, Any]:
    (interrupt,) = out["__interrupt__"]
    value = interrupt.value
    assert is_agent_inbox_interrupt(value), value
    json.dumps(value)  # it travels as JSON
    return dict(value)


def actions(out: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(a["name"], a["args"]) for a in request_of(out)["action_requests"]]


def results(messages: list[BaseMessage]) -> dict[int, ToolMessage]:
    return {m.artifact["index"]: m for m in messages if isinstance(m, ToolMessage)}


def resume(*decisions: dict[str, Any]) -> Command:
    return Command(resume={"decisions": list(decisions)})


def edit(name: str, **args: Any) -> dict[str, Any]:
    return {"type": "edit", "edited_action": {"name": name, "args": args}}


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
    assert request["action_requests"] == [
        {
            "name": "math",
            "args": {"problem": "2 + 3"},
            "description": 'Task 2 of the plan: `math(problem="2 + 3")`',
        }
    ]
    assert request["review_configs"] == [
        {"action_name": "math", "allowed_decisions": ["approve", "edit", "reject"]}
    ]
    # The independent searches ran to completion before the pause; no math ran.
    assert sorted(c.args["query"] for c in calls) == ["Berlin", "Paris"]
    assert sorted(results(out["messages"])) == [1, 4]
    assert app.get_state(CONFIG).next == ("approve",)
    held = {e["index"]: e for e in events if e.get("awaiting_approval") is not None}
    assert held[2]["awaiting_approval"] is True and held[3]["awaiting_approval"] is True
    assert {e["index"] for e in events if e["event"] == "started"} == {1, 4}

    # Approve task 2: it runs; task 3 needed its result, so it is asked about next, with
    # its real arguments and a description naming what it uses.
    out = app.invoke(resume({"type": "approve"}), CONFIG)
    (action,) = request_of(out)["action_requests"]
    assert (action["name"], action["args"]) == ("math", {"problem": "5 * 10"})
    assert action["description"] == (
        'Task 3 of the plan: `math(problem="$2 * 10")`\n\n`$2` is the result of task 2 (math): `5`'
    )
    assert [c.args.get("problem") for c in calls if c.tool == "math"] == ["2 + 3"]

    # Reject task 3 with a message: it becomes the observation the joiner reads.
    out = app.invoke(resume({"type": "reject", "message": "too big"}), CONFIG)
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


def test_an_edit_runs_the_edited_call_and_its_dependents_see_its_result() -> None:
    app, model, calls = build()
    app.invoke(QUESTION, CONFIG)
    out = app.invoke(resume(edit("math", problem="4 + 4")), CONFIG)
    # Task 3 is asked about with the edited call's result substituted.
    assert actions(out) == [("math", {"problem": "8 * 10"})]
    out = app.invoke(resume({"type": "approve"}), CONFIG)
    done = results(out["messages"])
    assert [done[2].content, done[3].content] == ["8", "80"]
    assert [c.args["problem"] for c in calls if c.tool == "math"] == ["4 + 4", "8 * 10"]
    # The plan keeps what the planner wrote; the joiner is told what ran instead.
    marker = done[2].additional_kwargs["llmcompiler"]
    assert marker["edited_args"] == {"problem": "4 + 4"}
    joiner_prompt = model.calls[-1][-1].text
    assert 'The reviewer edited its arguments to: {"problem": "4 + 4"}' in joiner_prompt


def test_a_rejected_task_skips_its_dependents() -> None:
    plan = '1. math(problem="1 + 1")\n2. search(query="$1 apples")\n3. join()<END_OF_PLAN>'
    app, _, calls = build(plan)
    out = app.invoke(QUESTION, CONFIG)
    assert actions(out) == [("math", {"problem": "1 + 1"})]
    assert calls == []  # task 2 needs task 1, so it is held too
    out = app.invoke(resume({"type": "reject"}), CONFIG)
    done = results(out["messages"])
    assert done[1].status == "error"
    assert done[1].content == "task 1 'math' was not run: the reviewer rejected it"
    assert done[2].status == "error"
    assert "did not run: it depends on task 1 'math'" in str(done[2].content)
    assert calls == []


def test_mixed_decisions_in_action_order() -> None:
    plan = (
        '1. search(query="a")\n2. math(problem="2 * 4")\n3. search(query="b")\n'
        '4. math(problem="$2 + 1")\n5. join()<END_OF_PLAN>'
    )
    app, _, calls = build(plan, approval=("*",))
    out = app.invoke(QUESTION, CONFIG)
    assert actions(out) == [
        ("search", {"query": "a"}),
        ("math", {"problem": "2 * 4"}),
        ("search", {"query": "b"}),
    ]
    assert [c["action_name"] for c in request_of(out)["review_configs"]] == ["search", "math"]
    answer: HITLResponse = {
        "decisions": [
            {"type": "approve"},
            {"type": "edit", "edited_action": {"name": "math", "args": {"problem": "3 * 4"}}},
            {"type": "reject", "message": "not b"},
        ]
    }
    out = app.invoke(Command(resume=answer), CONFIG)
    assert actions(out) == [("math", {"problem": "12 + 1"})]
    out = app.invoke(resume({"type": "approve"}), CONFIG)
    done = results(out["messages"])
    assert [done[i].status for i in (1, 2, 3, 4)] == ["success", "success", "error", "success"]
    assert done[3].content == "task 3 'search' was not run: the reviewer rejected it: not b"
    made = [c.args.get("query") or c.args["problem"] for c in calls]
    # The approved search and the edited math run at the same time: either may start first.
    assert sorted(made[:2]) == ["3 * 4", "a"] and made[2:] == ["12 + 1"]


def test_fewer_decisions_decide_the_first_actions_and_the_rest_are_asked_again() -> None:
    # Agent Chat UI shows the first action and answers it alone.
    plan = '1. search(query="a")\n2. math(problem="2 * 4")\n3. join()<END_OF_PLAN>'
    app, _, calls = build(plan, approval=("*",))
    app.invoke(QUESTION, CONFIG)
    out = app.invoke(resume({"type": "approve"}), CONFIG)
    assert actions(out) == [("math", {"problem": "2 * 4"})]
    assert [c.tool for c in calls] == ["search"]
    out = app.invoke(resume({"type": "approve"}), CONFIG)
    assert "__interrupt__" not in out
    assert results(out["messages"])[2].content == "8"


def test_interrupt_on_sets_the_decisions_each_tool_allows() -> None:
    plan = '1. search(query="a")\n2. math(problem="2 * 4")\n3. join()<END_OF_PLAN>'
    interrupt_on = {
        "search": {"allowed_decisions": ["approve", "reject"], "description": "Costs money."},
        "math": {"allowed_decisions": ["respond", "reject"]},
    }
    app, _, calls = build(plan, approval=(), interrupt_on=interrupt_on)
    out = app.invoke(QUESTION, CONFIG)
    request = request_of(out)
    assert request["review_configs"] == [
        {"action_name": "search", "allowed_decisions": ["approve", "reject"]},
        {"action_name": "math", "allowed_decisions": ["respond", "reject"]},
    ]
    assert request["action_requests"][0]["description"].startswith("Costs money.\n\n")
    # An edit is not allowed for search: the run stays paused, saying so.
    out = app.invoke(resume(edit("search", query="b"), {"type": "approve"}), CONFIG)
    assert "'edit' is not allowed for search (allowed: approve, reject)" in request_of(out)["error"]
    assert calls == []
    # respond: the reviewer's text is the result; the tool does not run.
    out = app.invoke(resume({"type": "approve"}, {"type": "respond", "message": "eight"}), CONFIG)
    done = results(out["messages"])
    assert (done[2].status, done[2].content) == ("success", "eight")
    assert [c.tool for c in calls] == ["search"]


def test_interrupt_on_from_the_runtime_context() -> None:
    app, _, calls = build(approval=())
    context = {"interrupt_on": {"search": True}}
    out = app.invoke(QUESTION, CONFIG, context=context)
    assert actions(out) == [("search", {"query": "Paris"}), ("search", {"query": "Berlin"})]
    assert [c.args.get("problem") for c in calls] == ["2 + 3", "5 * 10"]


def test_async_approval() -> None:
    app, _, calls = build()

    async def run() -> list[dict[str, Any]]:
        first = await app.ainvoke(QUESTION, CONFIG)
        second = await app.ainvoke(resume(edit("math", problem="1 + 2")), CONFIG)
        third = await app.ainvoke(resume({"type": "approve"}), CONFIG)
        return [first, second, third]

    first, second, third = asyncio.run(run())
    assert actions(first) == [("math", {"problem": "2 + 3"})]
    assert actions(second) == [("math", {"problem": "3 * 10"})]
    assert results(third["messages"])[3].content == "30"
    assert sorted((c.tool, c.args.get("problem") or c.args["query"]) for c in calls) == [
        ("math", "1 + 2"),
        ("math", "3 * 10"),
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
    with pytest.raises(ValueError, match=r"interrupt_on names unknown tool\(s\) \['mth'\]"):
        build(approval=(), interrupt_on={"mth": True})
    with pytest.raises(ValueError, match="interrupt_on must map tool names"):
        build(approval=(), interrupt_on={"math": {"allowed_decisions": ["accept"]}})


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("approve", "it has no 'decisions' list (earlier versions' answers"),
        (True, "it has no 'decisions' list"),
        ({"2": "approve"}, "it has no 'decisions' list"),
        ({"decisions": []}, "'decisions' is not a non-empty list"),
        ({"decisions": [{"type": "approve"}] * 2}, "2 decisions for 1 action(s)"),
        ({"decisions": [{"type": "accept"}]}, "type 'accept' is not one of"),
        ({"decisions": ["approve"]}, "decision 1 (action 1, math): it is not an object"),
        ({"decisions": [{"type": "edit"}]}, "'edit' needs 'edited_action'"),
        ({"decisions": [edit("search", query="x")]}, "edited_action.name must be 'math'"),
        ({"decisions": [edit("math", problem=3)]}, "problem: Input should be a valid string"),
        ({"decisions": [edit("math")]}, "problem: Field required"),
        ({"decisions": [{"type": "reject", "message": 3}]}, "'message' is not a string"),
    ],
)
def test_a_malformed_answer_keeps_the_run_paused_with_a_one_line_error(
    bad: object, why: str
) -> None:
    app, _, calls = build()
    request_of(app.invoke(QUESTION, CONFIG))
    before = len(calls)
    out = app.invoke(Command(resume=bad), CONFIG)
    again = request_of(out)
    assert actions(out) == [("math", {"problem": "2 + 3"})]
    error = again["error"]
    assert why in error
    assert "\n" not in error
    assert 'expected Command(resume={"decisions": [...]})' in error
    assert '{"type": "edit", "edited_action": {"name": <the tool>, "args": {...}}}' in error
    # Agent Chat UI shows the description, not the error key.
    assert again["action_requests"][0]["description"].startswith(error)
    assert sorted(results(out["messages"])) == [1, 4]  # nothing failed or ran
    assert len(calls) == before
    assert app.get_state(CONFIG).next == ("approve",)
    # A valid answer then goes on as usual.
    out = app.invoke(resume({"type": "approve"}), CONFIG)
    assert actions(out) == [("math", {"problem": "5 * 10"})]
    assert "error" not in request_of(out)


def test_none_and_empty_answers_are_refused_before_anything_runs() -> None:
    app, _, _ = build()
    request_of(app.invoke(QUESTION, CONFIG))
    with pytest.raises(ApprovalAnswerError, match=r'resume=None.*\{"decisions": \[\.\.\.\]\}'):
        app.invoke(Command(resume=None), CONFIG)
    with pytest.raises(ApprovalAnswerError, match=r"resume=\{\}"):
        app.invoke(Command(resume={}), CONFIG)
    assert app.get_state(CONFIG).next == ("approve",)  # still paused, nothing decided
    out = app.invoke(Command(resume={2: "approve"}), CONFIG)  # LangGraph would crash on it
    assert "it has no 'decisions' list" in request_of(out)["error"]


def test_a_misspelt_tool_in_the_context_fails_closed_before_anything_runs() -> None:
    app, model, calls = build(approval=())
    with pytest.raises(ValueError, match=r"'math-tool' \(did you mean 'math'\?\)"):
        app.invoke(QUESTION, CONFIG, context={"interrupt_before_tools": ["math-tool"]})
    with pytest.raises(ValueError, match=r"'mth' \(did you mean 'math'\?\)"):
        app.invoke(QUESTION, CONFIG, context={"interrupt_on": {"mth": True}})
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
