"""An exact ``"$N"`` receives the face of a two-faced result its parameter's schema accepts."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Optional

import pytest
from fakes.apps import planner_then_joiner
from langchain_core.messages import ToolMessage
from langchain_core.tools import StructuredTool, tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import BaseModel
from typing_extensions import TypedDict

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.executor.receiving import Artifact, fit_arguments, structured_candidates
from llmcompiler_graph.sim import ScriptedChatModel
from llmcompiler_graph.state import result_record


def mcp(structured: object, text: str) -> Artifact:
    """A result as langchain-mcp-adapters makes it (artifact = MCPToolArtifact)."""
    return Artifact({"structured_content": structured}, text)


COUNT = mcp({"result": 3}, "3")
SHOUT = mcp({"result": "HI"}, "HI")
ROWS = mcp({"result": [0, 1, 2]}, "0\n1\n2")
PLACE = mcp({"city": "Oslo", "population": 4}, '{\n  "city": "Oslo",\n  "population": 4\n}')
NO_STRUCTURE = Artifact(None, '{"words": ["a", "b"]}')
PLAIN_TEXT = Artifact(None, "just words")


def schema(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


STR = {"type": "string"}


class Where(BaseModel):
    city: str
    population: int


class Pair(TypedDict):
    a: int


def test_a_text_parameter_gets_the_text() -> None:
    args = {"a": COUNT, "b": PLACE, "c": ROWS, "d": NO_STRUCTURE, "e": SHOUT}
    fitted = fit_arguments(args, schema(a=STR, b=STR, c=STR, d=STR, e=STR))
    assert fitted == {"a": "3", "b": PLACE.text, "c": "0\n1\n2", "d": NO_STRUCTURE.text, "e": "HI"}


def test_typed_parameters_get_the_structured_value_unwrapped() -> None:
    args = {"n": COUNT, "x": COUNT, "rows": ROWS, "where": PLACE}
    properties = {
        "n": {"type": "integer"},
        "x": {"type": "number"},
        "rows": {"type": "array", "items": {"type": "integer"}},
        "where": {"$ref": "#/$defs/Place"},
    }
    defs = {"Place": schema(city=STR, population={"type": "integer"})}
    fitted = fit_arguments(args, {"properties": properties, "$defs": defs})
    assert fitted == {"n": 3, "x": 3, "rows": [0, 1, 2], "where": PLACE.value["structured_content"]}  # type: ignore[index]


def test_a_wrapper_shaped_object_stays_whole_for_an_object_parameter() -> None:
    # A tool whose object result has a single "result" key: an object parameter gets it whole.
    wrapped = mcp({"result": "done"}, '{"result": "done"}')
    assert fit_arguments({"o": wrapped}, schema(o={"type": "object"})) == {"o": {"result": "done"}}


def test_without_structured_content_the_text_is_read_as_json_when_it_is() -> None:
    fitted = fit_arguments({"o": NO_STRUCTURE}, schema(o={"type": "object"}))
    assert fitted == {"o": {"words": ["a", "b"]}}
    # Not JSON: the text goes through, and the tool's validation names the problem.
    assert fit_arguments({"o": PLAIN_TEXT}, schema(o={"type": "object"})) == {"o": "just words"}


def test_untyped_parameters_get_the_value_else_the_text() -> None:
    fitted = fit_arguments({"a": COUNT, "b": PLACE, "c": PLAIN_TEXT}, schema(a={}, b={}, c={}))
    assert fitted == {"a": 3, "b": PLACE.value["structured_content"], "c": "just words"}  # type: ignore[index]
    assert fit_arguments({"a": COUNT}, None) == {"a": 3}  # no schema at all


def test_a_plain_artifact_keeps_its_value_and_its_text() -> None:
    rows = Artifact([0, 1, 2, 3], "4 rows")
    args = {"v": rows, "label": rows, "any": rows}
    fitted = fit_arguments(args, schema(v={"type": "array"}, label=STR, any={}))
    assert fitted == {"v": [0, 1, 2, 3], "label": "4 rows", "any": [0, 1, 2, 3]}


def test_optional_and_union_types_are_read_through_any_of() -> None:
    optional_text = {"anyOf": [STR, {"type": "null"}]}
    number_or_list = {"anyOf": [{"type": "integer"}, {"type": "array"}]}
    fitted = fit_arguments({"t": COUNT, "u": ROWS}, schema(t=optional_text, u=number_or_list))
    assert fitted == {"t": "3", "u": [0, 1, 2]}


def test_references_inside_lists_and_objects_follow_their_item_schema() -> None:
    properties = {
        "texts": {"type": "array", "items": STR},
        "counts": {"type": "array", "items": {"type": "integer"}},
        "named": {"type": "object", "additionalProperties": STR},
        "pair": schema(left=STR, right={"type": "integer"}),
    }
    args = {
        "texts": [COUNT, "literal"],
        "counts": [COUNT, COUNT],
        "named": {"x": COUNT},
        "pair": {"left": COUNT, "right": COUNT},
    }
    assert fit_arguments(args, {"properties": properties}) == {
        "texts": ["3", "literal"],
        "counts": [3, 3],
        "named": {"x": "3"},
        "pair": {"left": "3", "right": 3},
    }


def test_values_that_are_not_artifacts_are_left_alone() -> None:
    args = {"a": 5, "b": [1, {"c": 2}], "d": "text"}
    assert fit_arguments(args, schema(a=STR, b=STR, d={"type": "integer"})) == args


def test_a_pydantic_schema_from_a_tool_reads_the_same_way() -> None:
    @tool
    def act(text: str, where: Where, pairs: list[Pair], maybe: Optional[str] = None) -> str:  # noqa: UP045
        """Act."""
        return text

    spec = act.tool_call_schema.model_json_schema()  # type: ignore[union-attr]
    pair_list = mcp({"result": [{"a": 1}]}, '{"a": 1}')
    fitted = fit_arguments(
        {"text": PLACE, "where": PLACE, "pairs": pair_list, "maybe": COUNT}, spec
    )
    assert fitted == {
        "text": PLACE.text,
        "where": {"city": "Oslo", "population": 4},
        "pairs": [{"a": 1}],
        "maybe": "3",
    }


def test_structured_candidates() -> None:
    assert structured_candidates(COUNT) == [3, {"result": 3}]
    assert structured_candidates(PLACE) == [{"city": "Oslo", "population": 4}]
    assert structured_candidates(NO_STRUCTURE) == []
    assert structured_candidates(Artifact({"raw": 1}, "x")) == [{"raw": 1}]


def test_cyclic_or_remote_references_count_as_untyped() -> None:
    cyclic = {"properties": {"a": {"$ref": "#/$defs/A"}}, "$defs": {"A": {"$ref": "#/$defs/A"}}}
    assert fit_arguments({"a": COUNT}, cyclic) == {"a": 3}
    remote = {"properties": {"a": {"$ref": "https://example.com/schema.json"}}}
    assert fit_arguments({"a": COUNT}, remote) == {"a": 3}


# -- in a graph: tools shaped as langchain-mcp-adapters makes them (no server needed) ------


def mcp_shaped(name: str, func: Any, schema: dict[str, Any], *, structured: bool = True) -> Any:
    """An async-only tool with a JSON-schema input and MCP's content and artifact."""

    async def call(**kwargs: Any) -> tuple[list[dict[str, str]], Any]:
        value = func(**kwargs)
        items = value if isinstance(value, list) else [value]
        blocks = [
            {"type": "text", "text": v if isinstance(v, str) else json.dumps(v)} for v in items
        ]
        wrapped = value if isinstance(value, dict) else {"result": value}
        return blocks, {"structured_content": wrapped} if structured else None

    return StructuredTool(
        name=name,
        description=f"{name} (MCP-shaped)",
        args_schema={"type": "object", "properties": schema, "required": list(schema)},
        coroutine=call,
        response_format="content_and_artifact",
    )


