"""Plans as models write them: which lines are calls, and which tool a call names.

A plan line is a call when, after the decorations chat models add, it reads
``N. tool_name(...)``; an unnumbered line is a call when it starts with a tool's name
(or ``join``) directly followed by ``(``. Accepted around the call (:data:`HEAD`):

* markdown bullets (``-``, ``*``, ``+``, ``•``), bold or italic stars, backticks, ``>``;
* numbers written ``3.``, ``3)``, ``3:``, ``**3.**``, ``Step 3:`` or ``Task 3:``;
* anything after the call's closing ``)``: trailing commentary (``# ...``, `` - ...``),
  closing stars or backticks. A task starts the moment its ``)`` arrives.

How the arguments between the parentheses are read is in :mod:`.arguments`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from llmcompiler_graph.planner.syntax import ToolSpec

__all__ = ["HEAD", "Head", "match_head", "resolve_tool", "uncallable_name"]

_NUMBER = (
    r"(?:(?:step|task)\s*\#?(?P<step>\d+)[*_\s]*[.:)\-]"  # Step 3:  Task 3.  step 3 -
    r"|\#?(?P<num>\d+)[*_\s]*[.:)](?!\d))"  # 3.  3)  3:  **3.**  (not 3.5)
)
_DECOR = r"^[\s>]*(?:[-*+\u2022]\s+)?[*`\s]*"  # indentation, a bullet, ** or ` before the call
HEAD = re.compile(_DECOR + _NUMBER + r"?[*`\s]*(?P<name>[A-Za-z_][\w.]*)[*`]*(?P<gap>\s*)\($", re.I)
"""A call's head, matched on the line up to its first ``(``."""
NUMBERED = re.compile(_DECOR + _NUMBER, re.I)
"""A numbered line, call or not (a numbered line that is no call is an error task)."""


@dataclass(frozen=True, slots=True)
class Head:
    """The start of a call line: its number as written (``None`` if unnumbered) and name."""

    number: int | None
    name: str
    end: int  # index just past the call's opening "("
    spaced: bool  # whitespace between the name and "("


def match_head(line: str) -> Head | None:
    """Return the call head of ``line`` if it has one (see :data:`HEAD`)."""
    paren = line.find("(")
    if paren < 0 or (match := HEAD.match(line, 0, paren + 1)) is None:
        return None
    number = match.group("step") or match.group("num")
    return Head(int(number) if number else None, match.group("name"), paren + 1, bool(match["gap"]))


def resolve_tool(name: str, tools: Mapping[str, ToolSpec]) -> str | None:
    """Return the tool ``name`` means: exactly that name, else the one equal ignoring case."""
    if name in tools:
        return name
    same = [t for t in tools if t.lower() == name.lower()]
    return same[0] if len(same) == 1 else None


_CALLABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def uncallable_name(name: str) -> str | None:
    """Say why a plan could never call a tool named ``name`` (with a fix), or ``None``."""
    if name.lower() == "join":
        return (
            f"the plan format reserves {name!r} (join() ends a plan); rename it, e.g. 'join_data'"
        )
    if _CALLABLE.fullmatch(name) is None:
        fixed = re.sub(r"\W+", "_", name.strip()).strip("_") or "tool"
        fixed = f"tool_{fixed}" if fixed[0].isdigit() else fixed
        return (
            f"a plan cannot call {name!r}: names are letters, digits and _ (dotted parts "
            f"allowed) and do not start with a digit; rename it, e.g. {fixed!r}"
        )
    return None
