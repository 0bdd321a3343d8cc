"""Crash-safe nodes: a write-ahead journal kept in LangGraph's own task results.

LangGraph writes a node's output only when the node ends, but it records the result of
each ``@task`` the node calls as soon as that task finishes (a pending write in the
checkpoint), and when the node is run again after a crash it hands each task call, by its
position among the node's calls, the result recorded for it instead of running it.

A round cannot call one task per tool call in a replayable order: tools start when their
dependencies finish, in whatever order that happens, and replay matches calls by position
only (a different order silently swaps results). So the node calls a single task,
:func:`journal_entry`, which returns its argument: each call records one self-describing
entry (which plan text arrived, which task ended how). The k-th call returns the k-th
entry, whatever it says, so the order in which entries are written does not matter: on
a re-run the node first reads the recorded entries back (:meth:`Journal.replay`: calls
until one returns an entry of this attempt), then rebuilds what it knew from them and
carries on, appending new entries after the old ones.

The entries' values pass through the checkpointer's serializer; a value it cannot store is
not recorded (its task runs again after a crash). Without a checkpointer there is nothing
to resume, and the journal does nothing. With ``durability="exit"`` LangGraph writes
nothing before the node ends, so a crash loses the round (see the docs' Guarantees).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator, Mapping
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.func import task

from llmcompiler_graph.fetching.jobs import Outcome

__all__ = [
    "JOURNAL_TASK",
    "Entry",
    "Journal",
    "awithout_journal",
    "journal_entry",
    "replayed_outcomes",
    "without_journal",
]

Entry = dict[str, Any]

_CHECKPOINTER_KEY = "__pregel_checkpointer"  # set by LangGraph in a node's configurable
_CALL_KEY = "__pregel_call"  # present only inside a running graph task
_DURABILITY_KEY = "__pregel_durability"


JOURNAL_TASK = "llmcompiler_journal"
"""The journal task's name; :func:`without_journal` keeps it out of the graph's streams."""


@task(name=JOURNAL_TASK)  # type: ignore[arg-type]  # (its overloads confuse mypy)
def journal_entry(entry: Entry) -> Entry:
    """Record ``entry`` (a LangGraph task: its result is checkpointed when it returns)."""
    return entry


class Journal:
    """One node execution's journal; every method is safe to call from worker threads.

    Create it on the node's thread (it keeps a copy of the node's context, which LangGraph
    needs to call a task from another thread).
    """

    def __init__(self, config: RunnableConfig) -> None:
        """Prepare a journal for the node running with ``config``."""
        configurable = config.get("configurable", {})
        checkpointer = configurable.get(_CHECKPOINTER_KEY)
        self.enabled = (
            checkpointer is not None
            and _CALL_KEY in configurable
            and configurable.get(_DURABILITY_KEY) != "exit"
        )
        self._serde = getattr(checkpointer, "serde", None)
        self._attempt = uuid.uuid4().hex
        self._context = contextvars.copy_context()
        self._lock = threading.Lock()
        self._pending: list[concurrent.futures.Future[Any] | asyncio.Future[Any]] = []

    # -- reading back what an earlier attempt recorded -------------------------------------

    def replay(self) -> list[Entry]:
        """Return the entries earlier attempts of this node recorded, in call order."""
        entries: list[Entry] = []
        while self.enabled:
            got = self._call(self._probe()).result()
            if self._mine(got):
                break
            entries.append(got)
        return [e for e in entries if e.get("kind") != "probe"]

    async def areplay(self) -> list[Entry]:
        """Do what :meth:`replay` does from the event loop."""
        entries: list[Entry] = []
        while self.enabled:
            got = await self._call(self._probe())
            if self._mine(got):
                break
            entries.append(got)
        return [e for e in entries if e.get("kind") != "probe"]

    # -- writing -----------------------------------------------------------------------------

    def record(self, entry: Entry) -> None:
        """Append ``entry``; returns at once (the write happens on LangGraph's executor).

        An entry the checkpointer cannot serialize is dropped (the work it describes is
        done again after a crash).
        """
        if not self.enabled or not self._storable(entry):
            return
        entry = {**entry, "attempt": self._attempt}
        future = self._call(entry)
        with self._lock:
            self._pending.append(future)

        def check(done: Any) -> None:
            # A position an earlier attempt had already used (recorded after a gap that
            # replay stopped at) returns that old entry instead: write ours again.
            if not done.cancelled() and done.exception() is None and not self._mine(done.result()):
                self.record(entry)

        future.add_done_callback(check)

    def record_outcome(self, outcome: Outcome, message: object = None) -> None:
        """Record how a task that ran in this attempt ended (and the tool's own message)."""
        self.record(
            {
                "kind": "result",
                "index": outcome.index,
                "name": outcome.name,
                "status": outcome.status,
                "value": outcome.value,
                "error": outcome.error,
                "message": message,
            }
        )

    def flush(self) -> None:
        """Wait until every entry is recorded (call before the node returns)."""
        while True:
            with self._lock:
                pending, self._pending = self._pending, []
            if not pending:
                return
            for future in pending:
                if isinstance(future, concurrent.futures.Future):
                    future.exception()  # waits; a failed write is LangGraph's to report

    async def aflush(self) -> None:
        """Do what :meth:`flush` does from the event loop."""
        while True:
            with self._lock:
                pending, self._pending = self._pending, []
            if not pending:
                return
            waits = [
                asyncio.wrap_future(f) if isinstance(f, concurrent.futures.Future) else f
                for f in pending
            ]
            await asyncio.gather(*waits, return_exceptions=True)

    # -- internals ---------------------------------------------------------------------------

    def _probe(self) -> Entry:
        return {"kind": "probe", "attempt": self._attempt}

    def _mine(self, got: object) -> bool:
        return isinstance(got, Mapping) and got.get("attempt") == self._attempt

    def _call(self, entry: Entry) -> Any:
        # A fresh copy each time: one Context cannot be entered by two threads at once.
        return self._context.copy().run(journal_entry, entry)  # type: ignore[arg-type]

    def _storable(self, entry: Entry) -> bool:
        if self._serde is None:
            return True
        try:
            self._serde.dumps_typed(entry)
        except Exception:  # whatever the serializer refuses is simply not recorded
            return False
        return True


def replayed_outcomes(entries: list[Entry]) -> dict[int, Outcome]:
    """Return the outcomes recorded in ``entries``, by task index."""
    outcomes: dict[int, Outcome] = {}
    for entry in entries:
        if entry.get("kind") == "result" and isinstance(entry.get("index"), int):
            outcomes[entry["index"]] = Outcome(
                entry["index"],
                str(entry.get("name", "")),
                entry.get("status", "error"),
                value=entry.get("value"),
                error=entry.get("error"),
            )
    return outcomes


def _is_journal(part: object) -> bool:
    """Tell whether a streamed part only reports a journal task (updates, tasks, debug)."""
    data = part[-1] if isinstance(part, tuple) and part else part
    if isinstance(data, Mapping) and {"type", "data"} <= set(data) and len(data) <= 4:
        data = data["data"]  # the v2 stream format: {"type", "ns", "data", ...}
    if not isinstance(data, Mapping):
        return False
    if JOURNAL_TASK in data and len(data) == 1:  # updates
        return True
    payload = data.get("payload")
    named = data.get("name") if "name" in data else None
    if isinstance(payload, Mapping):  # debug
        named = payload.get("name")
    return named == JOURNAL_TASK and ("id" in data or isinstance(payload, Mapping))


def without_journal(parts: Iterator[Any]) -> Iterator[Any]:
    """Yield a graph stream's parts except those of journal tasks (see :mod:`.durable`)."""
    try:
        for part in parts:
            if not _is_journal(part):
                yield part
    finally:
        if isinstance(parts, Generator):
            parts.close()


async def awithout_journal(parts: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """Do what :func:`without_journal` does for an async stream."""
    try:
        async for part in parts:
            if not _is_journal(part):
                yield part
    finally:
        if isinstance(parts, AsyncGenerator):
            await parts.aclose()
