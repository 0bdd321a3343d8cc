"""The sync round's stream reader: work-first calls, one context across threads, failures."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterable, Iterator, Mapping

import pytest

from llmcompiler_graph.fetching.jobs import Job
from llmcompiler_graph.fetching.threads import TaskFetchingUnit
from llmcompiler_graph.nodes.cancel import CancelScope
from llmcompiler_graph.nodes.reader import PlanReader

NODE: contextvars.ContextVar[str] = contextvars.ContextVar("node", default="none")
SET_BY_STREAM: contextvars.ContextVar[str] = contextvars.ContextVar("stream", default="none")
WAIT_S = 10.0  # generous: only a broken reader ever waits this long


class FakeRound:
    """A round whose chunks are job lists (or ``"end"``, which ends the plan)."""

    def __init__(self) -> None:
        self.done = False
        self.failures: list[Exception] = []
        self.fed = 0
        self.records: list[tuple[int, int]] = []  # (chunks fed by then, recording thread)
        self.recorded = threading.Event()

    def feed(self, chunk: object) -> Iterable[Job]:
        if chunk == "end":
            self.done = True
            return []
        assert isinstance(chunk, list)
        self.fed += 1
        return chunk

    def record(self) -> None:
        self.records.append((self.fed, threading.get_ident()))
        if self.fed:
            self.recorded.set()

    def fail(self, exc: Exception) -> None:
        self.failures.append(exc)


def job(index: int, fn: object = None) -> Job:
    def call(deps: Mapping[int, object]) -> object:
        return fn() if callable(fn) else threading.get_ident()

    return Job(index, f"tool{index}", call)


def read(chunks: Iterable[object], scope: CancelScope | None = None) -> tuple[FakeRound, dict]:
    round_ = FakeRound()
    with TaskFetchingUnit(max_concurrency=4) as tfu:
        PlanReader(chunks, round_, tfu, scope or CancelScope()).run()
        tfu.close()
        outcomes = tfu.wait(timeout=WAIT_S)
    return round_, {i: o.value for i, o in outcomes.items()}


def test_a_call_runs_on_the_thread_that_read_it_while_another_thread_reads_on() -> None:
    readers: list[int] = []
    third_chunk_read = threading.Event()

    def first_call() -> object:
        # Returns only once the stream went on without it: the call does not hold the stream.
        assert third_chunk_read.wait(WAIT_S)
        return threading.get_ident()

    def stream() -> Iterator[object]:
        readers.append(threading.get_ident())
        yield [job(1, first_call)]
        readers.append(threading.get_ident())
        yield []
        readers.append(threading.get_ident())
        third_chunk_read.set()
        yield [job(2)]

    _, values = read(stream())
    assert values[1] == readers[0]  # made by the thread that parsed it, with no hand-over
    assert values[2] == readers[2]
    assert readers[1] != readers[0]  # the stream moved on to another thread
    assert threading.get_ident() not in {*readers, *values.values()}  # never the node's


def test_the_chunks_of_a_call_are_recorded_by_the_next_thread_once_the_call_is_made() -> None:
    # With a checkpointer, writing the journal before the call cost it 0.3-0.5 ms.
    def first_call() -> object:
        # Blocks until its chunks were recorded: the record does not wait for the call.
        assert round_.recorded.wait(WAIT_S)
        return threading.get_ident()

    round_ = FakeRound()

    def stream() -> Iterator[object]:
        yield [job(1, first_call)]
        yield []

    with TaskFetchingUnit(max_concurrency=4) as tfu:
        PlanReader(stream(), round_, tfu, CancelScope()).run()
        tfu.close()
        values = {i: o.value for i, o in tfu.wait(timeout=WAIT_S).items()}
    first_records = [thread for fed, thread in round_.records if fed == 1]
    assert first_records and values[1] not in first_records  # another thread recorded it


def test_every_chunk_is_read_in_the_nodes_context_one_context_for_the_whole_stream() -> None:
    seen: list[str] = []

    def stream() -> Iterator[object]:
        token = SET_BY_STREAM.set("set")  # reset two chunks (and threads) later
        seen.append(NODE.get())
        yield [job(1)]
        seen.append(SET_BY_STREAM.get())
        yield [job(2)]
        SET_BY_STREAM.reset(token)  # raises ValueError if read in another context
        seen.append(SET_BY_STREAM.get())
        yield [job(3)]

    NODE.set("node")
    round_, values = read(stream())
    assert seen == ["node", "set", "none"]
    assert round_.failures == []
    assert sorted(values) == [1, 2, 3]


def test_a_failing_stream_is_the_rounds_failure_and_calls_already_made_finish() -> None:
    def stream() -> Iterator[object]:
        yield [job(1)]
        raise ConnectionError("the model's connection dropped")

    round_, values = read(stream())
    assert [str(e) for e in round_.failures] == ["the model's connection dropped"]
    assert list(values) == [1]


class Stop(BaseException):
    """Not an ``Exception``: must reach the node, not become an observation."""


def test_what_is_not_an_exception_reaches_the_node() -> None:
    def stream() -> Iterator[object]:
        yield [job(1)]
        raise Stop

    round_ = FakeRound()
    with TaskFetchingUnit(max_concurrency=4) as tfu, pytest.raises(Stop):
        PlanReader(stream(), round_, tfu, CancelScope()).run()


def test_the_stream_is_closed_when_the_plan_ends_or_the_run_is_cancelled() -> None:
    closed: list[str] = []
    scope = CancelScope()

    def stream(name: str) -> Iterator[object]:
        try:
            yield [job(1)]
            if name == "cancelled":
                scope.cancel()
            yield "end" if name == "ended" else []
            yield [job(2)]  # never read
        finally:
            closed.append(name)

    for name in ("ended", "cancelled"):
        _, values = read(stream(name), scope if name == "cancelled" else None)
        assert list(values) == [1]
    assert closed == ["ended", "cancelled"]


# -- the unit's side: submit(here=True) -----------------------------------------------------


def test_submit_here_returns_the_started_call_for_the_caller_to_make() -> None:
    ran: list[int] = []
    with TaskFetchingUnit(max_concurrency=1) as tfu:
        first = tfu.submit(job(1, lambda: ran.append(threading.get_ident())), here=True)
        assert first is not None and ran == []  # started in the core, not yet made
        waiting = tfu.submit(job(2), here=True)  # the one slot is taken: nothing started
        assert waiting is None
        first()  # makes the call here, then starts job 2 on a worker as the slot frees
        tfu.close()
        outcomes = tfu.wait(timeout=WAIT_S)
    assert ran == [threading.get_ident()]
    assert outcomes[1].ok and outcomes[2].ok
    assert outcomes[2].value != threading.get_ident()


def test_a_call_taken_by_the_caller_still_times_out() -> None:
    release = threading.Event()
    with TaskFetchingUnit(max_concurrency=2, timeout=0.05) as tfu:
        call = tfu.submit(job(1, lambda: release.wait(WAIT_S)), here=True)
        assert call is not None
        maker = threading.Thread(target=call)
        maker.start()
        tfu.close()
        outcomes = tfu.wait(timeout=WAIT_S)  # ends at the timeout, not when the call returns
        release.set()
        maker.join(WAIT_S)
    assert outcomes[1].status == "timeout"
