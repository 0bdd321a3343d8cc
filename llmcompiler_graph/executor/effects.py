"""Which shared resources each tool's calls read and write: its metadata, then ``tool_effects``.

A tool (or a toolkit, for all of its tools) declares its effects in its LangChain
``metadata`` under :data:`EFFECTS_METADATA_KEY`; the ``tool_effects`` setting adds to them
or replaces them, tool by tool. The task fetching unit orders calls that conflict
(:mod:`llmcompiler_graph.fetching.hazards`).

::

    write_file = StructuredTool.from_function(
        write, metadata={"llmcompiler_effects": {"writes": ["fs"]}}
    )
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from langchain_core.tools import BaseTool

from llmcompiler_graph.errors import ConfigurationError, SchedulerError
from llmcompiler_graph.fetching.hazards import Effects

__all__ = ["EFFECTS_METADATA_KEY", "tool_effects"]

EFFECTS_METADATA_KEY = "llmcompiler_effects"
"""The key of a tool's ``metadata`` declaring its effects: ``{"reads": [...], "writes": [...]}``."""


def tool_effects(
    tools: Iterable[BaseTool], declared: Mapping[str, object] | None = None
) -> dict[str, Effects]:
    """Return each tool's effects (tools that touch nothing shared left out).

    Args:
        tools: The graph's tools; each may declare its effects in its ``metadata``.
        declared: The ``tool_effects`` setting: tool name to ``{"reads", "writes"}``; it
            replaces what the tool's metadata says.

    Raises:
        ConfigurationError: For a declaration that is not ``{"reads": [...], "writes": [...]}``
            or, in ``declared``, a name that is no tool (a misspelt name would silently let
            its calls overlap).

    """
    found: dict[str, Effects] = {}
    names: list[str] = []
    for tool in tools:
        names.append(tool.name)
        spec = (tool.metadata or {}).get(EFFECTS_METADATA_KEY)
        if spec is not None:
            found[tool.name] = _parse(
                spec, f"tool {tool.name!r}: metadata[{EFFECTS_METADATA_KEY!r}]"
            )
    for name, spec in (declared or {}).items():
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigurationError(
                f"tool_effects names unknown tool {name!r}{hint}; the tools are: "
                f"{', '.join(sorted(names)) or 'none'}"
            )
        found[name] = _parse(spec, f"tool_effects[{name!r}]")
    return {name: effects for name, effects in found.items() if effects}


def _parse(spec: object, where: str) -> Effects:
    try:
        return Effects.parse(spec, where=where)
    except SchedulerError as exc:
        raise ConfigurationError(str(exc)) from None
