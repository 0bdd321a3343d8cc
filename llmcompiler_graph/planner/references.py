"""``$N`` references between tasks: finding them in arguments and substituting results.

The rule (also in the docs' Plan formats guide):

* ``${N}`` anywhere, or an argument that is exactly ``$N``, is a dependency on task N.
  Task N must have been planned before the task that uses it, or the task fails.
* ``$N`` inside a longer string is a dependency only when task N was planned before;
  otherwise it is ordinary text. ``$5.00`` and ``$1,200`` are never references.
* An argument that is exactly ``$N`` receives task N's result object unchanged; inside a
  longer string the reference is replaced by the result's text. Substitution is one pass
  over the planned text, so text inside a result can never add a reference.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping

from llmcompiler_graph.errors import LLMCompilerError

__all__ = ["ReferenceError_", "dependencies", "substitute", "to_text"]

# `${N}` or `$N` not followed by another digit or by a decimal/thousands part (`$5.00`, `$1,200`).
REF = re.compile(r"\$\{(\d+)\}|\$(\d+)(?![\d]|[.,]\d)")
EXACT = re.compile(r"\s*(?:\$\{(\d+)\}|\$(\d+))\s*")


class ReferenceError_(
    LLMCompilerError, ValueError
):  # trailing _: the builtin ReferenceError is unrelated
    """Raise when an argument refers to a task that was not planned before it."""


def _walk_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for k, v in value.items() for s in (*_walk_strings(k), *_walk_strings(v))]
    if isinstance(value, list | tuple | set | frozenset):
        return [s for item in value for s in _walk_strings(item)]
    return []


def dependencies(
    value: object, planned: Collection[int], *, own: int | None = None
) -> frozenset[int]:
    """Return the tasks ``value`` depends on, given the tasks planned before it.

    Args:
        value: A task's arguments (strings, possibly inside lists and dicts).
        planned: Numbers of the tasks planned before this one.
        own: This task's number, to say so when a task refers to itself.

    Raises:
        ReferenceError_: For ``${N}`` or an exact ``$N`` naming a task not in ``planned``.

    """
    deps: set[int] = set()
    for text in _walk_strings(value):
        exact = EXACT.fullmatch(text)
        for match in REF.finditer(text):
            braced, bare = match.group(1), match.group(2)
            index = int(braced or bare)
            if index in planned:
                deps.add(index)
            elif braced is not None or exact is not None:
                what = (
                    "itself" if index == own else f"task {index}, which was not planned before it"
                )
                raise ReferenceError_(
                    f"{match.group(0)} refers to {what}; "
                    "a task may only use results of tasks listed above it"
                )
    return frozenset(deps)


def to_text(value: object) -> str:
    """Render a result as the text substituted into a longer string."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    try:
        return str(value)
    except Exception as exc:  # a result that cannot render itself is still an observation
        return f"<{type(value).__name__} object; str() failed: {type(exc).__name__}: {exc}>"


def substitute(
    value: object,
    deps: Collection[int],
    results: Mapping[int, object],
    text: Callable[[object], str] = to_text,
) -> object:
    """Replace references to ``deps`` in ``value`` by their results (see the module rule)."""
    if isinstance(value, str):
        exact = EXACT.fullmatch(value)
        if exact is not None:
            index = int(exact.group(1) or exact.group(2))
            if index in deps:
                return results[index]
        return _substitute_text(value, deps, results, text)
    if isinstance(value, Mapping):
        return {
            _substitute_text(k, deps, results, text) if isinstance(k, str) else k: substitute(
                v, deps, results, text
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [substitute(v, deps, results, text) for v in value]
    if isinstance(value, tuple):
        return tuple(substitute(v, deps, results, text) for v in value)
    return value


def _substitute_text(
    value: str, deps: Collection[int], results: Mapping[int, object], text: Callable[[object], str]
) -> str:
    def replace(match: re.Match[str]) -> str:
        index = int(match.group(1) or match.group(2))
        return text(results[index]) if index in deps else match.group(0)

    return REF.sub(replace, value)
