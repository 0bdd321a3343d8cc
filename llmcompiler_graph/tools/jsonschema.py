"""Build LangChain tools from JSON-schema function specs (OpenAI, BFCL and similar).

A function spec is ``{"name", "description", "parameters"}`` (or OpenAI's
``{"type": "function", "function": {...}}``) whose ``parameters`` is a JSON schema. The
Berkeley Function Calling Leaderboard writes some types its own way; both spellings work:

====================  ===========================  ==========================================
schema type           Python type the tool gets    notes
====================  ===========================  ==========================================
``string``            ``str``                      ``enum`` becomes a ``Literal``
``integer``           ``int``
``number``/``float``  ``float``                    ``5`` arrives as ``5.0``
``boolean``           ``bool``
``array``/``tuple``   ``list[items]``              a tuple is a list, as in JSON and BFCL
``object``/``dict``   ``dict``                     with ``properties``: those keys, checked
``any`` or none       any value
====================  ===========================  ==========================================

Arguments are validated with pydantic in lax mode (``"5"`` becomes ``5`` for an integer,
a number becomes text for a string). The handler receives only the arguments the call
gave (absent optional ones stay absent; defaults are documentation for the model), under
their original names, so names that are Python keywords (``from``) or tool names with
dots (``math_toolkit.sum_of_multiples``) work. No code is generated or evaluated: the
types are built with :func:`typing_extensions.TypedDict` and checked by
:class:`pydantic.TypeAdapter` (no library converts BFCL's type names, so the mapping is
written here).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, NotRequired, Required, Union, cast

import annotated_types
from langchain_core.callbacks import CallbackManagerForToolRun
from langchain_core.tools import BaseTool
from pydantic import ConfigDict, Field, PrivateAttr, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from llmcompiler_graph.errors import FunctionSpecError

__all__ = [
    "JsonSchemaTool",
    "arguments_type",
    "python_type",
    "standard_schema",
    "tool_from_spec",
    "tools_from_specs",
]

Handler = Callable[[dict[str, Any]], object]

_SCALARS: dict[str, type] = {
    "string": str,
    "str": str,
    "integer": int,
    "int": int,
    "number": float,
    "float": float,
    "double": float,
    "boolean": bool,
    "bool": bool,
    "null": type(None),
}
_ARRAYS = {"array", "tuple", "list"}
_OBJECTS = {"object", "dict"}
_ANY = {"any", ""}
_STANDARD = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "double": "number",
    "bool": "boolean",
    "tuple": "array",
    "list": "array",
    "dict": "object",
}
_CLOSED = ConfigDict(extra="forbid", coerce_numbers_to_str=True)
_OPEN = ConfigDict(extra="allow", coerce_numbers_to_str=True)


def python_type(schema: Mapping[str, Any], where: str = "parameters") -> Any:
    """Return the Python type (annotation) that values of ``schema`` are validated as.

    Raises:
        FunctionSpecError: For an unknown type name or a ``$ref`` (inline the definition).

    """
    if not isinstance(schema, Mapping):
        raise FunctionSpecError(f"{where}: a schema must be an object, got {schema!r}")
    if "$ref" in schema:
        raise FunctionSpecError(f"{where}: $ref is not supported; inline the referenced schema")
    if "enum" in schema and isinstance(schema["enum"], list) and schema["enum"]:
        return Literal[tuple(schema["enum"])]
    for union_key in ("anyOf", "oneOf"):
        if isinstance(schema.get(union_key), list):
            options = [python_type(s, f"{where}.{union_key}") for s in schema[union_key]]
            return _union(options)
    kind = schema.get("type", "")
    if isinstance(kind, list):
        return _union([python_type({**schema, "type": k}, where) for k in kind])
    if not isinstance(kind, str):
        raise FunctionSpecError(f"{where}: 'type' must be a string or a list, got {kind!r}")
    kind = kind.lower()
    if kind in _SCALARS:
        return _bounded(_SCALARS[kind], schema)
    if kind in _ARRAYS:
        items = schema.get("items")
        item = python_type(items, f"{where}[]") if isinstance(items, Mapping) else Any
        return list[item]  # type: ignore[valid-type]
    if kind in _OBJECTS:
        if schema.get("properties") or schema.get("required"):
            return arguments_type(schema, where)
        return dict[str, Any]
    if kind in _ANY:
        return Any
    raise FunctionSpecError(
        f"{where}: unknown type {kind!r}; use one of string, integer, number/float, boolean, "
        "array/tuple, object/dict, any"
    )


def arguments_type(parameters: Mapping[str, Any], where: str = "parameters") -> type:
    """Return a ``TypedDict`` for an object schema: its properties, required ones required.

    Keys outside ``properties`` are refused unless ``additionalProperties`` allows them or
    no properties are declared. A required name missing from ``properties`` (a common slip
    in hand-written specs) is required with any value.
    """
    properties = parameters.get("properties") or {}
    if not isinstance(properties, Mapping):
        raise FunctionSpecError(f"{where}: 'properties' must be an object")
    required = [str(r) for r in parameters.get("required") or ()]
    fields: dict[str, Any] = {}
    for key, sub in properties.items():
        annotation = python_type(sub, f"{where}.{key}")
        fields[str(key)] = Required[annotation] if key in required else NotRequired[annotation]
    for key in required:
        fields.setdefault(key, Required[Any])
    closed = bool(properties) and not parameters.get("additionalProperties")
    typed = TypedDict(_type_name(where), fields)  # type: ignore[misc]
    return cast(type, with_config(_CLOSED if closed else _OPEN)(typed))


def standard_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``schema`` in standard JSON Schema spelling (``dict`` -> ``object``, ...)."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, str):
            name = value.lower()
            if name in _ANY:
                continue
            out[key] = _STANDARD.get(name, name)
        elif key == "type" and isinstance(value, list):
            out[key] = [_STANDARD.get(str(v).lower(), v) for v in value]
        elif key == "properties" and isinstance(value, Mapping):
            out[key] = {k: standard_schema(v) for k, v in value.items() if isinstance(v, Mapping)}
        elif key == "items" and isinstance(value, Mapping):
            out[key] = standard_schema(value)
        elif key in ("anyOf", "oneOf") and isinstance(value, list):
            out[key] = [standard_schema(v) for v in value if isinstance(v, Mapping)]
        elif key != "optional":  # BFCL's own marker; `required` says the same in JSON Schema
            out[key] = value
    if out.get("type") == "object":
        out.setdefault("properties", {})
    return out


class JsonSchemaTool(BaseTool):
    """A tool defined by a JSON schema; validated arguments go to ``handler`` as one dict."""

    args_schema: dict[str, Any]
    handler: Handler = Field(exclude=True)
    _adapter: TypeAdapter[dict[str, Any]] = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        """Build the validator for the arguments."""
        super().model_post_init(context)
        self._adapter = TypeAdapter(arguments_type(self.args_schema, self.name))

    def validate_arguments(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``arguments`` checked and converted to the schema's Python types.

        Raises:
            ValueError: Naming the tool and each argument that does not fit.

        """
        try:
            return self._adapter.validate_python(dict(arguments))
        except ValidationError as exc:
            errors = exc.errors()
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
                for err in errors[:5]
            ) + (f"; and {len(errors) - 5} more" if len(errors) > 5 else "")
            raise ValueError(f"tool '{self.name}' got invalid arguments: {problems}") from None

    def _to_args_and_kwargs(
        self, tool_input: str | dict[str, Any], tool_call_id: str | None
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        if not isinstance(tool_input, dict):
            raise ValueError(
                f"tool '{self.name}' takes keyword arguments as a dict, "
                f"got {type(tool_input).__name__}"
            )
        return (self.validate_arguments(tool_input),), {}

    def _run(
        self, arguments: dict[str, Any], run_manager: CallbackManagerForToolRun | None = None
    ) -> object:
        return self.handler(arguments)


def tool_from_spec(spec: Mapping[str, Any], handler: Handler) -> JsonSchemaTool:
    """Build one tool from a function spec; ``handler(arguments)`` does the work.

    Raises:
        FunctionSpecError: For a spec without a name or with a schema that cannot be mapped.

    """
    function = spec.get("function") if spec.get("type") == "function" else spec
    if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
        raise FunctionSpecError(f"a function spec needs a 'name'; got keys {sorted(spec)}")
    name = function["name"]
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    if not isinstance(parameters, Mapping):
        raise FunctionSpecError(f"function '{name}': 'parameters' must be a JSON schema object")
    schema = standard_schema({**parameters, "type": "object"})
    arguments_type(schema, name)  # fail now, naming the part, rather than on first call
    return JsonSchemaTool(
        name=name,
        description=str(function.get("description") or name),
        args_schema=schema,
        handler=handler,
    )


def tools_from_specs(
    specs: Sequence[Mapping[str, Any]], handler: Callable[[str, dict[str, Any]], object]
) -> list[JsonSchemaTool]:
    """Build a tool per spec; ``handler(tool_name, arguments)`` serves them all."""

    def bind(name: str) -> Handler:
        return lambda arguments: handler(name, arguments)

    tools = []
    for spec in specs:
        function = spec.get("function") if spec.get("type") == "function" else spec
        name = str(function.get("name")) if isinstance(function, Mapping) else ""
        tools.append(tool_from_spec(spec, bind(name)))
    return tools


def _union(options: list[Any]) -> Any:
    return Union[tuple(options)] if options else Any  # noqa: UP007 - built at run time


def _bounded(base: type, schema: Mapping[str, Any]) -> Any:
    if base is bool or base is str or base is type(None):
        return base
    bounds = [
        bound(schema[key])
        for key, bound in (
            ("minimum", annotated_types.Ge),
            ("maximum", annotated_types.Le),
            ("exclusiveMinimum", annotated_types.Gt),
            ("exclusiveMaximum", annotated_types.Lt),
        )
        if isinstance(schema.get(key), int | float) and not isinstance(schema.get(key), bool)
    ]
    return Annotated[(base, *bounds)] if bounds else base


def _type_name(where: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else "_" for ch in where).strip("_")
    return f"Args_{cleaned or 'tool'}"
