"""Both task fetching units (threads and asyncio) alone: pure Python jobs, no LangChain.

Every test runs against both drivers (``driver`` fixture); jobs are plain functions, which
both run on worker threads. Async-only behaviour (coroutines on the loop) is in
test_async.py, the pure core's bookkeeping in test_dependencies.py.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from drivers import DRIVERS, Unit

from llmcompiler_graph.errors import SchedulerError
from llmcompiler_graph.fetching.jobs import Job, Outcome, TaskEvent

pytestmark = pytest.mark.timeout(60)

Fn = Callable[[Mapping[int, object]], object]
Driver = Callable[..., Unit]


@pytest.fixture(params=sorted(DRIVERS))
def driver(request: pytest.FixtureRequest) -> Driver:
    """The unit's class: ``TaskFetchingUnit``, or the asyncio one behind a sync facade."""
    return DRIVERS[request.param]


@pytest.fixture
def run(driver: Driver) -> Callable[..., dict[int, Outcome]]:
    def run(jobs: list[Job], **kwargs: Any) -> dict[int, Outcome]:
        with driver(max_concurrency=kwargs.pop("max_concurrency", 8), **kwargs) as tfu:
            for job in jobs:
                tfu.submit(job)
            tfu.close()
            return tfu.wait(timeout=30)

    return run


def const(value: object) -> Fn:
    return lambda deps: value


def deps_of(*indices: int) -> frozenset[int]:
    return frozenset(indices)


