"""Crash-safe nodes: a write-ahead journal kept beside the step's checkpoint.

LangGraph writes a node's output only when the node ends; after a crash it runs the node
again from its start, against the same checkpoint. So as a round (or an approval pass)
goes, it appends entries to a journal that the node's next attempt reads back: which
plan text arrived, which task ended how. The journal is stored with the checkpointer's
own ``put_writes``, as *pending writes* of the step's checkpoint (the place LangGraph
keeps the results of a step's finished tasks), under a channel of its own that no node
reads, so LangGraph ignores them.

Why not one LangGraph ``@task`` per entry: replay matches task calls by their position
within the node, the writes of concurrent calls land in any order (a crash between two
leaves a gap that hides every later entry), the push machinery scans the step's pending
writes on each call, and each call streams its entry as events. Here one writer per node
execution saves entries one batch after another, in the order they were recorded: a batch
is saved only after the previous one returned, so what a crash leaves is always a prefix
of what was recorded. Callers record a task's plan text
before its result, so a saved result always has its plan line saved before it. Each
batch is one row holding only the entries recorded since the previous one (consecutive
plan text merged), so the journal costs time in proportion to what it records.

Entries' values pass through the checkpointer's serializer; a value it cannot store is
not recorded (its task runs again after a crash). Errors are redacted before they are
written (:func:`~llmcompiler_graph.redact.redact`). Without a checkpointer, or with
``durability="exit"`` (LangGraph then saves nothing before the node ends), the journal
is off.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import uuid
from collections import deque
from typing import Any

from langchain_core.runnables import RunnableConfig

from llmcompiler_graph.fetching.jobs import Outcome
from llmcompiler_graph.redact import redact

__all__ = [
    "JOURNAL_CHANNEL",
    "Entry",
    "Journal",
    "replayed_outcomes",
    "task_key",
]

Entry = dict[str, Any]

_CHECKPOINTER_KEY = "__pregel_checkpointer"  # set by LangGraph in a node's configurable
_CALL_KEY = "__pregel_call"  # present only inside a running graph task
_TASK_ID_KEY = "__pregel_task_id"  # the node's task id: the same on every re-run of the step
_DURABILITY_KEY = "__pregel_durability"

JOURNAL_CHANNEL = "__llmcompiler_journal__"
"""The channel the journal's entries are written to (no node reads it)."""


