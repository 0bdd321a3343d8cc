"""Which tools the planner sees when the catalogue is large (the ``select_tools`` setting).

A :class:`Catalogue` holds a graph's tools with what the lexical search reads of each
(:class:`~llmcompiler_graph.planner.tool_search.ToolDoc`) and builds its BM25 index on first
use. :func:`merge_listing` joins what a round's selections found with the tools the thread
already used, in catalogue order (so the same tools always render the same prompt text),
and :func:`filter_examples` keeps the few-shot examples whose tools are all listed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

from langchain_core.tools import BaseTool

from llmcompiler_graph.planner.tool_search import ToolDoc, ToolIndex

__all__ = [
    "AsyncToolSelector",
    "Catalogue",
    "SelectTools",
    "ToolSelector",
    "filter_examples",
    "merge_listing",
    "tool_doc",
]


@runtime_checkable
class ToolSelector(Protocol):
    """Picks the tools relevant to a query: any callable ``(query, tools) -> names``.

    It returns tool names, best first; names not in ``tools`` are ignored, and how many it
    returns is its own choice. A plain function will do; see
    :class:`~llmcompiler_graph.store_selection.StoreToolSelector` for one that reads a
    LangGraph store's semantic index.
    """

    def __call__(self, query: str, tools: Sequence[BaseTool]) -> Sequence[str]:
        """Return the names of the tools relevant to ``query``, best first."""
        ...


SelectTools = Callable[[str, Sequence[BaseTool]], Sequence[str]]
"""The type of a selector as a setting declares it: ``(query, tools) -> names``."""


@runtime_checkable
class AsyncToolSelector(ToolSelector, Protocol):
    """A selector with an async form, awaited when the graph runs async (``ainvoke``)."""

    def aselect(self, query: str, tools: Sequence[BaseTool]) -> Awaitable[Sequence[str]]:
        """Do what ``__call__`` does without blocking the event loop."""
        ...


def tool_doc(tool: BaseTool, schema: Callable[[BaseTool], dict[str, Any]]) -> ToolDoc:
    """Return what the lexical search reads of ``tool`` (``schema`` gives its arguments)."""
    properties = schema(tool).get("properties", {})
    parameters = tuple(
        (str(name), str(prop.get("description", "")) if isinstance(prop, dict) else "")
        for name, prop in properties.items()
    )
    return ToolDoc(tool.name, tool.description or "", parameters)


class Catalogue:
    """A graph's tools, by name, with a BM25 index built the first time it is searched."""

    def __init__(
        self, tools: Sequence[BaseTool], schema: Callable[[BaseTool], dict[str, Any]]
    ) -> None:
        """Hold ``tools``; ``schema`` returns a tool's argument schema (read when indexing)."""
        self.tools = list(tools)
        self.names = [t.name for t in self.tools]
        self._order = {name: number for number, name in enumerate(self.names)}
        self._schema = schema
        self._index: ToolIndex | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Return the number of tools."""
        return len(self.tools)

    def __contains__(self, name: object) -> bool:
        """Tell whether a tool of this name is in the catalogue."""
        return name in self._order

    @property
    def index(self) -> ToolIndex:
        """Return the BM25 index of the tools (built once, on first use)."""
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index = ToolIndex(tool_doc(t, self._schema) for t in self.tools)
        return self._index

    def search(self, query: str, limit: int) -> list[str]:
        """Return the names of the ``limit`` tools most relevant to ``query`` (BM25)."""
        return self.index.search(query, limit)

    def in_order(self, names: Iterable[str]) -> list[BaseTool]:
        """Return the tools named (unknown names ignored), in catalogue order, once each."""
        numbers = sorted({self._order[n] for n in names if n in self._order})
        return [self.tools[number] for number in numbers]


def merge_listing(
    catalogue: Catalogue, picks: Iterable[Sequence[str]], used: Iterable[str]
) -> list[BaseTool]:
    """Return the tools to list: every selection's picks and the tools used before.

    In catalogue order, not relevance order: the planner's prompt then depends only on which
    tools are listed, so the same tools give the same bytes (and a provider's prompt cache
    can reuse it).
    """
    names: list[str] = [name for pick in picks for name in pick]
    names += used
    return catalogue.in_order(names)


_EXAMPLE_BREAK = re.compile(r"^[ \t]*###[ \t]*$", re.MULTILINE)
_CALLED = re.compile(r"""([A-Za-z_][\w.\-]*)\s*\(|["']([A-Za-z_][\w.\-]*)["']""")


def filter_examples(examples: str, listed: Iterable[str], catalogue: Catalogue) -> str:
    """Keep the examples (separated by ``###`` lines) whose tools are all listed.

    A tool counts as used by an example where a catalogue tool's name is called
    (``name(``) or quoted (``"name"``, as in a tool-call example); other text is not read.
    """
    shown = set(listed)
    kept = []
    for block in _EXAMPLE_BREAK.split(examples):
        named = {a or b for a, b in _CALLED.findall(block)}
        if not any(name in catalogue and name not in shown for name in named):
            kept.append(block.strip("\n"))
    return "\n###\n".join(block for block in kept if block.strip())
