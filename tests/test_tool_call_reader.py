"""The tool-call plan reader: calls become tasks when the next call begins or the stream ends."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmcompiler_graph.planner.syntax import ToolSpec
from llmcompiler_graph.planner.tool_calls import ToolCallPlanReader, read_tool_call_plan

TOOLS = {
    "search": ToolSpec("search", ("query",), frozenset({"query"})),
    "math": ToolSpec("math", ("problem", "context"), frozenset({"problem"})),
}


def head(index: int | None, name: str | None, call_id: str | None = None) -> dict[str, Any]:
    return {"index": index, "name": name, "id": call_id or f"call_{index}", "args": ""}


def frag(index: int | None, args: str) -> dict[str, Any]:
    return {"index": index, "name": None, "id": None, "args": args}


def calls(*items: tuple[str, str]) -> list[dict[str, Any]]:
    """Chunks for whole calls ``(name, raw JSON arguments)``, arguments in two fragments."""
    chunks: list[dict[str, Any]] = []
    for i, (name, raw) in enumerate(items):
        chunks += [head(i, name), frag(i, raw[:3]), frag(i, raw[3:])]
    return chunks


def test_a_call_is_complete_when_the_next_call_begins() -> None:
    reader = ToolCallPlanReader(TOOLS)
    assert reader.feed([head(0, "search"), frag(0, '{"query": "Ed')]) == []
    assert reader.feed([frag(0, ' Wood"}')]) == []
    (first,) = reader.feed([head(1, "math")])
    assert (first.index, first.name, first.args, first.error) == (
        1,
        "search",
        {"query": "Ed Wood"},
        None,
    )
    reader.feed([frag(1, '{"problem": "$1 * 2"}')])
    (second,) = reader.close()
    assert (second.index, second.deps, second.error) == (2, frozenset({1}), None)
    assert reader.done and [t.index for t in reader.tasks] == [1, 2]


def test_numbering_continues_after_earlier_rounds_and_references_reach_them() -> None:
    chunks = calls(("math", '{"problem": "${3} + 1", "context": ["$1"]}'))
    reader = read_tool_call_plan(chunks, TOOLS, start=4, planned=[1, 2, 3])
    (task,) = reader.tasks
    assert task.index == 4
    assert task.deps == frozenset({1, 3})
    assert task.error is None


def test_text_is_the_thought_of_the_call_after_it_and_the_rest_is_the_final_thought() -> None:
    reader = ToolCallPlanReader(TOOLS)
    reader.feed_text("I need two ")
    reader.feed_text("lookups.")
    reader.feed(calls(("search", '{"query": "a"}'), ("search", '{"query": "b"}')))
    reader.feed_text("Done.")
    reader.close()
    assert [t.thought for t in reader.tasks] == ["I need two lookups.", None]
    assert reader.final_thought == "Done."


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("serch", '{"query": "x"}', "task 1 'serch': unknown tool 'serch'; did you mean 'search'?"),
        ("search", '{"query": "x"', "task 1 'search': the arguments are not valid JSON"),
        ("search", '["x"]', "must be a JSON object of named arguments, got an array"),
        ("search", '{"q": "x"}', "tool 'search' has no argument(s) 'q'; its arguments are: query"),
        ("math", '{"context": []}', "tool 'math' is missing required argument(s): problem"),
        ("search", '{"query": "${2}"}', "${2} refers to task 2, which was not planned before it"),
        ("search", '{"query": "$1"}', "$1 refers to itself"),
        ("", '{"query": "x"}', "task 1: the tool call has no tool name"),
    ],
)
def test_bad_calls_become_error_tasks_that_name_the_call(name: str, raw: str, message: str) -> None:
    reader = read_tool_call_plan(calls((name, raw)), TOOLS)
    (task,) = reader.tasks
    assert task.index == 1
    assert task.error is not None and message in task.error
    assert "(call: 1. " in task.error


def test_a_bad_call_fails_alone_and_keeps_its_number() -> None:
    reader = read_tool_call_plan(
        calls(
            ("search", '{"query": "a"}'),
            ("search", '{"query": oops}'),
            ("math", '{"problem": "$1 + 1"}'),
        ),
        TOOLS,
    )
    assert [(t.index, t.error is None) for t in reader.tasks] == [(1, True), (2, False), (3, True)]
    assert reader.tasks[2].deps == frozenset({1})


def test_empty_arguments_are_an_empty_object() -> None:
    tools = {"now": ToolSpec("now", ())}
    (task,) = read_tool_call_plan([head(0, "now")], tools).tasks
    assert (task.name, task.args, task.error) == ("now", {}, None)


def test_a_join_call_is_ignored_but_counted() -> None:
    reader = read_tool_call_plan(
        calls(("search", '{"query": "a"}'), ("join", "{}"), ("math", '{"problem": "$1"}')), TOOLS
    )
    assert [t.index for t in reader.tasks] == [1, 3]


def test_chunks_without_an_index_are_split_by_id_or_name() -> None:
    chunks = [
        {"index": None, "id": "a", "name": "search", "args": '{"query"'},
        {"index": None, "id": None, "name": None, "args": ': "a"}'},
        {"index": None, "id": "b", "name": "search", "args": '{"query": "b"}'},
        {"index": None, "id": "b", "name": None, "args": ""},  # id repeated: same call
    ]
    reader = read_tool_call_plan(chunks, TOOLS)
    assert [t.args for t in reader.tasks] == [{"query": "a"}, {"query": "b"}]


def test_fragments_for_a_finished_call_are_ignored_and_counted() -> None:
    reader = ToolCallPlanReader(TOOLS)
    reader.feed([head(0, "search"), frag(0, '{"query": "a"}'), head(1, "search")])
    reader.feed([frag(0, "junk"), frag(1, '{"query": "b"}')])
    reader.close()
    assert [t.args for t in reader.tasks] == [{"query": "a"}, {"query": "b"}]
    assert reader.stray_fragments == 1


def test_parsed_arguments_from_a_provider_are_accepted() -> None:
    chunk = {"index": 0, "id": "x", "name": "search", "args": {"query": "a"}}
    (task,) = read_tool_call_plan([chunk], TOOLS).tasks
    assert task.args == {"query": "a"}


def test_nothing_is_read_after_close() -> None:
    reader = ToolCallPlanReader(TOOLS)
    reader.close()
    assert reader.feed(calls(("search", json.dumps({"query": "a"})))) == []
    assert reader.close() == [] and reader.tasks == []


def test_an_unknown_tool_keeps_its_arguments_for_the_transcript() -> None:
    (task,) = read_tool_call_plan(calls(("serch", '{"query": "x"}')), TOOLS).tasks
    assert task.error is not None and task.args == {"query": "x"}
    (null,) = read_tool_call_plan(calls(("search", "null")), TOOLS).tasks
    assert null.error is not None and "got null" in null.error