class Timeline:
    """Records when each call starts and ends, and how many run at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.start: dict[int, float] = {}
        self.end: dict[int, float] = {}
        self.running = 0
        self.peak = 0

    def sleeper(self, index: int, seconds: float, value: object = None) -> Fn:
        def fn(deps: Mapping[int, object]) -> object:
            with self.lock:
                self.start[index] = time.perf_counter()
                self.running += 1
                self.peak = max(self.peak, self.running)
            time.sleep(seconds)
            with self.lock:
                self.running -= 1
                self.end[index] = time.perf_counter()
            return value if value is not None else index

        return fn


# -- dependency resolution --------------------------------------------------------------------


def test_diamond_passes_the_right_values(run: Any) -> None:
    seen: dict[int, dict[int, object]] = {}

    def record(index: int, fn: Callable[[Mapping[int, object]], object]) -> Fn:
        def wrapped(deps: Mapping[int, object]) -> object:
            seen[index] = dict(deps)
            return fn(deps)

        return wrapped

    outcomes = run(
        [
            Job(1, "root", record(1, const(10))),
            Job(2, "left", record(2, lambda d: d[1] + 1), deps_of(1)),  # type: ignore[operator]
            Job(3, "right", record(3, lambda d: d[1] * 2), deps_of(1)),  # type: ignore[operator]
            Job(4, "sink", record(4, lambda d: (d[2], d[3])), deps_of(2, 3)),
        ]
    )
    assert {i: o.value for i, o in outcomes.items()} == {1: 10, 2: 11, 3: 20, 4: (11, 20)}
    assert seen == {1: {}, 2: {1: 10}, 3: {1: 10}, 4: {2: 11, 3: 20}}
    assert all(o.status == "ok" for o in outcomes.values())
    assert outcomes[4].started_at is not None
    assert outcomes[4].started_at >= max(outcomes[2].finished_at, outcomes[3].finished_at)


def test_chain_runs_in_order_and_accumulates(run: Any) -> None:
    jobs = [Job(1, "step", const(0))]
    jobs += [Job(i, "step", lambda d, i=i: d[i - 1] + 1, deps_of(i - 1)) for i in range(2, 51)]  # type: ignore[operator,misc]
    outcomes = run(jobs)
    assert outcomes[50].value == 49
    for i in range(2, 51):
        assert outcomes[i].started_at is not None
        assert outcomes[i].started_at >= outcomes[i - 1].finished_at


def test_prior_outcomes_can_be_depended_on(run: Any) -> None:
    prior = {
        1: Outcome(1, "search", "ok", value="earlier"),
        2: Outcome(2, "search", "error", error="task 2 'search' failed: boom"),
    }
    outcomes = run(
        [
            Job(3, "use", lambda d: f"got {d[1]}", deps_of(1)),
            Job(4, "use", const("never"), deps_of(2)),
        ],
        completed=prior,
    )
    assert set(outcomes) == {3, 4}  # earlier outcomes are not returned again
    assert outcomes[3].value == "got earlier"
    assert outcomes[4].status == "skipped"
    assert "depends on task 2 'search', which failed" in str(outcomes[4].error)


# -- parallelism ------------------------------------------------------------------------------


def test_independent_tasks_overlap(run: Any) -> None:
    tl = Timeline()
    outcomes = run([Job(i, "sleep", tl.sleeper(i, 0.3)) for i in (1, 2, 3)])
    assert all(o.ok for o in outcomes.values())
    # Every call started before any call ended: all three ran at the same time.
    assert max(tl.start.values()) < min(tl.end.values())
    assert tl.peak == 3


def test_task_starts_before_the_submitter_finishes_submitting(driver: Driver) -> None:
    started = threading.Event()

    def first(deps: Mapping[int, object]) -> object:
        started.set()
        return 1

    with driver(max_concurrency=2) as tfu:
        tfu.submit(Job(1, "first", first))
        # The plan is still "streaming": nothing else submitted, close() not called.
        assert started.wait(timeout=10), "task 1 did not start until the plan ended"
        tfu.submit(Job(2, "second", lambda d: d[1], deps_of(1)))  # type: ignore[index]
        tfu.close()
        outcomes = tfu.wait(timeout=10)
    assert outcomes[2].value == 1
    assert outcomes[1].started_at is not None
    assert outcomes[1].started_at < outcomes[2].submitted_at


def test_dependent_starts_as_soon_as_its_dependency_finishes_not_after_others(run: Any) -> None:
    tl = Timeline()
    outcomes = run(
        [
            Job(1, "fast", tl.sleeper(1, 0.05)),
            Job(2, "slow", tl.sleeper(2, 0.8)),
            Job(3, "after-fast", tl.sleeper(3, 0.05), deps_of(1)),
        ]
    )
    assert all(o.ok for o in outcomes.values())
    assert tl.start[3] >= tl.end[1]
    assert tl.end[3] < tl.end[2]  # did not wait for the unrelated slow task


@pytest.mark.parametrize("cap", [1, 3])
def test_max_concurrency_is_never_exceeded(cap: int, driver: Driver) -> None:
    tl = Timeline()
    # The first `cap` calls meet at a barrier: it breaks (and they fail) unless all of them
    # run at once, so the cap is shown to be reached without relying on timing.
    barrier = threading.Barrier(cap, timeout=10)

    def meet(index: int) -> Fn:
        sleeper = tl.sleeper(index, 0.0)

        def fn(deps: Mapping[int, object]) -> object:
            barrier.wait()
            return sleeper(deps)

        return fn

    with driver(max_concurrency=cap) as tfu:
        for i in range(1, 25):
            tfu.submit(Job(i, "sleep", meet(i) if i <= cap else tl.sleeper(i, 0.02)))
        tfu.close()
        outcomes = tfu.wait(timeout=30)
        assert tfu.peak_running == cap
    assert len(outcomes) == 24 and all(o.ok for o in outcomes.values()), outcomes
    assert tl.peak <= cap


# -- failures ---------------------------------------------------------------------------------


def test_failure_skips_dependents_transitively_and_names_the_failure(run: Any) -> None:
    calls: list[int] = []

    def boom(deps: Mapping[int, object]) -> object:
        raise ValueError("no such page")

    def track(index: int) -> Fn:
        def fn(deps: Mapping[int, object]) -> object:
            calls.append(index)
            return index

        return fn

    outcomes = run(
        [
            Job(1, "search", boom),
            Job(2, "math", track(2), deps_of(1)),
            Job(3, "summarize", track(3), deps_of(2)),
            Job(4, "search", track(4)),
            Job(5, "combine", track(5), deps_of(3, 4)),
        ]
    )
    assert outcomes[1].status == "error"
    assert outcomes[1].error == "task 1 'search' failed: ValueError: no such page"
    assert outcomes[2].status == "skipped"
    assert outcomes[2].error == (
        "task 2 'math' did not run: it depends on task 1 'search', which failed"
    )
    assert outcomes[3].status == "skipped"
    assert outcomes[3].error == (
        "task 3 'summarize' did not run: it depends on task 2 'math', which was skipped "
        "(because task 1 'search' failed)"
    )
    assert outcomes[5].status == "skipped"
    assert outcomes[4].ok
    assert calls == [4]  # nothing downstream of the failure ran
    assert outcomes[2].started_at is None and outcomes[2].duration == 0.0


def test_dependency_already_failed_at_submit_time_is_skipped(driver: Driver) -> None:
    with driver(max_concurrency=2) as tfu:
        tfu.submit(Job(1, "bad", None, error="task 1 'bad': unknown tool 'bad'"))
        tfu.submit(Job(2, "use", const(2), deps_of(1)))
        tfu.close()
        outcomes = tfu.wait(timeout=10)
    assert outcomes[1].status == "error" and outcomes[1].error == "task 1 'bad': unknown tool 'bad'"
    assert outcomes[2].status == "skipped" and "task 1 'bad', which failed" in str(
        outcomes[2].error
    )


def test_long_failed_chain_does_not_recurse(driver: Driver) -> None:
    n = 3 * sys.getrecursionlimit()
    jobs = [Job(1, "bad", None, error="broken")]
    jobs += [Job(i, "step", const(i), deps_of(i - 1)) for i in range(2, n + 1)]
    # Submit the whole chain first, then fail its head: the skip cascades through n jobs.
    gate = threading.Event()

    def head(deps: Mapping[int, object]) -> object:
        gate.wait(10)
        raise RuntimeError("late failure")

    jobs[0] = Job(1, "head", head)
    with driver(max_concurrency=2) as tfu:
        for job in jobs:
            tfu.submit(job)
        gate.set()
        tfu.close()
        outcomes = tfu.wait(timeout=30)
    assert outcomes[1].status == "error"
    assert all(outcomes[i].status == "skipped" for i in range(2, n + 1))


def test_base_exception_in_a_tool_is_an_error_not_a_hang(run: Any) -> None:
    def exits(deps: Mapping[int, object]) -> object:
        raise SystemExit(3)

    outcomes = run([Job(1, "exit", exits), Job(2, "ok", const("fine"))])
    assert outcomes[1].status == "error" and "SystemExit" in str(outcomes[1].error)
    assert outcomes[2].value == "fine"


def test_timeout_becomes_an_error_and_the_run_goes_on(driver: Driver) -> None:
    release = threading.Event()
    finished_late = threading.Event()

    def hangs(deps: Mapping[int, object]) -> object:
        release.wait(30)
        finished_late.set()
        return "too late"

    tl = Timeline()
    try:
        with driver(max_concurrency=1, timeout=0.3) as tfu:
            tfu.submit(Job(1, "hang", hangs))
            tfu.submit(Job(2, "use", const("never"), deps_of(1)))
            tfu.submit(Job(3, "independent", tl.sleeper(3, 0.01, "done")))
            tfu.close()
            outcomes = tfu.wait(timeout=20)
            assert tfu.abandoned_threads == 1
            assert outcomes[1].status == "timeout"
            assert outcomes[1].error == (
                "task 1 'hang' timed out after 0.3 s; raise task_timeout or make the tool faster"
            )
            assert outcomes[2].status == "skipped" and "which timed out" in str(outcomes[2].error)
            # With max_concurrency=1 the hung call's slot was freed for task 3.
            assert outcomes[3].value == "done"
            assert not finished_late.is_set()
            release.set()
            assert finished_late.wait(10)
    finally:
        release.set()
    assert outcomes[1].value is None  # the late result was discarded


def test_fast_tasks_are_not_timed_out(run: Any) -> None:
    outcomes = run([Job(i, "quick", const(i)) for i in range(1, 20)], timeout=5.0)
    assert all(o.ok for o in outcomes.values())


# -- scale ------------------------------------------------------------------------------------


def test_random_dag_of_1000_tasks_completes_with_correct_results(run: Any) -> None:
    rng = random.Random(1234)
    n = 1000
    deps: dict[int, frozenset[int]] = {
        i: frozenset(rng.sample(range(1, i), k=min(i - 1, rng.randint(0, 3))))
        for i in range(1, n + 1)
    }
    expected: dict[int, int] = {}
    for i in range(1, n + 1):
        expected[i] = (i + sum(expected[d] for d in deps[i])) % 1_000_003

    def compute(i: int) -> Fn:
        return lambda values: (i + sum(values[d] for d in deps[i])) % 1_000_003  # type: ignore[misc]

    outcomes = run(
        [Job(i, "node", compute(i), deps[i]) for i in range(1, n + 1)], max_concurrency=8
    )
    assert {i: o.value for i, o in outcomes.items()} == expected
    for i, outcome in outcomes.items():
        assert outcome.started_at is not None
        assert all(outcome.started_at >= outcomes[d].finished_at for d in deps[i])


# -- events -----------------------------------------------------------------------------------


def test_events_arrive_in_order_for_each_task(run: Any) -> None:
    events: list[TaskEvent] = []
    tl = Timeline()
    jobs = [
        Job(i, "sleep", tl.sleeper(i, 0.01), deps_of(i - 1) if i % 3 == 0 else frozenset())
        for i in range(1, 13)
    ]
    run(jobs, on_event=events.append, max_concurrency=4)
    for i in range(1, 13):
        kinds = [e.kind for e in events if e.index == i]
        assert kinds == ["planned", "started", "finished"], (i, kinds)
    finished = [e for e in events if e.kind == "finished"]
    assert all(e.outcome is not None and e.outcome.ok for e in finished)


def test_a_listener_that_raises_does_not_break_scheduling(run: Any) -> None:
    calls = 0

    def broken(event: TaskEvent) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("listener bug")

    outcomes = run(
        [Job(1, "a", const(1)), Job(2, "b", lambda d: d[1] + 1, deps_of(1))],  # type: ignore[operator]
        on_event=broken,
    )
    assert outcomes[2].value == 2
    assert calls == 6  # planned, started, finished for each task


# -- protocol ---------------------------------------------------------------------------------


def test_protocol_errors_raise_scheduler_error(driver: Driver) -> None:
    with driver(max_concurrency=1) as tfu:
        with pytest.raises(SchedulerError, match=r"wait\(\) before close\(\)"):
            tfu.wait(timeout=1)
        tfu.submit(Job(1, "a", const(1)))
        with pytest.raises(SchedulerError, match="task 1 'a': index already used"):
            tfu.submit(Job(1, "a", const(1)))
        with pytest.raises(SchedulerError, match=r"depends on unknown task\(s\) \[7\]"):
            tfu.submit(Job(2, "b", const(2), deps_of(7)))
        with pytest.raises(SchedulerError, match="unknown task"):
            tfu.submit(Job(3, "self", const(3), deps_of(3)))
        tfu.close()
        with pytest.raises(SchedulerError, match="submitted after close"):
            tfu.submit(Job(4, "late", const(4)))
        assert set(tfu.wait(timeout=10)) == {1}
    with pytest.raises(SchedulerError, match="max_concurrency must be at least 1"):
        driver(max_concurrency=0)
    with pytest.raises(SchedulerError, match="timeout must be positive"):
        driver(max_concurrency=1, timeout=0)


def test_wait_with_a_timeout_names_the_unfinished_tasks(driver: Driver) -> None:
    release = threading.Event()
    try:
        with driver(max_concurrency=1) as tfu:
            tfu.submit(Job(5, "slow", lambda d: release.wait(10)))
            tfu.close()
            with pytest.raises(SchedulerError, match=r"tasks \[5\] still unfinished"):
                tfu.wait(timeout=0.1)
    finally:
        release.set()


# -- propagation, cancellation, the ceiling -------------------------------------------------


class Bubble(Exception):
    """Stands for LangGraph's GraphBubbleUp: not a task failure."""


