"""Tools built from JSON-schema function specs (``llmcompiler_graph.tools.jsonschema``)."""

from __future__ import annotations

from typing import Any

import pytest

from llmcompiler_graph.errors import FunctionSpecError
from llmcompiler_graph.planner.tool_specs import describe_tools, tool_spec
from llmcompiler_graph.tools.jsonschema import standard_schema, tool_from_spec, tools_from_specs

SPEC: dict[str, Any] = {
    "name": "travel.book",
    "description": "Book a trip.",
    "parameters": {
        "type": "dict",
        "properties": {
            "from": {"type": "string", "description": "Origin (a Python keyword as a name)."},
            "nights": {"type": "integer", "maximum": 30},
            "budget": {"type": "float"},
            "refundable": {"type": "boolean", "default": False},
            "stops": {"type": "array", "items": {"type": "string"}},
            "coords": {"type": "tuple", "items": {"type": "float"}},
            "cabin": {"type": "string", "enum": ["economy", "business"]},
            "traveller": {
                "type": "dict",
                "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                "required": ["name"],
            },
            "notes": {"type": "any"},
            "extras": {"type": "dict"},
        },
        "required": ["from", "nights"],
    },
}


def make() -> tuple[Any, list[dict[str, Any]]]:
    calls: list[dict[str, Any]] = []
    return tool_from_spec(SPEC, lambda args: calls.append(args) or "booked"), calls


def test_arguments_arrive_with_the_schema_types_and_original_names() -> None:
    tool, calls = make()
    result = tool.invoke(
        {
            "from": "Paris",
            "nights": "3",
            "budget": 900,
            "stops": ["Lyon"],
            "coords": [48, 2.35],
            "cabin": "business",
            "traveller": {"name": "Ada", "age": 36.0},
            "notes": {"anything": [1, None]},
            "extras": {"k": 1},
        }
    )
    assert result == "booked"
    (args,) = calls
    assert args == {
        "from": "Paris",
        "nights": 3,
        "budget": 900.0,
        "stops": ["Lyon"],
        "coords": [48.0, 2.35],
        "cabin": "business",
        "traveller": {"name": "Ada", "age": 36},
        "notes": {"anything": [1, None]},
        "extras": {"k": 1},
    }
    assert type(args["nights"]) is int and type(args["budget"]) is float
    assert all(type(c) is float for c in args["coords"])
    assert type(args["traveller"]) is dict and type(args["traveller"]["age"]) is int


def test_numbers_for_text_become_text() -> None:
    tool, calls = make()
    tool.invoke({"from": 10115, "nights": 2.0})
    assert calls == [{"from": "10115", "nights": 2}]


def test_absent_optional_arguments_stay_absent() -> None:
    tool, calls = make()
    tool.invoke({"from": "Oslo", "nights": 1})
    assert calls == [{"from": "Oslo", "nights": 1}]  # no defaults, no None fill-ins


@pytest.mark.parametrize(
    ("args", "names"),
    [
        ({"nights": 1}, ["from"]),
        ({"from": "A", "nights": 99}, ["nights"]),
        ({"from": "A", "nights": 1, "cabin": "first"}, ["cabin"]),
        ({"from": "A", "nights": 1, "traveller": {"age": 3}}, ["traveller.name"]),
        ({"from": "A", "nights": 1, "traveller": {"name": "x", "pet": "cat"}}, ["traveller.pet"]),
        ({"from": "A", "nights": 1, "stops": "Lyon"}, ["stops"]),
        ({"from": "A", "nights": "three"}, ["nights"]),
        ({"from": "A", "nights": 1, "surprise": 1}, ["surprise"]),
    ],
)
def test_bad_arguments_are_refused_naming_them(args: dict[str, Any], names: list[str]) -> None:
    tool, calls = make()
    with pytest.raises(ValueError, match=r"tool 'travel\.book' got invalid arguments") as info:
        tool.invoke(args)
    for name in names:
        assert f"{name}:" in str(info.value)
    assert calls == []


def test_the_planner_sees_standard_json_schema() -> None:
    tool, _ = make()
    schema = tool.tool_call_schema
    assert isinstance(schema, dict)
    props = schema["properties"]
    assert props["budget"]["type"] == "number"
    assert props["coords"]["type"] == "array"
    assert props["traveller"]["type"] == "object"
    assert "type" not in props["notes"]
    spec = tool_spec(tool)
    assert spec.params[:2] == ("from", "nights")
    assert spec.required == {"from", "nights"}
    text = describe_tools([tool])
    assert "travel.book(from: str, nights: int" in text and "budget: float" in text


def test_openai_format_and_one_handler_for_many_tools() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    specs = [
        {"type": "function", "function": {"name": "a.b", "parameters": {"type": "object"}}},
        {"name": "c", "parameters": {"type": "object", "properties": {"x": {"type": "number"}}}},
    ]
    first, second = tools_from_specs(specs, lambda name, args: seen.append((name, args)))
    first.invoke({})
    second.invoke({"x": 2})
    assert seen == [("a.b", {}), ("c", {"x": 2.0})]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"description": "no name"}, "needs a 'name'"),
        ({"name": "f", "parameters": {"properties": {"x": {"type": "decimal"}}}}, "f.x: unknown"),
        ({"name": "f", "parameters": {"properties": {"x": {"$ref": "#/x"}}}}, "f.x: \\$ref"),
        ({"name": "f", "parameters": "nope"}, "must be a JSON schema object"),
    ],
)
def test_unusable_specs_fail_when_built_naming_the_part(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(FunctionSpecError, match=message):
        tool_from_spec(spec, lambda args: None)


def test_required_names_missing_from_properties_are_required_with_any_value() -> None:
    # A slip that BFCL's own specs contain (waste_calculation.calculate.population).
    calls: list[dict[str, Any]] = []
    tool = tool_from_spec(
        {
            "name": "f",
            "parameters": {
                "type": "dict",
                "properties": {"p": {"type": "dict", "properties": {}, "required": ["a"]}},
            },
        },
        calls.append,
    )
    tool.invoke({"p": {"a": 1, "b": 2}})
    assert calls == [{"p": {"a": 1, "b": 2}}]
    with pytest.raises(ValueError, match=r"p\.a"):
        tool.invoke({"p": {"b": 2}})


def test_standard_schema_drops_bfcl_markers() -> None:
    out = standard_schema(
        {"type": "dict", "properties": {"x": {"type": "float", "optional": True}}}
    )
    assert out == {"type": "object", "properties": {"x": {"type": "number"}}}