def mcp_like_tools() -> list[Any]:
    return [
        mcp_shaped("shout", lambda text: text.upper(), {"text": STR}),
        mcp_shaped("word_count", lambda text: len(text.split()), {"text": STR}),
        mcp_shaped("numbers", lambda n: list(range(n)), {"n": {"type": "integer"}}),
        mcp_shaped("total", lambda values: sum(values), {"values": {"type": "array", "items": {}}}),
        mcp_shaped("tags", lambda text: {"words": text.split()}, {"text": STR}, structured=False),
        mcp_shaped("keys", lambda data: ", ".join(data), {"data": {"type": "object"}}),
    ]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_mcp_shaped_tools_feed_each_other(mode: str) -> None:
    plan = (
        '1. shout(text="three little words")\n2. word_count(text="$1")\n3. numbers(n="$2")\n'
        '4. total(values="$3")\n5. tags(text="$1")\n6. keys(data="$5")\n'
        '7. word_count(text="$2 words: $1")\njoin()'
    )
    model = ScriptedChatModel(responses=planner_then_joiner(plan))
    app = create_llm_compiler(model, mcp_like_tools())
    question = {"messages": [("user", "Count.")]}
    out = app.invoke(question) if mode == "sync" else asyncio.run(app.ainvoke(question))
    texts = {
        result_record(m)["index"]: "\n".join(b["text"] for b in m.content)
        for m in out["messages"]
        if isinstance(m, ToolMessage)
    }
    assert texts == {
        1: "THREE LITTLE WORDS",
        2: "3",
        3: "0\n1\n2",
        4: "3",
        5: '{"words": ["THREE", "LITTLE", "WORDS"]}',
        6: "words",
        7: "5",
    }
    joiner_prompt = next(m[-1].text for m in model.calls if "Finish(" in m[0].text)
    assert "Observation: 0\n  | 1\n  | 2" in joiner_prompt
    assert "structured_content" not in joiner_prompt


def test_a_held_task_shows_the_arguments_its_call_gets() -> None:
    plan = '1. shout(text="a b")\n2. word_count(text="$1")\njoin()'
    model = ScriptedChatModel(responses=planner_then_joiner(plan))
    app = create_llm_compiler(
        model, mcp_like_tools(), interrupt_before_tools=["word_count"], checkpointer=InMemorySaver()
    )
    config = {"configurable": {"thread_id": "held"}}
    paused = app.invoke({"messages": [("user", "Count.")]}, config)
    (action,) = paused["__interrupt__"][0].value["action_requests"]
    assert action["args"] == {"text": "A B"}  # the text, as the call gets it, not the artifact
    out = app.invoke(Command(resume={"decisions": [{"type": "approve"}]}), config)
    counted = [m for m in out["messages"] if isinstance(m, ToolMessage)][-1]
    assert counted.content[0]["text"] == "2"
