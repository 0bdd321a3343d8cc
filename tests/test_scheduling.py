"""Limits in the core and the drivers: per-tool limits, rate limits, priority, fusion."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from drivers import DRIVERS, Unit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmcompiler_graph.errors import SchedulerError
from llmcompiler_graph.fetching.core import Priority, Scheduler, Start, Step
from llmcompiler_graph.fetching.jobs import BatchForm, Job, TaskEvent
from llmcompiler_graph.fetching.limits import RateLimit

pytestmark = pytest.mark.timeout(120)


def noop(deps: Mapping[int, object]) -> object:
    return None


def job(index: int, *deps: int, name: str = "t", batch: BatchForm | None = None) -> Job:
    return Job(index, name, noop, frozenset(deps), batch=batch)


def started(step: Step) -> list[int]:
    return [j.index for s in step.starts for j in s.jobs]


# -- priority -----------------------------------------------------------------------------------


def order_of(priority: Priority) -> list[int]:
    """Cap 1; task 1 runs while 2..6 arrive: 2, 6 alone; 3 -> 4 -> 5 a chain."""
    core = Scheduler(max_concurrency=1, priority=priority)
    (first,) = core.submit(job(1)).starts
    for j in (job(2), job(3), job(4, 3), job(5, 4), job(6)):
        assert core.submit(j).starts == []
    order, running = [1], first
    while True:
        starts = core.finish(running).starts
        if not starts:
            return order
        (running,) = starts
        order.append(running.job.index)


def test_critical_path_starts_the_longest_chain_first_ties_in_plan_order() -> None:
    assert order_of("critical_path") == [1, 3, 4, 2, 5, 6]


def test_fifo_starts_in_the_order_tasks_became_ready() -> None:
    assert order_of("fifo") == [1, 2, 3, 6, 4, 5]


def test_chains_grow_as_the_plan_streams() -> None:
    core = Scheduler(max_concurrency=1, priority="critical_path")
    (blocker,) = core.submit(job(1)).starts
    core.submit(job(2))
    core.submit(job(3))
    core.submit(job(4, 3))  # known only now: 3 has a dependent, 2 has none
    assert started(core.finish(blocker)) == [3]


def test_an_unknown_priority_is_refused() -> None:
    with pytest.raises(SchedulerError, match="priority must be 'fifo' or 'critical_path'"):
        Scheduler(max_concurrency=1, priority="lifo")  # type: ignore[arg-type]


# -- limits -------------------------------------------------------------------------------------


def test_a_tool_at_its_limit_does_not_hold_back_other_tools() -> None:
    core = Scheduler(max_concurrency=3, tool_limits={"search": 1})
    assert started(core.submit(job(1, name="search"))) == [1]
    assert started(core.submit(job(2, name="search"))) == []  # waits for search's slot
    assert started(core.submit(job(3, name="math"))) == [3]
    assert started(core.submit(job(4, name="math"))) == [4]
    (first,) = [s for s in [core._running[1]]]
    assert started(core.finish(first)) == [2]


def test_a_rate_limit_waits_on_a_timer_not_a_poll() -> None:
    now = [0.0]
    core = Scheduler(
        max_concurrency=4, rate_limits={"search": RateLimit(2.0)}, clock=lambda: now[0]
    )
    assert started(core.submit(job(1, name="search"))) == [1]
    step = core.submit(job(2, name="search"))
    assert step.starts == [] and step.wake_at == pytest.approx(0.5)
    assert started(core.submit(job(3, name="math"))) == [3]  # other tools go on
    now[0] = 0.5
    assert started(core.tick()) == [2]


def test_limits_are_checked() -> None:
    with pytest.raises(SchedulerError, match=r"tool_limits\['search'\] must be an int"):
        Scheduler(max_concurrency=1, tool_limits={"search": 0})
    with pytest.raises(SchedulerError, match="per_second > 0"):
        RateLimit(0)


# -- fusion -------------------------------------------------------------------------------------


def batched(calls: list[list[object]], fail: bool = False) -> BatchForm:
    def many(inputs: list[object]) -> object:
        calls.append(inputs)
        if fail:
            raise ConnectionError("search API down")
        return [f"result {i}" for i in inputs]

    return BatchForm("search", lambda deps: deps.get(0, "q"), many)


def fused_start(fail: bool = False) -> tuple[Scheduler, Start, list[list[object]]]:
    calls: list[list[object]] = []
    core = Scheduler(max_concurrency=4, tool_limits={"search": 1})
    form = batched(calls, fail)
    (first,) = core.submit(job(1, name="search", batch=form)).starts
    for i in (2, 3, 4):
        assert core.submit(job(i, name="search", batch=form)).starts == []
    core.submit(job(5, 3, name="math"))
    step = core.finish(first, value="one")
    (start,) = step.starts
    assert [j.index for j in start.jobs] == [2, 3, 4] and start.fused
    assert [(e.kind, e.index, e.fused) for e in step.events if e.kind == "started"] == [
        ("started", i, (2, 3, 4)) for i in (2, 3, 4)
    ]
    return core, start, calls


def test_waiting_calls_of_a_batched_tool_are_fused_and_split_back() -> None:
    core, start, calls = fused_start()
    value = start.call()
    assert calls == [["q", "q", "q"]]
    step = core.finish(start, value=value)
    assert started(step) == [5]  # $3 of a fused task releases its dependent
    (math,) = step.starts
    assert math.deps == ({3: "result q"},)
    core.finish(math, value=5)
    core.close()
    results = core.results()
    assert {i: results[i].value for i in (1, 2, 3, 4)} == {
        1: "one",
        2: "result q",
        3: "result q",
        4: "result q",
    }


def test_a_failed_batch_fails_each_fused_task_with_the_same_error() -> None:
    core, start, _ = fused_start(fail=True)
    with pytest.raises(ConnectionError) as caught:
        start.call()
    core.finish(start, error=caught.value)
    core.close()
    results = core.results()
    for i in (2, 3, 4):
        assert results[i].status == "error"
        assert results[i].error == (
            f"task {i} 'search' failed: ConnectionError: search API down "
            "(in one batched call with tasks [2, 3, 4])"
        )
    assert results[5].status == "skipped"


def test_a_batch_with_the_wrong_count_or_a_failed_item() -> None:
    core, start, _ = fused_start()
    core.finish(start, value=["a", ValueError("no hit"), "c"])
    results = core.results()
    assert results[2].value == "a" and results[4].value == "c"
    assert results[3].error == "task 3 'search' failed: ValueError: no hit"
    core, start, _ = fused_start()
    core.finish(start, value=["a"])
    assert core.results()[2].error == (
        "task 2 'search' failed: the batch returned 1 results for 3 tasks "
        "(in one batched call with tasks [2, 3, 4])"
    )


def test_room_is_shared_evenly_between_batches() -> None:
    core = Scheduler(max_concurrency=3)
    form = batched([])
    (root,) = core.submit(job(1)).starts
    for i in range(2, 8):  # six searches, all ready when task 1 ends, three slots
        core.submit(job(i, 1, name="search", batch=form))
    batches = [[j.index for j in s.jobs] for s in core.finish(root).starts]
    assert batches == [[2, 3], [4, 5], [6, 7]]


def test_whole_plan_fusion_holds_calls_until_the_plan_ends() -> None:
    core = Scheduler(max_concurrency=4, tool_limits={"search": 2})
    calls: list[list[object]] = []
    form = BatchForm("search", lambda deps: "q", batched(calls).call, whole_plan=True)
    step = core.submit(job(1, name="search", batch=form))
    assert step.starts == []  # capacity is free, but more searches may still come
    assert started(core.submit(job(2, name="math"))) == [2]  # other tools are not held
    for i in (3, 4, 5):
        assert core.submit(job(i, name="search", batch=form)).starts == []
    core.submit(job(6, 5, name="search", batch=form))
    (batch,) = core.close().starts  # all four ready searches in one call, not two of two
    assert [j.index for j in batch.jobs] == [1, 3, 4, 5] and batch.fused
    step = core.finish(batch, value=batch.call())
    assert started(step) == [6]  # ready after the plan ended: starts at once, alone
    assert calls == [["q"] * 4]


def test_whole_plan_fusion_respects_max_size_and_cancel() -> None:
    core = Scheduler(max_concurrency=4)
    form = BatchForm("search", lambda deps: "q", batched([]).call, max_size=2, whole_plan=True)
    for i in (1, 2, 3):
        core.submit(job(i, name="search", batch=form))
    assert [[j.index for j in s.jobs] for s in core.close().starts] == [[1, 2], [3]]
    core = Scheduler(max_concurrency=4)
    core.submit(job(1, name="search", batch=form))
    core.cancel("stop")  # a held job is not forgotten: it ends with the others
    assert core.results()[1].status == "skipped"


# -- limits never exceeded, on both drivers -------------------------------------------------------


TOOLS = ("search", "math", "db")


@st.composite
def plans(draw: st.DrawFn) -> tuple[list[tuple[str, frozenset[int]]], dict[str, int], int]:
    n = draw(st.integers(1, 14))
    tasks = []
    for i in range(1, n + 1):
        deps = draw(st.sets(st.integers(1, i - 1), max_size=2)) if i > 1 else set()
        tasks.append((draw(st.sampled_from(TOOLS)), frozenset(deps)))
    limits = draw(st.dictionaries(st.sampled_from(TOOLS), st.integers(1, 2), max_size=3))
    return tasks, limits, draw(st.integers(1, 4))


class Meter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: dict[str, int] = {}
        self.total = 0
        self.peak_total = 0
        self.peak: dict[str, int] = {}

    def enter(self, tool: str) -> None:
        with self.lock:
            self.running[tool] = self.running.get(tool, 0) + 1
            self.total += 1
            self.peak[tool] = max(self.peak.get(tool, 0), self.running[tool])
            self.peak_total = max(self.peak_total, self.total)

    def leave(self, tool: str) -> None:
        with self.lock:
            self.running[tool] -= 1
            self.total -= 1

    def job_fn(self, tool: str) -> Callable[[Mapping[int, object]], object]:
        def fn(deps: Mapping[int, object]) -> object:
            self.enter(tool)
            time.sleep(0.002)
            self.leave(tool)
            return tool

        return fn

    def async_job_fn(self, tool: str) -> Callable[[Mapping[int, object]], Any]:
        async def fn(deps: Mapping[int, object]) -> object:
            self.enter(tool)
            await asyncio.sleep(0.002)
            self.leave(tool)
            return tool

        return fn


@pytest.mark.parametrize("name", sorted(DRIVERS))
@pytest.mark.parametrize("priority", ["fifo", "critical_path"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=plans())
def test_limits_are_never_exceeded(
    name: str, priority: str, plan: tuple[list[tuple[str, frozenset[int]]], dict[str, int], int]
) -> None:
    tasks, limits, cap = plan
    meter = Meter()
    unit: Any = DRIVERS[name]
    with unit(max_concurrency=cap, tool_limits=limits, priority=priority) as tfu:
        for i, (tool, deps) in enumerate(tasks, start=1):
            # The asyncio driver runs coroutine jobs on its loop and others on threads: mix them.
            fn = meter.async_job_fn(tool) if name == "aio" and i % 2 else meter.job_fn(tool)
            tfu.submit(Job(i, tool, fn, deps))
        tfu.close()
        outcomes = tfu.wait(timeout=60)
    assert all(o.ok for o in outcomes.values()) and len(outcomes) == len(tasks)
    assert meter.peak_total <= cap
    for tool, peak in meter.peak.items():
        assert peak <= limits.get(tool, cap), (tool, peak, limits)


@pytest.mark.parametrize("name", sorted(DRIVERS))
def test_a_rate_limited_tool_runs_on_time_without_holding_back_others(name: str) -> None:
    started: dict[int, float] = {}  # when the unit started each call (its clock)

    def seen(event: TaskEvent) -> None:
        if event.kind == "started":
            started[event.index] = event.time

    unit: Unit = DRIVERS[name](max_concurrency=8, rate_limits={"search": 5.0}, on_event=seen)
    with unit as tfu:
        for i in (1, 2, 3):
            tfu.submit(Job(i, "search", noop))
        tfu.submit(Job(4, "math", noop))
        tfu.close()
        tfu.wait(timeout=30)
    # One token every 0.2 s (a timer wakes the unit; nothing polls) ...
    assert started[2] - started[1] >= 0.2 - 1e-6 and started[3] - started[2] >= 0.2 - 1e-6
    assert started[4] < started[2]  # ... and math did not wait for search's tokens
