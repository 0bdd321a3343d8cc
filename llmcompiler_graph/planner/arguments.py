"""How a plan line's arguments are read: :mod:`ast` after safe normalisations, then repairs.

The arguments (the text between a call's parentheses) are read with :mod:`ast` after the
normalisations in :data:`NORMALISE` (always safe: they change nothing a valid call means);
when that fails, the repairs in :data:`REPAIRS` are tried in order, and a tool whose one
required parameter is text takes the plain text between the parentheses, as the LLMCompiler
paper's parser does (``search(Rosetta)``). Only then is the line an error, which says how to
write it. Quoted strings without escapes, the common case, are read without compiling into
the node :mod:`ast` would build (:func:`_simple_call`). Which lines are calls is decided in
:mod:`.lenient`.
"""

from __future__ import annotations

import ast
import keyword
import re
from collections.abc import Callable

from llmcompiler_graph.planner.syntax import ToolSpec, literal

__all__ = ["NORMALISE", "REPAIRS", "parse_call"]

_KEYWORD_ARG = re.compile(rf"(?<![\w.])({'|'.join(keyword.kwlist)})(\s*)=(?!=)")
_KW_PREFIX = "__kw_"
_KEYWORD_START = re.compile(r"\s*[A-Za-z_]\w*\s*=(?!=)")  # name=...: keywords, never plain text
_REFERENCE = re.compile(r"\$\{\d+\}|\$\d+")
_COLON_ARG = re.compile(r"""(?:^|(?<=[(,]))(\s*)["']?([A-Za-z_]\w*)["']?\s*:(?![=:])""")


def _code_only(fix: Callable[[str], str]) -> Callable[[str], str]:
    """Apply ``fix`` to the text between string literals, never inside one."""

    def apply(source: str) -> str:
        return "".join(text if quoted else fix(text) for text, quoted in _segments(source))

    apply.__doc__ = fix.__doc__
    return apply


@_code_only
def strip_backticks(code: str) -> str:
    """Backticks around a call or an argument (markdown) mean nothing in Python: drop them."""
    return code.replace("`", "")


@_code_only
def quote_references(code: str) -> str:
    """``$N`` / ``${N}`` written outside quotes is the reference, as a string."""
    return _REFERENCE.sub(lambda m: f'"{m.group(0)}"', code)


@_code_only
def keyword_names(code: str) -> str:
    """Rename an argument named like a Python keyword (``class="x"``) for ast (and back)."""
    return _KEYWORD_ARG.sub(rf"{_KW_PREFIX}\1\2=", code)


def straight_quotes(source: str) -> str:
    """Make curly quotes that delimit a string (U+201C/U+201D, U+2018/U+2019) straight."""
    out = []
    for text, quoted in _segments(source):
        if quoted and text[0] in "\u201c\u2018":
            end = 1 if text[-1] in "\u201d\u2019\"'" and len(text) > 1 else 0
            inner = text[1 : len(text) - end]
            out.append('"' + inner.replace("\\", "\\\\").replace('"', '\\"') + '"')
        else:
            out.append(text)
    return "".join(out)


def colon_arguments(source: str) -> str:
    """``arg: value`` and JSON's ``"arg": value`` mean ``arg=value``."""
    return _COLON_ARG.sub(r"\1\2=", source)


NORMALISE: tuple[Callable[[str], str], ...] = (
    straight_quotes,
    strip_backticks,
    quote_references,
    keyword_names,
)
"""Applied to every call's arguments, in order."""
_CHANGES: dict[Callable[[str], str], Callable[[str], object]] = {
    straight_quotes: lambda s: "\u201c" in s or "\u2018" in s,
    strip_backticks: lambda s: "`" in s,
    quote_references: lambda s: "$" in s,
    keyword_names: _KEYWORD_ARG.search,
}
"""For a normaliser, a quick test that is false whenever it would return its input unchanged."""
REPAIRS: tuple[Callable[[str], str], ...] = (colon_arguments,)
"""Tried in order when the normalised arguments do not parse."""


def parse_call(spec: ToolSpec, body: str, *, plain_text: bool = True) -> dict[str, object]:
    """Read the arguments ``body`` (the text between the parentheses) of a call to ``spec``.

    ``plain_text=False`` (a call that was never closed) refuses the plain-text reading.

    Raises:
        ValueError: Saying what is wrong and how to write the call instead.

    """
    source = body
    for normalise in NORMALISE:
        needed = _CHANGES.get(normalise)
        if needed is None or needed(source):  # each pass scans the text: skip a no-op
            source = normalise(source)
    call, problem = _parse(source)
    for repair in REPAIRS:
        if call is None:
            call, _ = _parse(repair(source))
    plain = plain_text and _KEYWORD_START.match(body) is None
    text_param = spec.takes_text if plain else None
    if call is None:
        if text_param is not None and body.strip():
            return {text_param: _plain(body)}
        raise ValueError(f"could not parse the arguments ({problem}); write {spec.example()}")
    try:
        return _bind(spec, call)
    except _NotLiteral as exc:
        if text_param is not None and not call.keywords:
            return {text_param: _plain(body)}
        raise ValueError(f"{exc}; write {spec.example()}") from None
    except ValueError as exc:
        raise ValueError(f"{exc}; write {spec.example()}") from None


class _NotLiteral(ValueError):
    """A positional argument that is no literal: plain text, for a tool that takes text."""


