"""The worker pool keeps a thread ready on request, so a call need not wait for one to start.

Starting a thread waits for it to run; the planning round asks the pool for an idle thread
between the plan's chunks (``TaskFetchingUnit.keep_worker_ready``), so the task completed by
the next chunk is handed to a thread that is already waiting.
"""

from __future__ import annotations

import threading

import pytest

from llmcompiler_graph.fetching.jobs import Job
from llmcompiler_graph.fetching.threads import TaskFetchingUnit
from llmcompiler_graph.fetching.workers import WorkerPool

pytestmark = pytest.mark.timeout(30)


def test_keep_one_idle_starts_one_thread_that_takes_the_next_call() -> None:
    pool = WorkerPool("spare")
    try:
        pool.keep_one_idle()
        pool.keep_one_idle()  # one is idle already: nothing more
        assert pool.threads_started == 1
        ran = threading.Event()
        where: list[str] = []

        def call() -> None:
            where.append(threading.current_thread().name)
            ran.set()

        pool.submit(call)
        assert ran.wait(10)
        assert pool.threads_started == 1 and where == ["spare-1"]
    finally:
        pool.shutdown()


def test_a_busy_pool_starts_a_new_spare_and_shutdown_ends_every_thread() -> None:
    pool = WorkerPool("busy")
    release = threading.Event()
    pool.keep_one_idle()
    pool.submit(release.wait)  # takes the spare
    pool.keep_one_idle()  # none idle now: a second thread
    assert pool.threads_started == 2
    release.set()
    pool.shutdown()
    pool.keep_one_idle()  # after shutdown: no-op
    threads = [t for t in threading.enumerate() if t.name.startswith("busy-")]
    for thread in threads:
        thread.join(10)
    assert not any(t.is_alive() for t in threads)
    assert pool.threads_started == 2


def test_the_unit_hands_a_job_to_the_thread_it_kept_ready() -> None:
    names: list[str] = []
    with TaskFetchingUnit(max_concurrency=4, thread_name="ready") as tfu:
        tfu.keep_worker_ready()
        tfu.submit(Job(1, "t", lambda _deps: names.append(threading.current_thread().name)))
        tfu.close()
        outcomes = tfu.wait(10)
        tfu.keep_worker_ready()  # closed: no new thread
    assert outcomes[1].ok and names == ["ready-1"]