def test_a_propagated_exception_stops_new_starts_and_is_reraised(driver: Driver) -> None:
    raise_now = threading.Event()
    second_done = threading.Event()
    started: list[int] = []

    def bubble(deps: Mapping[int, object]) -> object:
        started.append(1)
        raise_now.wait(10)
        raise Bubble("pause here")

    def slow(deps: Mapping[int, object]) -> object:
        started.append(2)
        raise_now.set()
        time.sleep(0.2)  # still running when job 1 raises: it must be let finish
        second_done.set()
        return 2

    with driver(max_concurrency=2, propagate=(Bubble,)) as tfu:
        tfu.submit(Job(1, "ask", bubble))
        tfu.submit(Job(2, "slow", slow))
        tfu.submit(Job(3, "queued", const(3)))  # waits for a slot; must never start
        tfu.submit(Job(4, "after", const(4), deps_of(2)))  # its dependency ends after the raise
        tfu.close()
        with pytest.raises(Bubble, match="pause here"):
            tfu.wait(timeout=30)
        assert second_done.is_set()  # the running task finished before wait() raised
        assert not tfu.cancel_event.is_set()
    assert sorted(started) == [1, 2]


def test_cancel_ends_the_run_at_once_and_tells_running_tools(driver: Driver) -> None:
    running = threading.Event()
    saw_cancel = threading.Event()
    started: list[int] = []
    with driver(max_concurrency=1) as tfu:

        def watches(deps: Mapping[int, object]) -> object:
            started.append(1)
            running.set()
            if tfu.cancel_event.wait(30):
                saw_cancel.set()
            return "late"

        tfu.submit(Job(1, "long", watches))
        tfu.submit(Job(2, "after", const(2), deps_of(1)))
        tfu.submit(Job(3, "queued", lambda d: started.append(3)))
        assert running.wait(10)
        tfu.cancel()
        outcomes = tfu.wait(timeout=5)
        assert saw_cancel.wait(10)
    assert started == [1]
    assert outcomes[1].status == "error"
    assert outcomes[1].error == ("task 1 'long' was cancelled while running: the run was cancelled")
    assert outcomes[1].value is None  # its late result is discarded
    assert outcomes[2].status == outcomes[3].status == "skipped"
    assert outcomes[3].error == "task 3 'queued' did not run: the run was cancelled"


