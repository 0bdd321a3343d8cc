"""The syntax of one plan step: ``tool_name(arg, key=value)`` with literal arguments.

Arguments are parsed with :mod:`ast` into plain values; nothing is evaluated. ``$N`` and
``${N}`` written outside quotes are read as the strings ``"$N"`` / ``"${N}"``. What a model
writes that is not quite Python (curly quotes, ``arg: value``, JSON, plain text) is repaired
by :mod:`.arguments` before an error is given; every error says how to write the call instead.

:class:`CallScanner` follows brackets and strings as a call streams, so the parser knows the
moment a call's closing ``)`` arrives (a ``)`` inside a string or a nested call is not it).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["CallScanner", "ToolSpec", "ends_in_string", "open_state"]

_CLOSERS = {
    '"""': ('"""',),
    "'''": ("'''",),
    '"': ('"',),
    "'": ("'",),
    "\u201c": ("\u201d", '"'),  # curly double quotes (or mixed with a straight one)
    "\u2018": ("\u2019", "'"),  # curly single quotes
}

_STRING_STOPS = {q: {"\\", "\n", *(c[0] for c in closers)} for q, closers in _CLOSERS.items()}
_STRING_STOP_RE = {
    q: re.compile("[" + re.escape("".join(sorted(stops))) + "]")
    for q, stops in _STRING_STOPS.items()
}


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """What the parser needs to know of a tool.

    Attributes:
        name: The tool's name.
        params: Its parameters in order.
        required: The parameters without a default.
        text: The parameters typed as plain text (``str``); a tool whose one required
            parameter is text accepts an unquoted argument as that text (the paper's habit).

    """

    name: str
    params: tuple[str, ...]
    required: frozenset[str] = frozenset()
    text: frozenset[str] = frozenset()

    def example(self) -> str:
        """Return a call in the plan format, to quote in error messages: ``search(query="...")``."""
        shown = [p for p in self.params if p in self.required] or list(self.params[:1])
        parts = [f'{p}="..."' if p in self.text else f"{p}=..." for p in shown]
        return f"{self.name}({', '.join(parts)})"

    @property
    def takes_text(self) -> str | None:
        """Return the parameter unquoted text goes to, or ``None`` when there is no such one."""
        required = [p for p in self.params if p in self.required]
        if len(required) == 1 and required[0] in self.text:
            return required[0]
        if not required and len(self.params) == 1 and self.params[0] in self.text:
            return self.params[0]
        return None


class CallScanner:
    """Follow a call's brackets, strings and comments as its text arrives, in any chunks.

    Create it just after the call's opening ``(``; :meth:`feed` returns where the matching
    ``)`` is once it has arrived. A quote or backslash at the end of a chunk waits for the
    next characters (``""`` may become ``\"\"\"``), so the answer never depends on chunking.
    """

    def __init__(self) -> None:
        """Start inside the call: one bracket open."""
        self.depth = 1
        self.quote: str | None = None  # the opening delimiter of the string we are in
        self.comment = False
        self.broken = False  # a one-line string reached the end of its line: never closes
        self._held = ""

    @property
    def in_string(self) -> bool:
        """Tell whether the text so far ends inside a string literal."""
        return self.quote is not None

    def feed(self, text: str, *, final: bool = False) -> int | None:
        """Scan ``text``; return the index just past the closing ``)`` in it, or ``None``.

        Args:
            text: The next characters of the call.
            final: No more text follows (nothing is held back for lookahead).

        """
        held, buf = len(self._held), self._held + text
        self._held = ""
        i, n = 0, len(buf)
        while i < n:
            ch = buf[i]
            if self.comment:
                newline = buf.find("\n", i)
                if newline < 0:
                    i = n
                else:
                    self.comment, i = False, newline + 1
            elif self.quote is not None:
                if ch not in _STRING_STOPS[self.quote]:  # plain text: jump to the next stop
                    found = _STRING_STOP_RE[self.quote].search(buf, i)
                    i = n if found is None else found.start()
                    continue
                if ch == "\\":
                    if i + 1 >= n and not final:
                        break
                    i += 2
                    continue
                closers = _CLOSERS[self.quote]
                closer = next((c for c in closers if buf.startswith(c, i)), None)
                if closer is None and not final and any(c.startswith(buf[i:]) for c in closers):
                    break  # the end of the text may be the start of the closing quotes
                if closer is not None:
                    self.quote, i = None, i + len(closer)
                elif ch == "\n" and len(self.quote) == 1:
                    self.quote, self.broken = None, True
                    i += 1
                else:
                    i += 1
            elif ch in "\"'":
                ahead = buf[i : i + 3]
                if len(ahead) < 3 and not final and ahead == ch * len(ahead):
                    break  # "" or " at the end: wait to see if it is a triple quote
                self.quote = ch * 3 if ahead == ch * 3 else ch
                i += len(self.quote)
            elif ch in "\u201c\u2018":
                self.quote, i = ch, i + 1
            else:
                if ch == "#":
                    self.comment = True
                elif ch in "([{":
                    self.depth += 1
                elif ch in ")]}":
                    self.depth -= 1
                    if self.depth == 0:
                        return i + 1 - held
                i += 1
        self._held = buf[i:]
        return None


def open_state(call: str) -> Literal["string", "bracket"] | None:
    """Tell why a call (from its name on) continues on the next line.

    Returns ``"string"`` inside a triple-quoted string, ``"bracket"`` while a bracket is
    open, ``None`` when the call is complete or can never be completed (a one-line string
    left open cannot be closed on a later line).
    """
    start = call.find("(")
    if start < 0:
        return None
    scanner = CallScanner()
    if scanner.feed(call[start + 1 :], final=True) is not None or scanner.broken:
        return None
    if scanner.quote is not None:
        return "string" if len(scanner.quote) == 3 else None
    return "bracket"


def ends_in_string(call: str) -> bool:
    """Tell whether a call's text (from its name on) ends inside an open string literal."""
    start = call.find("(")
    if start < 0:
        return False
    scanner = CallScanner()
    return scanner.feed(call[start + 1 :], final=True) is None and scanner.in_string


def literal(node: ast.expr, where: str) -> object:
    """Convert a literal node: constants, containers, signed numbers, JSON's true/false/null.

    Raises:
        ValueError: For anything that is not a literal, naming ``where``.

    """
    if isinstance(node, ast.Constant) and not isinstance(node.value, bytes | type(Ellipsis)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = literal(node.operand, where)
        if isinstance(value, int | float | complex) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [literal(item, where) for item in node.elts]  # sets too: JSON has no sets
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise ValueError(f"{where}: ** inside a dict is not supported")
        return {
            _hashable(literal(k, where), where): literal(v, where)
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


_JSON_NAMES = {"true": True, "false": False, "null": None, "none": None}


def _hashable(key: object, where: str) -> object:
    try:
        hash(key)
    except TypeError:
        raise ValueError(f"{where}: dict keys must be strings or numbers") from None
    return key
