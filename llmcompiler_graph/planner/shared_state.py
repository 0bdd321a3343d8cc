"""The planner prompt's note on tools that share state: one line per shared resource.

Calls whose tools touch a common resource, at least one of them writing it, run in plan
order (see :mod:`llmcompiler_graph.fetching.hazards`); the planner should know it, so it
writes such steps in the order they must happen and does not expect them to overlap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from llmcompiler_graph.fetching.hazards import Effects

__all__ = ["SHARED_STATE_HEADER", "shared_state_note"]

SHARED_STATE_HEADER = (
    "Tools that share state: a step that changes a resource runs after every earlier step "
    "that uses it, and later steps that use it wait for it; steps that only read it run in "
    "parallel. Write such steps in the order they must happen."
)


def shared_state_note(effects: Mapping[str, Effects], listed: Iterable[str]) -> str:
    """Return the note for the ``listed`` tools, ``""`` when no written resource is shared.

    A resource that every listed tool only reads orders nothing and is left out.
    """
    writers: dict[str, list[str]] = {}
    readers: dict[str, list[str]] = {}
    for name in listed:
        declared = effects.get(name)
        if not declared:
            continue
        for resource in declared.writes:
            writers.setdefault(resource, []).append(name)
        for resource in declared.reads:
            readers.setdefault(resource, []).append(name)
    lines = []
    for resource in sorted(writers):
        line = f"- {resource}: changed by {', '.join(sorted(writers[resource]))}"
        if resource in readers:
            line += f"; read by {', '.join(sorted(readers[resource]))}"
        lines.append(line)
    return "\n".join([SHARED_STATE_HEADER, *lines]) if lines else ""
