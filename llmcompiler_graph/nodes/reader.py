"""The sync round's reader of the planner's stream: work-first, on the unit's worker threads.

The reader feeds each chunk to the round and submits the jobs it yields. When a chunk
dispatches a call, the thread reading the stream makes that call itself, at once, and a
spare worker thread (started between chunks, see ``keep_worker_ready``) reads on: the call
starts on the thread whose CPU just parsed it, with no hand-over between threads on its
way to the tool (dispatch latency). Handing the stream over instead costs that
hand-over too, but the next chunk is a token away, so nothing waits for it. The next thread
also writes the chunks the call was parsed from to the node's journal, once the call has
started (with a checkpointer, writing first delayed every call).

The node's thread only starts the reader and waits for it to end. It never makes a call
itself: a call that hangs past ``task_timeout`` is abandoned on its worker thread, and the
node still ends on time.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Protocol

from llmcompiler_graph.fetching.jobs import Job
from llmcompiler_graph.fetching.threads import TaskFetchingUnit
from llmcompiler_graph.nodes.cancel import CancelScope

__all__ = ["PlanReader"]


class Round(Protocol):
    """What the reader needs of a planning round (:class:`~.plan_and_schedule.PlanRound`)."""

    @property
    def done(self) -> bool:
        """Tell whether the plan ended (the rest of the stream is not read)."""
        ...

    def feed(self, chunk: object) -> Iterable[Job]:
        """Add a chunk; return the jobs to submit now."""
        ...

    def record(self) -> None:
        """Write the chunks that completed tasks to the node's journal (if any did)."""
        ...

    def fail(self, exc: Exception) -> None:
        """Record that reading the plan failed with ``exc``."""
        ...


class PlanReader:
    """Read one plan's stream on ``tfu``'s worker threads, making each call it dispatches.

    Create it on the node's thread (it captures the node's context, in which every chunk
    is read), then :meth:`run` it there.
    """

    def __init__(
        self, stream: Iterable[object], round_: Round, tfu: TaskFetchingUnit, scope: CancelScope
    ) -> None:
        """Read ``stream`` into ``round_`` and submit to ``tfu``, until ``scope`` is cancelled."""
        self._chunks: Iterator[object] = iter(stream)
        self._round = round_
        self._tfu = tfu
        self._scope = scope
        # One context for the whole stream, entered by one thread at a time: a value the
        # model's stream sets on one chunk can be reset on a later one, on another thread.
        self._context = contextvars.copy_context()
        self._ended = threading.Event()
        self._raised: BaseException | None = None

    def run(self) -> None:
        """Read the stream to its end on worker threads; return when it was closed.

        Re-raises what is not an ``Exception`` (the round records those as its failure).
        """
        self._tfu.hand_over(self._turn)
        self._ended.wait()
        if self._raised is not None:
            raise self._raised

    def _turn(self) -> None:  # on a worker thread
        call = self._context.run(self._read)
        if call is None:
            return
        if not self._ended.is_set():  # the next thread reads on, then this one calls
            self._tfu.hand_over(self._turn)
        call()

    def _read(self) -> Callable[[], None] | None:
        """Read until a chunk dispatches a call, and return it for this thread to make.

        Past the plan's end (or a failure, or a cancel) the stream is closed and the call
        the last chunk dispatched, if any, is returned all the same; ``None`` if none.
        """
        taken: Callable[[], None] | None = None
        ended = True
        try:
            self._round.record()  # what the call the last thread took was parsed from
            for chunk in self._chunks:
                for job in self._round.feed(chunk):
                    call = self._tfu.submit(job, here=taken is None)
                    taken = taken or call
                if self._round.done or self._scope.cancelled:
                    break
                if taken is not None:
                    ended = False
                    return taken  # the next thread records its chunks (see Round.record)
                self._round.record()
                # A thread to read on after the next dispatch, started while the model
                # writes (not right after a dispatch: it would slow the call just made).
                self._tfu.keep_worker_ready()
        except Exception as exc:  # the model's failure is an observation, not a crash
            self._round.fail(exc)
        except BaseException as exc:
            self._raised = exc
        finally:
            if ended:
                self._end()
        return taken

    def _end(self) -> None:
        try:
            if isinstance(self._chunks, Generator):  # stop the model's stream early
                self._chunks.close()
        except Exception as exc:
            self._round.fail(exc)
        except BaseException as exc:
            self._raised = self._raised or exc
        finally:
            self._ended.set()