def test_leaving_the_block_early_cancels_and_starts_nothing_more(driver: Driver) -> None:
    running = threading.Event()
    release = threading.Event()
    started: list[int] = []

    def first(deps: Mapping[int, object]) -> object:
        started.append(1)
        running.set()
        release.wait(10)
        return 1

    event: threading.Event | None = None
    try:
        with pytest.raises(KeyError), driver(max_concurrency=4) as tfu:
            event = tfu.cancel_event
            tfu.submit(Job(1, "first", first))
            tfu.submit(Job(2, "after", lambda d: started.append(2), deps_of(1)))
            assert running.wait(10)
            raise KeyError("the consumer went away")
        assert event is not None and event.is_set()
    finally:
        release.set()
    time.sleep(0.1)  # give a wrongly started dependent the chance to show up
    assert started == [1]


def test_concurrency_is_clamped_to_the_ceiling(driver: Driver) -> None:
    from llmcompiler_graph.fetching.jobs import MAX_CONCURRENCY

    tl = Timeline()
    barrier = threading.Barrier(MAX_CONCURRENCY, timeout=20)

    def meet(index: int) -> Fn:
        sleeper = tl.sleeper(index, 0.0)

        def fn(deps: Mapping[int, object]) -> object:
            if index <= MAX_CONCURRENCY:
                barrier.wait()
            return sleeper(deps)

        return fn

    with driver(max_concurrency=10**6) as tfu:
        for i in range(1, MAX_CONCURRENCY + 40):
            tfu.submit(Job(i, "x", meet(i)))
        tfu.close()
        outcomes = tfu.wait(timeout=60)
        assert tfu.peak_running == MAX_CONCURRENCY
    assert all(o.ok for o in outcomes.values())
    assert tl.peak <= MAX_CONCURRENCY