def task_key(name: str, args: object) -> str:
    """Return a short digest of a task's tool and arguments (its identity in the journal)."""
    text = json.dumps([name, args], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class Journal:
    """One node execution's journal; :meth:`record` is safe to call from any thread.

    Create it on the node's thread; an async node's journal (``asynchronous=True``) writes on
    its event loop. A sync node's journal never uses a loop, even when the thread that runs the
    graph has one running (Jupyter runs cells inside its kernel's loop, which a sync
    ``invoke`` blocks).
    Call :meth:`replay` (or :meth:`areplay`) first, then :meth:`record` as work happens,
    then :meth:`flush` (or :meth:`aflush`) before the node returns.
    """

    def __init__(self, config: RunnableConfig, *, asynchronous: bool = False) -> None:
        """Prepare a journal for the node running with ``config`` (async: on this loop)."""
        configurable = config.get("configurable", {})
        self._saver: Any = configurable.get(_CHECKPOINTER_KEY)
        self._node = configurable.get(_TASK_ID_KEY)
        namespace = str(configurable.get("checkpoint_ns", "")).rpartition("|")[0]
        checkpoint_id = (configurable.get("checkpoint_map") or {}).get(namespace)
        self.enabled = (
            self._saver is not None
            and _CALL_KEY in configurable
            and configurable.get(_DURABILITY_KEY) != "exit"
            and isinstance(self._node, str)
            and checkpoint_id is not None
        )
        self._where: RunnableConfig = {
            "configurable": {
                "thread_id": configurable.get("thread_id"),
                "checkpoint_ns": namespace,
                "checkpoint_id": checkpoint_id,
            }
        }
        self._serde = getattr(self._saver, "serde", None)
        self._loop = asyncio.get_running_loop() if asynchronous else None
        self._generation = 1
        self._seq = 0
        self._queue: deque[Entry] = deque()
        self._changed = threading.Condition()
        self._writing = False
        self._writer: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._closed = False

    # -- reading back what earlier attempts recorded -------------------------------------

    def replay(self) -> list[Entry]:
        """Return the entries earlier attempts of this node saved, in the order recorded."""
        if not self.enabled:
            return []
        return self._take_saved(self._saver.get_tuple(self._where))

    async def areplay(self) -> list[Entry]:
        """Do what :meth:`replay` does from the event loop."""
        if not self.enabled:
            return []
        return self._take_saved(await self._saver.aget_tuple(self._where))

    def _take_saved(self, saved: Any) -> list[Entry]:
        rows = [
            value
            for _, channel, value in (getattr(saved, "pending_writes", None) or ())
            if channel == JOURNAL_CHANNEL
            and isinstance(value, dict)
            and value.get("node") == self._node
            and isinstance(value.get("entries"), list)
        ]
        rows.sort(key=lambda row: (row.get("generation", 0), row.get("seq", 0)))
        self._generation = max((int(r.get("generation", 0)) for r in rows), default=0) + 1
        return [entry for row in rows for entry in row["entries"] if isinstance(entry, dict)]

    # -- writing -----------------------------------------------------------------------------

    def record(self, entry: Entry) -> None:
        """Append ``entry``; returns at once (the writer saves it a moment later).

        Entries are saved in the order they are recorded. An entry the checkpointer cannot
        serialize is dropped (the work it describes is done again after a crash).
        """
        if not self.enabled:
            return
        with self._changed:
            if self._closed:
                return
            self._queue.append(entry)
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_all, name="llmcompiler-journal", daemon=True
                )
                self._writer.start()
            self._changed.notify_all()

    def record_outcome(self, outcome: Outcome, key: str, message: object = None) -> None:
        """Record how a task that ran in this attempt ended (and the tool's own message).

        ``key`` is the task's :func:`task_key`: a replay gives the outcome back only to a
        task with the same tool and arguments. The error is stored redacted.
        """
        entry = {
            "kind": "result",
            "index": outcome.index,
            "key": key,
            "name": outcome.name,
            "status": outcome.status,
            "value": outcome.value,
            "error": None if outcome.error is None else redact(outcome.error),
            "message": message,
        }
        if self._storable(entry):
            self.record(entry)

    def flush(self) -> None:
        """Wait until every recorded entry is saved, then stop the writer.

        Raises:
            Exception: What the checkpointer raised when saving an entry.

        """
        with self._changed:
            self._changed.wait_for(lambda: not self._queue and not self._writing)
            self._closed = True
            self._changed.notify_all()
            failure = self._failure
        if failure is not None:
            raise failure

    async def aflush(self) -> None:
        """Do what :meth:`flush` does from the event loop."""
        if self._writer is None:
            self.flush()
            return
        await asyncio.to_thread(self.flush)

    def close(self) -> None:
        """Stop the writer without waiting (the node is being cancelled)."""
        with self._changed:
            self._closed = True
            self._queue.clear()
            self._changed.notify_all()

    # -- internals ---------------------------------------------------------------------------

    def _write_all(self) -> None:  # the writer thread
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._queue or self._closed)
                if not self._queue:
                    return
                batch = list(self._queue)
                self._queue.clear()
                self._writing = True
            try:
                if self._failure is None:
                    self._save(batch)
            except BaseException as exc:  # reported by flush(); later entries are not saved
                self._failure = exc
            finally:
                with self._changed:
                    self._writing = False
                    self._changed.notify_all()

    def _save(self, batch: list[Entry]) -> None:
        # One row per batch: the entries recorded since the previous one, in order.
        row = {
            "node": self._node,
            "generation": self._generation,
            "seq": self._seq,
            "entries": _merged(batch),
        }
        self._seq += 1
        writes = [(JOURNAL_CHANNEL, row)]
        task_id = str(uuid.uuid4())  # a saver keys writes by (task id, position)
        if self._loop is None:
            self._saver.put_writes(self._where, writes, task_id)
            return
        coroutine = self._saver.aput_writes(self._where, writes, task_id)
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def _storable(self, entry: Entry) -> bool:
        if self._serde is None or not self.enabled or _plain(entry):
            return True
        try:
            self._serde.dumps_typed(entry)
        except Exception:  # whatever the serializer refuses is simply not recorded
            return False
        return True


def _plain(value: object, depth: int = 0) -> bool:
    """Tell whether ``value`` is plain data every serializer stores (no need to try it)."""
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if depth > 3:
        return False
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple):
        return len(value) < 100 and all(_plain(v, depth + 1) for v in value)
    return False


def _merged(batch: list[Entry]) -> list[Entry]:
    """Return ``batch`` with consecutive plan entries joined into one (in linear time)."""
    merged: list[Entry] = []
    for entry in batch:
        last = merged[-1] if merged else None
        if entry.get("kind") == "plan" and last is not None and last.get("kind") == "plan":
            last["chunks"].extend(entry["chunks"])
        elif entry.get("kind") == "plan":
            merged.append({**entry, "chunks": list(entry["chunks"])})
        else:
            merged.append(entry)
    return merged


def replayed_outcomes(entries: list[Entry]) -> dict[int, tuple[str, Outcome]]:
    """Return the outcomes recorded in ``entries``: ``{index: (task key, outcome)}``."""
    outcomes: dict[int, tuple[str, Outcome]] = {}
    for entry in entries:
        if entry.get("kind") == "result" and isinstance(entry.get("index"), int):
            outcome = Outcome(
                entry["index"],
                str(entry.get("name", "")),
                entry.get("status", "error"),
                value=entry.get("value"),
                error=entry.get("error"),
            )
            outcomes[entry["index"]] = (str(entry.get("key")), outcome)
    return outcomes
