"""Pick tools with a LangGraph store's semantic index (embeddings) instead of BM25.

As ``langgraph-bigtool`` does, each tool is a store item (its name, description and
parameters as text) embedded by the store's index; a question's tools are the nearest
items. Pass a :class:`StoreToolSelector` as ``select_tools``::

    from langchain.embeddings import init_embeddings
    from langgraph.store.memory import InMemoryStore
    from llmcompiler_graph.store_selection import StoreToolSelector

    embeddings = init_embeddings("openai:text-embedding-3-small")
    store = InMemoryStore(index={"dims": 1536, "embed": embeddings})
    graph = create_llm_compiler(model, tools, store=store, select_tools=StoreToolSelector(k=10))

Without a ``store`` of its own the selector uses the graph's (``create_llm_compiler(store=)``,
or the one LangGraph Platform and ``langgraph dev`` give a deployment, whose index is set in
``langgraph.json``). The tools are written to the store the first time it is searched, and
again only for tools it lacks or holds with another text (a store kept across restarts, such as
Postgres, embeds each tool once).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any

from langchain_core.tools import BaseTool
from langgraph.config import get_store
from langgraph.store.base import BaseStore, GetOp, PutOp

from llmcompiler_graph.errors import ConfigurationError
from llmcompiler_graph.planner.tool_specs import tool_schema

__all__ = ["DEFAULT_NAMESPACE", "StoreToolSelector", "tool_text"]

DEFAULT_NAMESPACE = ("llmcompiler_graph", "tools")
"""Where the tools are kept in the store, one item per tool (its key is the tool's name)."""

_FIELD = "text"


def tool_text(tool: BaseTool) -> str:
    """Return the text embedded for ``tool``: its name, description and parameters."""
    properties = tool_schema(tool).get("properties", {})
    params = "; ".join(
        f"{name}: {prop.get('description', '')}".rstrip(": ") if isinstance(prop, dict) else name
        for name, prop in properties.items()
    )
    text = f"{tool.name}: {' '.join((tool.description or '').split())}"
    return f"{text} Parameters: {params}" if params else text


class StoreToolSelector:
    """Select tools by semantic search in a LangGraph store with an index.

    Args:
        store: The store to use; ``None``: the graph's store (the run's, at run time).
        k: How many tools to return per query.
        namespace: Where the tools are kept in the store.

    """

    def __init__(
        self,
        store: BaseStore | None = None,
        *,
        k: int = 10,
        namespace: tuple[str, ...] = DEFAULT_NAMESPACE,
    ) -> None:
        """Remember the store (or ``None``), how many tools to return, and where."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigurationError(f"StoreToolSelector k must be 1 or more, got {k!r}")
        self.store = store
        self.k = k
        self.namespace = namespace
        self._written: weakref.WeakKeyDictionary[BaseStore, set[str]] = (
            weakref.WeakKeyDictionary()
        )  # per store, the tools known to be there with their current text
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        """Show the settings (the store by type)."""
        store = type(self.store).__name__ if self.store is not None else "the graph's"
        return f"StoreToolSelector(store={store}, k={self.k}, namespace={self.namespace!r})"

    def __call__(self, query: str, tools: Sequence[BaseTool]) -> list[str]:
        """Return the names of the ``k`` tools nearest to ``query``."""
        store = self._store()
        if ops := self._missing(store, tools, store.batch(self._gets(store, tools))):
            store.batch(ops)
            self._remember(store, [op.key for op in ops])
        hits = store.search(self.namespace, query=query, limit=self.k)
        return self._names(hits, tools)

    async def aselect(self, query: str, tools: Sequence[BaseTool]) -> list[str]:
        """Do what ``__call__`` does with the store's async methods."""
        store = self._store()
        if ops := self._missing(store, tools, await store.abatch(self._gets(store, tools))):
            await store.abatch(ops)
            self._remember(store, [op.key for op in ops])
        hits = await store.asearch(self.namespace, query=query, limit=self.k)
        return self._names(hits, tools)

    def _store(self) -> BaseStore:
        if self.store is not None:
            return self.store
        try:
            store = get_store()
        except RuntimeError:
            store = None
        if store is None:
            raise ConfigurationError(
                "StoreToolSelector has no store: pass one (StoreToolSelector(store)) or build "
                "the graph with create_llm_compiler(..., store=store) (a store with an index)"
            )
        return store

    def _gets(self, store: BaseStore, tools: Sequence[BaseTool]) -> list[GetOp]:
        """Ask for the stored items of the tools not yet written by this selector."""
        written = self._written.get(store, set())
        return [
            GetOp(self.namespace, t.name, refresh_ttl=False) for t in tools if t.name not in written
        ]

    def _missing(
        self, store: BaseStore, tools: Sequence[BaseTool], found: Sequence[Any]
    ) -> list[PutOp]:
        """Return the writes for the tools the store lacks or holds with another text.

        A tool found with the same text is only remembered: a store that outlives the
        process (Postgres) embeds each tool once, not once per start.
        """
        stored = {item.key: item.value.get(_FIELD) for item in found if item is not None}
        written = self._written.get(store, set())
        ops, same = [], []
        for tool in tools:
            if tool.name in written:
                continue
            text = tool_text(tool)
            if stored.get(tool.name) == text:
                same.append(tool.name)
            else:
                value = {"name": tool.name, _FIELD: text}
                ops.append(PutOp(self.namespace, tool.name, value, index=[_FIELD]))
        self._remember(store, same)
        return ops

    def _remember(self, store: BaseStore, names: Sequence[str]) -> None:
        with self._lock:
            self._written.setdefault(store, set()).update(names)

    @staticmethod
    def _names(hits: Sequence[Any], tools: Sequence[BaseTool]) -> list[str]:
        known = {t.name for t in tools}
        return [hit.key for hit in hits if hit.key in known]
