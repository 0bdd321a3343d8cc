"""Tools as the planner sees them: parameter specs for the parser, signatures for the prompt."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel

from llmcompiler_graph.planner.syntax import ToolSpec

__all__ = ["describe_tools", "tool_schema", "tool_spec"]

_JSON_TYPES = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "array": "list",
    "object": "dict",
    "null": "None",
}


def tool_schema(tool: BaseTool) -> dict[str, Any]:
    """Return the JSON schema of the arguments the model fills in (injected ones excluded)."""
    schema = tool.tool_call_schema
    if isinstance(schema, dict):
        return schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_json_schema()
    return {"properties": tool.args}


def tool_spec(tool: BaseTool) -> ToolSpec:
    """Describe a tool's parameters to the plan parser."""
    schema = tool_schema(tool)
    properties = schema.get("properties", {})
    text = frozenset(p for p, prop in properties.items() if _is_text(prop))
    return ToolSpec(tool.name, tuple(properties), frozenset(schema.get("required", ())), text)


def _is_text(prop: object) -> bool:
    """Tell whether a parameter's schema is plain text (``str``), which unquoted text can fill."""
    return isinstance(prop, dict) and prop.get("type") == "string"


def _type_name(prop: dict[str, Any]) -> str:
    if "enum" in prop and isinstance(prop["enum"], list):  # Literal / Enum: list the values
        return " | ".join(repr(v) for v in prop["enum"])
    if "const" in prop:
        return repr(prop["const"])
    for combinator in ("anyOf", "oneOf"):
        if isinstance(prop.get(combinator), list):
            return " | ".join(_type_name(p) for p in prop[combinator] if isinstance(p, dict))
    if isinstance(prop.get("allOf"), list) and len(prop["allOf"]) == 1:
        return _type_name(prop["allOf"][0])
    if isinstance(prop.get("$ref"), str):  # a nested model: its name
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    kind = prop.get("type")
    if isinstance(kind, list):
        return " | ".join(_JSON_TYPES.get(k, str(k)) for k in kind)
    if kind == "array" and isinstance(prop.get("items"), dict) and "type" in prop["items"]:
        return f"list[{_type_name(prop['items'])}]"
    return _JSON_TYPES.get(str(kind), str(kind)) if kind else "any"


def describe_tools(tools: list[BaseTool], start: int = 1) -> str:
    """Render numbered tool signatures with descriptions for the planner prompt."""
    lines = []
    for number, tool in enumerate(tools, start=start):
        schema = tool_schema(tool)
        required = set(schema.get("required", ()))
        params = []
        for name, prop in schema.get("properties", {}).items():
            text = f"{name}: {_type_name(prop)}"
            if name not in required:
                text += f" = {prop.get('default')!r}" if "default" in prop else " = None"
            params.append(text)
        description = " ".join((tool.description or "").split())
        lines.append(f"{number}. {tool.name}({', '.join(params)}): {description}")
    return "\n".join(lines)
