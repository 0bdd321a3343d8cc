"""What an exact ``"$N"`` passes to the parameter that receives it, for results with two faces.

Some results have a text and a value that differ: a ``content_and_artifact`` tool's
content and artifact, a tool's own ``ToolMessage`` with an artifact, and MCP tools (loaded
with ``langchain-mcp-adapters``), whose content is a list of content blocks and whose
artifact is ``{"structured_content": {...}}``. Such a result is an :class:`Artifact`; an
argument that is exactly ``"$N"`` receives the face the receiving parameter's JSON schema
accepts:

* a text parameter (``str``) receives the text, unless the value already is a string;
* any other typed parameter (a number, a list, an object) receives the value: for MCP,
  the structured content, without FastMCP's ``{"result": ...}`` wrapper of a non-object
  return value when the wrapped value is what the parameter takes; for a result with no
  value (an MCP tool without structured content), its text read as JSON when it is;
* an untyped parameter (``Any``) receives the value (MCP: unwrapped), else the text.

Inside a longer string ``$N`` is always the text (see :mod:`llmcompiler_graph.planner.references`).
A ``"$N"`` inside a list or an object argument follows the item's or the property's schema.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Artifact", "fit_arguments", "holds_artifact", "structured_candidates"]

_MCP_KEY = "structured_content"  # langchain-mcp-adapters' MCPToolArtifact
_WRAPPER_KEY = "result"  # FastMCP's (and MCP's Python SDK's) wrapper of a non-object value
_MAX_DEPTH = 32  # a schema's $ref chain deeper than this is treated as untyped


@dataclass(frozen=True)
class Artifact:
    """A result whose text (its message's content) is not the object an exact ``"$N"`` gets.

    ``value`` is ``None`` when the tool made no artifact (an MCP tool without structured
    content): then the text is all there is.
    """

    value: object
    text: str

    def __str__(self) -> str:
        """Return the text (what ``$N`` inside text receives)."""
        return self.text


def fit_arguments(args: Mapping[str, Any], schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """Replace each :class:`Artifact` in ``args`` by the face its parameter accepts.

    Args:
        args: A call's keyword arguments after ``$N`` substitution.
        schema: The JSON schema of the tool's arguments (``None``: untyped).

    """
    root = schema if isinstance(schema, Mapping) else {}
    properties = _properties(root)
    return {name: _fit(value, properties.get(name), root) for name, value in args.items()}


def structured_candidates(artifact: Artifact) -> list[object]:
    """Return the values ``artifact`` stands for, the most specific first.

    For MCP's ``{"structured_content": {"result": X}}`` that is ``[X, {"result": X}]``; for
    other artifacts, the artifact itself; with no artifact, nothing.
    """
    value = artifact.value
    if value is None:
        return []
    if isinstance(value, Mapping) and set(value) == {_MCP_KEY}:
        content = value[_MCP_KEY]
        if isinstance(content, Mapping) and set(content) == {_WRAPPER_KEY}:
            return [content[_WRAPPER_KEY], content]
        return [content]
    return [value]


def _fit(value: object, schema: object, root: Mapping[str, Any]) -> object:
    if isinstance(value, Artifact):
        return _face(value, _types(schema, root))
    if isinstance(value, list | tuple) and any(holds_artifact(v) for v in value):
        items = _resolved(schema, root, "array").get("items")
        return type(value)(_fit(v, items, root) for v in value)
    if isinstance(value, Mapping) and any(holds_artifact(v) for v in value.values()):
        resolved = _resolved(schema, root, "object")
        properties = _properties(resolved)
        extra = resolved.get("additionalProperties")
        return {k: _fit(v, properties.get(k, extra), root) for k, v in value.items()}
    return value


def holds_artifact(value: object) -> bool:
    """Tell whether ``value`` is an :class:`Artifact` or holds one (in lists and dicts)."""
    if isinstance(value, Artifact):
        return True
    if isinstance(value, list | tuple):
        return any(holds_artifact(v) for v in value)
    if isinstance(value, Mapping):
        return any(holds_artifact(v) for v in value.values())
    return False


def _face(artifact: Artifact, types: frozenset[str] | None) -> object:
    candidates = structured_candidates(artifact)
    if types is None:  # untyped: the value, else the text
        return candidates[0] if candidates else artifact.text
    if not candidates and types - {"string", "null"}:  # no value: the text, if it is JSON
        try:
            candidates = [json.loads(artifact.text)]
        except ValueError:
            pass
    for candidate in candidates:
        if _matches(candidate, types):
            return candidate
    if "string" in types or not candidates:
        return artifact.text
    # Nothing fits: hand over the most specific value, so the tool's validation names it.
    return candidates[0]


def _matches(value: object, types: frozenset[str]) -> bool:
    if isinstance(value, bool):
        return "boolean" in types
    if isinstance(value, int):
        return bool(types & {"integer", "number"})
    if isinstance(value, float):
        return "number" in types
    if isinstance(value, str):
        return "string" in types
    if value is None:
        return "null" in types
    if isinstance(value, list | tuple):
        return "array" in types
    if isinstance(value, Mapping):
        return "object" in types
    return False


def _deref(schema: object, root: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Follow local ``$ref``s (``#/$defs/X``, ``#/definitions/X``); ``None`` if not a schema."""
    for _ in range(_MAX_DEPTH):
        if not isinstance(schema, Mapping):
            return None
        ref = schema.get("$ref")
        if not isinstance(ref, str):
            return schema
        if not ref.startswith("#/"):
            return None  # a remote reference: untyped
        target: object = root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, Mapping) else None
        schema = target
    return None


