"""The syntax of one plan step: ``tool_name(arg, key=value)`` with literal arguments.

Arguments are parsed with :mod:`ast` into plain values; nothing is evaluated. ``$N`` and
``${N}`` written outside quotes are read as the strings ``"$N"`` / ``"${N}"``.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["ToolSpec", "ends_in_string", "open_state", "parse_call"]

_JSON_NAMES = {"true": True, "false": False, "null": None, "none": None}
_BARE_REFERENCE = re.compile(r"\$\{\d+\}|\$\d+")


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """What the parser needs to know of a tool: its parameters in order, and which are required."""

    name: str
    params: tuple[str, ...]
    required: frozenset[str] = frozenset()


def parse_call(body: str, tools: Mapping[str, ToolSpec]) -> tuple[str, dict[str, object]]:
    """Parse ``name(arg, key=value)`` into the tool name and keyword arguments.

    Positional arguments are mapped onto the tool's parameters in order.

    Raises:
        ValueError: Saying what is wrong and how to write it instead.

    """
    try:
        node = ast.parse(_quote_bare_references(body), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ValueError(
            f"could not parse the call ({_short(exc)}); write tool_name(arg=value, ...)"
        ) from None
    if not isinstance(node, ast.Call):
        raise ValueError('expected exactly one tool call, such as search(query="..."), on the line')
    name = _dotted_name(node.func)
    if name is None:
        raise ValueError("the tool name must be a plain or dotted name")
    spec = tools.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, list(tools), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else "."
        available = ", ".join(sorted(tools)) or "none"
        raise ValueError(f"unknown tool '{name}'{hint} Available tools: {available}")
    where = f"tool '{name}'"
    listed = ", ".join(spec.params) or "none"
    if len(node.args) > len(spec.params):
        raise ValueError(
            f"{where} takes {len(spec.params)} argument(s) ({listed}), "
            f"got {len(node.args)} positional"
        )
    args: dict[str, object] = {}
    for param, arg in zip(spec.params, node.args, strict=False):
        args[param] = _literal(arg, f"argument '{param}'")
    for keyword in node.keywords:
        if keyword.arg is None:
            raise ValueError(f"{where}: **kwargs are not supported; name each argument")
        if keyword.arg not in spec.params:
            raise ValueError(
                f"{where} has no argument '{keyword.arg}'; its arguments are: {listed}"
            )
        if keyword.arg in args:
            raise ValueError(f"{where} got argument '{keyword.arg}' twice")
        args[keyword.arg] = _literal(keyword.value, f"argument '{keyword.arg}'")
    missing = [p for p in spec.params if p in spec.required and p not in args]
    if missing:
        raise ValueError(f"{where} is missing required argument(s): {', '.join(missing)}")
    return name, args


def open_state(source: str) -> Literal["string", "bracket"] | None:
    """Tell why a call continues on the next line: ``"string"``, ``"bracket"`` or ``None``.

    Only an open triple-quoted string or an open bracket continues. A one-line string left
    open can never be closed on a later line, so the line is complete (and broken): ``None``.
    """
    depth, i, n = 0, 0, len(source)
    while i < n:
        ch = source[i]
        if ch in "\"'":
            end, closed = _string_end(source, i)
            if not closed:
                return "string" if source.startswith(ch * 3, i) else None
            i = end
            continue
        if ch == "#":  # a comment runs to the end of its line
            newline = source.find("\n", i)
            i = n if newline < 0 else newline
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        i += 1
    return "bracket" if depth > 0 else None


def ends_in_string(source: str) -> bool:
    """Tell whether ``source`` ends inside a string literal (one opened and not yet closed)."""
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch in "\"'":
            end, closed = _string_end(source, i)
            if not closed and end >= n:
                return True
            i = max(end, i + 1)
            continue
        if ch == "#":
            newline = source.find("\n", i)
            i = n if newline < 0 else newline
            continue
        i += 1
    return False


def _dotted_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _literal(node: ast.expr, where: str) -> object:
    """Convert a literal node: constants, containers, signed numbers, JSON's true/false/null."""
    if isinstance(node, ast.Constant) and not isinstance(node.value, bytes | type(Ellipsis)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _literal(node.operand, where)
        if isinstance(value, int | float | complex) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [_literal(item, where) for item in node.elts]  # sets too: JSON has no sets
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise ValueError(f"{where}: ** inside a dict is not supported")
        return {
            _hashable(_literal(k, where), where): _literal(v, where)
            for k, v in zip(node.keys, node.values, strict=True)
            if k is not None
        }
    if isinstance(node, ast.Name) and node.id.lower() in _JSON_NAMES:
        return _JSON_NAMES[node.id.lower()]
    if isinstance(node, ast.Name):
        raise ValueError(f'{where} is the bare name {node.id}; quote text, e.g. "{node.id}"')
    raise ValueError(
        f"{where} is not a literal ({type(node).__name__}); "
        "use strings, numbers, lists, dicts, True/False/None or $N references"
    )


def _hashable(key: object, where: str) -> object:
    try:
        hash(key)
    except TypeError:
        raise ValueError(f"{where}: dict keys must be strings or numbers") from None
    return key


def _quote_bare_references(source: str) -> str:
    """Wrap ``$N`` and ``${N}`` written outside string literals in quotes."""
    out: list[str] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch in "\"'":
            end, _ = _string_end(source, i)
            out.append(source[i:end])
            i = end
            continue
        if ch == "$" and (match := _BARE_REFERENCE.match(source, i)) is not None:
            out.append(f'"{match.group(0)}"')
            i = match.end()
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _string_end(source: str, start: int) -> tuple[int, bool]:
    """Return the index just past the string literal opening at ``start``, and if it closed."""
    quote = source[start] * 3 if source.startswith(source[start] * 3, start) else source[start]
    i = start + len(quote)
    while i < len(source):
        if source[i] == "\\":
            i += 2
            continue
        if source.startswith(quote, i):
            return i + len(quote), True
        if len(quote) == 1 and source[i] == "\n":
            return i, False
        i += 1
    return len(source), False


def _short(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError) and exc.msg:
        return exc.msg
    return type(exc).__name__
