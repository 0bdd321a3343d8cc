"""What a reviewer may answer to an approval request, and which tools may be named for one.

The answers are read into :class:`Verdict` values (:func:`parse_verdicts`); anything else is
refused with the accepted shapes (:data:`HOW_TO_ANSWER`), and the ``approve`` node asks
again rather than deciding anything (see :mod:`llmcompiler_graph.approval`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

__all__ = [
    "HOW_TO_ANSWER",
    "ApprovalAnswerError",
    "Verdict",
    "check_approval_names",
    "normalize_resume",
    "parse_verdicts",
]

_YES = {"approve", "approved", "accept", "accepted", "yes", "y", "ok", "allow", "run"}
_NO = {"reject", "rejected", "deny", "denied", "no", "n", "cancel", "skip"}

HOW_TO_ANSWER = (
    "Resume with Command(resume=...): 'approve' or 'reject' (or True / False) for all tasks "
    "shown; {'action': 'approve' | 'reject', 'reason': '...'} for all; a non-empty list of "
    "these in the order shown; or a dict from task index to one of these, e.g. "
    "{'3': 'approve', '4': {'action': 'reject', 'reason': 'not now'}}; tasks left out are "
    "asked again."
)


class ApprovalAnswerError(ValueError):
    """Raise for a reviewer's answer that cannot be read; the reviewer is asked again."""


@dataclass(frozen=True)
class Verdict:
    """A reviewer's decision on one task."""

    approved: bool
    reason: str | None = None


def parse_verdicts(value: object, indices: Sequence[int]) -> dict[int, Verdict]:
    """Read a resume value into verdicts for the tasks ``indices`` (those shown).

    Accepted: ``"approve"``/``True`` or ``"reject"``/``False`` for all; a dict
    ``{"action": "approve" | "reject", "reason": ...}`` for all; a non-empty list in the order
    shown; or a dict from task index (a string or an integer) to any of these. A task not
    mentioned gets no verdict and is asked about again.

    Raises:
        ApprovalAnswerError: For anything else (``None``, ``[]``, ``{}``, unknown words,
            indices not shown): the message names the accepted shapes, and the ``approve``
            node asks again rather than deciding anything.

    """
    shown = list(indices)
    single = _verdict(value)
    if single is not None:
        return dict.fromkeys(shown, single)
    if isinstance(value, list | tuple) and value:
        if len(value) > len(shown):
            _refuse(value, f"it has {len(value)} items for {len(shown)} task(s) shown")
        verdicts = {}
        for position, item in zip(shown, value, strict=False):
            verdicts[position] = _verdict(item) or _refuse(value, f"item {item!r} is not a verdict")
        return verdicts
    if isinstance(value, Mapping) and value and not _is_single(value):
        by_index: dict[int, Verdict] = {}
        for key, item in value.items():
            index = _index(key)
            if index is None or index not in shown:
                _refuse(value, f"key {key!r} is not a task shown ({_listing(shown)})")
            by_index[index] = _verdict(item) or _refuse(
                value, f"the answer for task {index}, {item!r}, is not a verdict"
            )
        return by_index
    return _refuse(value, "it decides nothing" if _empty(value) else "its shape is unknown")


def check_approval_names(names: Iterable[str], tools: Iterable[str], source: str) -> None:
    """Refuse approval names that are not tools (``"*"`` means every tool).

    Approval must fail closed: a misspelt name would otherwise let that tool run unasked.

    Raises:
        ValueError: Naming each unknown name, with the closest tool name when there is one.

    """
    known = sorted(tools)
    unknown = sorted(set(names) - set(known) - {"*"})
    if not unknown:
        return
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name.replace("-", "_"), known, n=1, cutoff=0.6)
        hints.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    raise ValueError(
        f"{source} names unknown tool(s) {unknown}: {', '.join(hints)}; "
        f"the tools are: {', '.join(known) or 'none'} (or '*' for every tool)"
    )


def normalize_resume(value: object) -> object:
    """Make a resume value safe to hand to LangGraph, before anything runs.

    LangGraph itself fails on ``Command(resume=None)`` and on dict keys that are not strings,
    and reads ``{}`` as answering no interrupt; ``None`` and ``{}`` are refused with the
    accepted shapes, integer task indices become strings.

    Raises:
        ApprovalAnswerError: For ``None`` and ``{}``.

    """
    if value is None or (isinstance(value, Mapping) and not value):
        raise ApprovalAnswerError(
            f"Command(resume={value!r}) is not an approval answer; nothing was run. {HOW_TO_ANSWER}"
        )
    if isinstance(value, Mapping) and not all(isinstance(k, str) for k in value):
        return {str(k): v for k, v in value.items()}
    return value


def _verdict(item: object) -> Verdict | None:
    if isinstance(item, bool):
        return Verdict(item)
    if isinstance(item, str) and item.strip().lower() in _YES | _NO:
        return Verdict(item.strip().lower() in _YES)
    if isinstance(item, Mapping) and _is_single(item):
        action = item.get("action", item.get("type", item.get("decision")))
        if isinstance(action, str) and action.strip().lower() in _YES | _NO:
            reason = item.get("reason", item.get("message"))
            return Verdict(action.strip().lower() in _YES, str(reason) if reason else None)
    return None


def _is_single(item: Mapping[Any, Any]) -> bool:
    return any(key in item for key in ("action", "type", "decision"))


def _index(key: object) -> int | None:
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key
    if isinstance(key, str) and key.strip().isdigit():
        return int(key)
    return None


def _empty(value: object) -> bool:
    return value is None or (isinstance(value, list | tuple | Mapping | str) and not value)


def _listing(shown: Sequence[int]) -> str:
    return ", ".join(str(i) for i in shown) or "none"


def _refuse(value: object, why: str) -> NoReturn:
    text = repr(value)
    if len(text) > 200:
        text = text[:200] + "..."
    raise ApprovalAnswerError(
        f"the approval answer {text} was not understood: {why}. {HOW_TO_ANSWER}"
    )
