"""The joiner's decision: read ``Finish(answer)`` or ``Replan(feedback)`` out of its reply."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Decision", "parse_decision"]

# An action line: "Action: Finish(", "**Action:** Replan(". Bare "Finish(" at the start of a
# line counts only when no line has the "Action:" label; "Action: Finish(" inside a line
# only when neither exists.
_LABELLED_LINE = re.compile(
    r"^[ \t*]*Action[ \t*]*:[ \t*]*(Finish|Replan)[ \t]*\(", re.IGNORECASE | re.MULTILINE
)
_BARE_LINE = re.compile(r"^[ \t*]*(Finish|Replan)[ \t]*\(", re.IGNORECASE | re.MULTILINE)
_ACTION_ANYWHERE = re.compile(r"Action[ \t*]*:[ \t*]*(Finish|Replan)[ \t]*\(", re.IGNORECASE)
_THOUGHT = re.compile(r"Thought[ \t*]*:[ \t*]*(.*)", re.IGNORECASE | re.DOTALL)
_ACTION_LABEL = re.compile(r"[\s*]*Action[ \t*]*:[\s*]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Decision:
    """The joiner's choice: ``finish`` with an answer, or ``replan`` with feedback."""

    action: Literal["finish", "replan"]
    text: str
    thought: str | None = None


def parse_decision(reply: str) -> Decision:
    """Parse ``Thought: ...`` / ``Action: Finish(...)`` or ``Replan(...)``.

    The action is the last ``Action:`` line that is not inside an earlier action's
    argument, so a Thought quoting ``Finish(``/``Replan(`` never acts. The argument runs
    to its own matching parenthesis (``Finish(42) (sure)`` gives ``42``); an argument
    never closed runs to the last ``)``, or to the end. A reply in neither format is taken
    as the final answer, whole.
    """
    found = _last_action(reply, _LABELLED_LINE)
    if found is None:
        found = _last_action(reply, _BARE_LINE) or _last_action(reply, _ACTION_ANYWHERE)
    before = reply if found is None else reply[: found[0].start()]
    thought_match = _THOUGHT.search(before)
    thought = _ACTION_LABEL.sub("", thought_match.group(1)).strip() if thought_match else None
    if found is None:
        return Decision("finish", reply.strip(), thought or None)
    action, end = found
    argument = reply[action.end() : end].strip()
    kind: Literal["finish", "replan"] = "finish"
    if action.group(1).lower() == "replan":
        kind = "replan"
    return Decision(kind, argument, thought or None)


def _last_action(reply: str, pattern: re.Pattern[str]) -> tuple[re.Match[str], int] | None:
    """Return the last action outside an earlier action's argument, and its argument's end."""
    pairs = _paren_pairs(reply)
    last_close = reply.rfind(")")
    chosen: tuple[re.Match[str], int] | None = None
    hidden_until = -1  # actions starting before this are quoted in the chosen argument
    for match in pattern.finditer(reply):
        if match.start() < hidden_until:
            continue
        close = pairs.get(match.end() - 1)
        if close is not None:
            chosen, hidden_until = (match, close), close
            continue
        # Never closed: the argument runs to the last ")" (or the end), but hides only
        # the rest of its own line, so a later action line still wins.
        chosen = (match, last_close if last_close >= match.end() else len(reply))
        line_end = reply.find("\n", match.end())
        hidden_until = line_end if line_end >= 0 else len(reply)
    return chosen


def _paren_pairs(text: str) -> dict[int, int]:
    """Map the index of each ``(`` that is closed to the index of its ``)`` (one pass)."""
    pairs: dict[int, int] = {}
    opened: list[int] = []
    for position, char in enumerate(text):
        if char == "(":
            opened.append(position)
        elif char == ")" and opened:
            pairs[opened.pop()] = position
    return pairs
