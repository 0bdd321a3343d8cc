"""The joiner's decision: read ``Thought: ...`` / ``Action: Finish(...)`` or ``Replan(...)``.

:func:`parse_decision` finds the action that acts (the last ``Action:`` line that is not
quoted inside an earlier action's argument) and reads its argument up to its own closing
parenthesis with :class:`_Brackets`, a one-pass scanner that skips brackets inside quotes
and nested pairs, and tells a ``)`` that belongs to the answer (``a) Paris, b) Lyon``, a
smiley) from the one that closes the action: the closing one is followed by no ``)`` that
nothing opened. Everything here is linear in the reply.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Decision", "parse_decision"]

# An action line: "Action: Finish(", "**Action:** Replan(". Bare "Finish(" at the start of a
# line counts only when no line has the "Action:" label; "Action: Finish(" inside a line
# only when neither exists.
_LABELLED_LINE = re.compile(
    r"^[ \t*]*+Action[ \t*]*+:[ \t*]*+(Finish|Replan)[ \t]*+\(", re.IGNORECASE | re.MULTILINE
)
_BARE_LINE = re.compile(r"^[ \t*]*+(Finish|Replan)[ \t]*+\(", re.IGNORECASE | re.MULTILINE)
_ACTION_ANYWHERE = re.compile(r"Action[ \t*]*+:[ \t*]*+(Finish|Replan)[ \t]*+\(", re.IGNORECASE)
_THOUGHT = re.compile(r"Thought[ \t*]*+:[ \t*]*+", re.IGNORECASE)
_TRAILING = " \t\r\n\f\v*"
_MARKS = re.compile(r"[()\"'`\u201c\u201d\n]")


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
    to its own closing parenthesis: brackets inside quotes and nested pairs are skipped,
    and a ``)`` followed later by a ``)`` that nothing opened belongs to the answer
    (``Finish(Two options: a) Paris, b) Lyon.)`` is the whole text; ``Finish(42) (sure)``
    is ``42``). An argument never closed runs to the last ``)``, or to the end. A reply in
    neither format is taken as the final answer, whole.
    """
    brackets = _Brackets(reply)
    found = _last_action(reply, _LABELLED_LINE, brackets)
    if found is None:
        found = _last_action(reply, _BARE_LINE, brackets) or _last_action(
            reply, _ACTION_ANYWHERE, brackets
        )
    before = reply if found is None else reply[: found[0].start()]
    thought = _thought(before)
    if found is None:
        return Decision("finish", reply.strip(), thought)
    action, end = found
    argument = reply[action.end() : end].strip()
    kind: Literal["finish", "replan"] = (
        "replan" if action.group(1).lower() == "replan" else "finish"
    )
    return Decision(kind, argument, thought)


def _thought(before: str) -> str | None:
    label = _THOUGHT.search(before)
    if label is None:
        return None
    thought = before[label.end() :].rstrip(_TRAILING)
    if thought.endswith(":"):  # the label of the action that follows
        head = thought[:-1].rstrip(" \t*")
        if head[-6:].lower() == "action":
            thought = head[:-6].rstrip(_TRAILING)
    return thought.strip() or None


def _last_action(
    reply: str, pattern: re.Pattern[str], brackets: _Brackets
) -> tuple[re.Match[str], int] | None:
    """Return the last action outside an earlier action's argument, and its argument's end."""
    last_close = reply.rfind(")")
    chosen: tuple[re.Match[str], int] | None = None
    hidden_until = -1  # actions starting before this are quoted in the chosen argument
    for match in pattern.finditer(reply):
        if match.start() < hidden_until:
            continue
        close = brackets.close_of(match.end() - 1)
        if close is not None:
            chosen, hidden_until = (match, close), close
            continue
        # Never closed: the argument runs to the last ")" (or the end), but hides only
        # the rest of its own line, so a later action line still wins.
        chosen = (match, last_close if last_close >= match.end() else len(reply))
        line_end = reply.find("\n", match.end())
        hidden_until = line_end if line_end >= 0 else len(reply)
    return chosen


class _Brackets:
    """The parentheses of a text outside quotes, and where an opened argument closes.

    Quotes (``"..."``, ``'...'`` starting a word, backticks, curly double quotes) pair up
    within one line; brackets between a pair are text. Built in one pass; each
    :meth:`close_of` continues from where earlier calls stopped (memoised), so all calls
    together are linear in the text too.
    """

    def __init__(self, text: str) -> None:
        self._positions: list[int] = []
        self._opens: list[bool] = []
        self._read(text)
        count = len(self._positions)
        # _partner[k]: the ")" closing the "(" at k (plain nesting), -1 if none.
        self._partner = [-1] * count
        stack: list[int] = []
        for k, is_open in enumerate(self._opens):
            if is_open:
                stack.append(k)
            elif stack:
                self._partner[stack.pop()] = k
        # _stray_after[k]: some ")" after k closes nothing opened after k (the lowest
        # running balance of the brackets after k goes below zero).
        self._stray_after = [False] * count
        lowest = 0
        for k in range(count - 1, -1, -1):
            self._stray_after[k] = lowest < 0
            lowest = min(0, (1 if self._opens[k] else -1) + lowest)
        self._memo: dict[int, int | None] = {}

    def _read(self, text: str) -> None:
        closer = {'"': '"', "`": "`", "\u201c": "\u201d", "'": "'"}
        quote: str | None = None  # the closing mark awaited
        pending: list[tuple[int, bool]] = []  # brackets seen since the quote opened
        for mark in _MARKS.finditer(text):
            char, at = mark.group(), mark.start()
            if char == "\n":
                if quote is not None:  # never closed on its line: it was no quote
                    self._add(pending)
                    quote, pending = None, []
                continue
            if quote is not None:
                if char in "()":
                    pending.append((at, char == "("))
                elif char == quote and (char != "'" or not _word_char(text, at + 1)):
                    quote, pending = None, []  # the quoted brackets are text
                continue
            if char in "()":
                self._positions.append(at)
                self._opens.append(char == "(")
            elif char in closer and (char != "'" or not _word_char(text, at - 1)):
                quote = closer[char]
        if quote is not None:
            self._add(pending)

    def _add(self, brackets: list[tuple[int, bool]]) -> None:
        for at, is_open in brackets:
            self._positions.append(at)
            self._opens.append(is_open)

    def close_of(self, opening: int) -> int | None:
        """Return where the argument opened at ``opening`` (a ``(``) closes, or ``None``."""
        k = bisect.bisect_right(self._positions, opening)
        visited: list[int] = []
        result: int | None = None
        while k < len(self._positions):
            if k in self._memo:
                result = self._memo[k]
                break
            visited.append(k)
            if self._opens[k]:
                partner = self._partner[k]
                if partner < 0:
                    break  # a "(" never closed: neither is the argument
                k = partner + 1
            elif self._stray_after[k]:
                k += 1  # a ")" of the answer's own text ("a) Paris")
            else:
                result = self._positions[k]
                break
        for seen in visited:
            self._memo[seen] = result
        return result


def _word_char(text: str, at: int) -> bool:
    return 0 <= at < len(text) and text[at].isalnum()