def _parse(source: str) -> tuple[ast.Call | None, str]:
    if (simple := _simple_call(source)) is not None:
        return simple, ""
    try:
        node = ast.parse(f"_({source}\n)", mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        message = exc.msg if isinstance(exc, SyntaxError) and exc.msg else type(exc).__name__
        return None, message
    if not isinstance(node, ast.Call):  # e.g. "x) or (y": not one argument list
        return None, "not one argument list"
    return node, ""


_WS = r"[ \t\n]*"  # what Python's tokenizer skips between arguments (no \r, \f, NBSP)
_PLAIN = r"\\\n\r\x00\ud800-\udfff"  # no escape, line end, NUL or lone surrogate (ast refuses)
_STRING = rf"""("[^"{_PLAIN}]*"|'[^'{_PLAIN}]*')"""
_SIMPLE_ARG = re.compile(rf"{_WS}(?:([A-Za-z_][A-Za-z0-9_]*){_WS}={_WS})?{_STRING}{_WS}(,|\Z)")


def _simple_call(source: str) -> ast.Call | None:
    """Return the call ``ast`` would read from quoted strings without escapes, else ``None``.

    Most calls are ``tool("text")`` or ``tool(name="text", ...)``: this reads them with one
    regular expression, the node :mod:`ast` would build (tests compare the two). Compiling
    is most of what it costs to read a call at its ``)``, on its way to the tool.
    Anything else (escapes, numbers, a name repeated or a keyword, positional after named)
    is left to :mod:`ast`.
    """
    args: list[ast.expr] = []
    keywords: list[ast.keyword] = []
    position = 0
    while True:
        match = _SIMPLE_ARG.match(source, position)
        if match is None:
            return None
        name, text, comma = match.groups()
        value = ast.Constant(text[1:-1])
        if name is None:
            if keywords:
                return None
            args.append(value)
        elif keyword.iskeyword(name) or any(k.arg == name for k in keywords):
            return None
        else:
            keywords.append(ast.keyword(name, value))
        position = match.end()
        if not comma or not source[position:].strip(" \t\n"):  # the end, or a trailing comma
            break
    return ast.Call(ast.Name("_", ast.Load()), args, keywords)


def _bind(spec: ToolSpec, call: ast.Call) -> dict[str, object]:
    where, listed = f"tool '{spec.name}'", ", ".join(spec.params) or "none"
    positional, keywords = list(call.args), [(k.arg, k.value) for k in call.keywords]
    if len(positional) == 1 and not keywords and (spread := _json_object(spec, positional[0])):
        positional, keywords = [], spread  # tool({"arg": value}): the arguments as JSON
    if any(isinstance(a, ast.Starred) for a in positional):
        raise ValueError(f"{where}: *args are not supported; name each argument")
    if len(positional) > len(spec.params):
        raise ValueError(
            f"{where} takes {len(spec.params)} argument(s) ({listed}), "
            f"got {len(positional)} positional"
        )
    args: dict[str, object] = {}
    for param, node in zip(spec.params, positional, strict=False):
        try:
            args[param] = literal(node, f"argument '{param}'")
        except ValueError as exc:
            raise _NotLiteral(str(exc)) from None
    for name, node in keywords:
        if name is None:
            raise ValueError(f"{where}: **kwargs are not supported; name each argument")
        name = name.removeprefix(_KW_PREFIX)
        if name not in spec.params:
            raise ValueError(f"{where} has no argument '{name}'; its arguments are: {listed}")
        if name in args:
            raise ValueError(f"{where} got argument '{name}' twice")
        args[name] = literal(node, f"argument '{name}'")
    missing = [p for p in spec.params if p in spec.required and p not in args]
    if missing:
        raise ValueError(f"{where} is missing required argument(s): {', '.join(missing)}")
    return args


def _json_object(spec: ToolSpec, node: ast.expr) -> list[tuple[str | None, ast.expr]]:
    """Return the keys and values of ``{"arg": value, ...}`` naming only the tool's parameters."""
    if not isinstance(node, ast.Dict) or not node.keys:
        return []
    keys = [k.value if isinstance(k, ast.Constant) else None for k in node.keys]
    if not all(isinstance(k, str) and k in spec.params for k in keys):
        return []
    return [(str(k), v) for k, v in zip(keys, node.values, strict=True)]


def _plain(body: str) -> str:
    """Return the text between the parentheses, as the paper's parser passes it (trimmed)."""
    text = body.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1]  # one string whose quoting broke, such as 'Arthur's Magazine'
    return text


def _segments(source: str) -> list[tuple[str, bool]]:
    """Split ``source`` into code and string literals (straight or curly quotes)."""
    out: list[tuple[str, bool]] = []
    i = start = 0
    n = len(source)
    while i < n:
        ch = source[i]
        if ch in "\"'\u201c\u2018":
            if i > start:
                out.append((source[start:i], False))
            end = _string_end(source, i)
            out.append((source[i:end], True))
            i = start = end
        else:
            i += 1
    if start < n:
        out.append((source[start:], False))
    return out


def _string_end(source: str, start: int) -> int:
    """Return the index just past the string literal opening at ``start``."""
    ch = source[start]
    closers = {"\u201c": '\u201d"', "\u2018": "\u2019'"}.get(ch)
    if closers is not None:
        ends = [j for j in (source.find(c, start + 1) for c in closers) if j >= 0]
        newline = source.find("\n", start)
        end = min(ends) + 1 if ends else len(source)
        return end if newline < 0 or end <= newline else newline
    quote = ch * 3 if source.startswith(ch * 3, start) else ch
    stops = _STOPS[ch]
    i = start + len(quote)
    while (found := stops.search(source, i)) is not None:
        i = found.start()
        if source[i] == "\\":
            i += 2
        elif source.startswith(quote, i):
            return i + len(quote)
        elif len(quote) == 1 and source[i] == "\n":
            return i
        else:
            i += 1
    return len(source)


_STOPS = {q: re.compile(f"[\\\\\n{q}]") for q in "\"'"}