def _alternatives(schema: Mapping[str, Any], root: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Return the schemas a value may match (``anyOf``/``oneOf`` flattened, refs followed)."""
    found: list[Mapping[str, Any]] = []
    pending: list[object] = [schema]
    while pending and len(found) < _MAX_DEPTH:
        current = _deref(pending.pop(0), root)
        if current is None:
            continue
        branches = [b for key in ("anyOf", "oneOf") for b in current.get(key) or ()]
        branches += list(current.get("allOf") or ())[:1]  # the first constraint names the type
        if branches:
            pending.extend(branches)
        else:
            found.append(current)
    return found


def _types(schema: object, root: Mapping[str, Any]) -> frozenset[str] | None:
    """Return the JSON types ``schema`` accepts, or ``None`` for any value (no type given)."""
    resolved = _deref(schema, root)
    if resolved is None:
        return None
    types: set[str] = set()
    for alternative in _alternatives(resolved, root):
        kind = alternative.get("type")
        if isinstance(kind, str):
            types.add(kind)
        elif isinstance(kind, list):
            types.update(k for k in kind if isinstance(k, str))
        elif "properties" in alternative:
            types.add("object")
        elif "items" in alternative:
            types.add("array")
        elif "const" in alternative:
            types.add(_json_type(alternative["const"]))
        elif isinstance(alternative.get("enum"), list):
            types.update(_json_type(v) for v in alternative["enum"])
        else:
            return None  # one branch takes anything
    return frozenset(types) or None


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "array" if isinstance(value, list) else "object"


def _resolved(schema: object, root: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    """Return the branch of ``schema`` for a value of JSON type ``kind`` (``{}`` if none)."""
    resolved = _deref(schema, root)
    if resolved is None:
        return {}
    for alternative in _alternatives(resolved, root):
        declared = alternative.get("type")
        if declared == kind or (isinstance(declared, list) and kind in declared):
            return alternative
        if declared is None and ("properties" if kind == "object" else "items") in alternative:
            return alternative
    return {}


def _properties(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    properties = schema.get("properties")
    return properties if isinstance(properties, Mapping) else {}
