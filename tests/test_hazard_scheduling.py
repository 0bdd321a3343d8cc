"""Calls that share a resource keep their plan order, in the core and on both drivers.

Property tests over generated plans with random effects (which resources each call reads
and writes), ``$N`` dependencies, failures, caps and per-tool limits:

* no two conflicting calls (a common resource, at least one writes) ever overlap, and they
  start in plan order;
* a call is never held back by the hazard rules once every earlier call it conflicts with
  has ended (in the core's simulation: it starts unless the cap or its tool's limit is
  full; without limits, exactly when its ``$N`` inputs and those calls are done);
* no deadlock: every job ends.
"""

from __future__ import annotations

import asyncio
import heapq
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from drivers import DRIVERS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmcompiler_graph.fetching.core import Scheduler, Start, Step
from llmcompiler_graph.fetching.hazards import Effects
from llmcompiler_graph.fetching.jobs import BatchForm, Job, TaskEvent

pytestmark = pytest.mark.timeout(120)

RESOURCES = ("a", "b", "c")
TOOLS = ("read", "write", "search")


@dataclass(frozen=True)
class Task:
    tool: str
    deps: frozenset[int]
    effects: Effects | None
    duration: int
    fails: bool


@st.composite
def effects(draw: st.DrawFn) -> Effects | None:
    reads = draw(st.sets(st.sampled_from(RESOURCES), max_size=2))
    writes = draw(st.sets(st.sampled_from(RESOURCES), max_size=1))
    found = Effects(reads=frozenset(reads - writes), writes=frozenset(writes))
    return found or None


@st.composite
def plans(draw: st.DrawFn, max_tasks: int = 14) -> list[Task]:
    n = draw(st.integers(1, max_tasks))
    tasks = []
    for i in range(1, n + 1):
        deps = draw(st.sets(st.integers(1, i - 1), max_size=2)) if i > 1 else set()
        tasks.append(
            Task(
                draw(st.sampled_from(TOOLS)),
                frozenset(deps),
                draw(effects()),
                draw(st.integers(1, 5)),
                draw(st.integers(0, 5)) == 0,  # one call in six fails
            )
        )
    return tasks


def conflicting(tasks: list[Task]) -> list[tuple[int, int]]:
    """Return every pair (a, b), a before b in plan order, that must keep its order."""
    return [
        (a, b)
        for b in range(1, len(tasks) + 1)
        for a in range(1, b)
        if (ea := tasks[a - 1].effects) and (eb := tasks[b - 1].effects) and ea.conflicts_with(eb)
    ]


def noop(deps: Mapping[int, object]) -> object:
    return None


# -- the core, simulated on a clock ---------------------------------------------------------------


class Simulation:
    """Drive the sans-IO core: task i is submitted at time i, each call lasts its duration."""

    def __init__(self, tasks: list[Task], core: Scheduler, now: list[float]) -> None:
        self.tasks, self.core, self.now = tasks, core, now
        self.start: dict[int, float] = {}
        self.end: dict[int, float] = {}
        self.submitted: dict[int, float] = {}
        self.calls: list[tuple[float, int, Start]] = []  # (end time, first job, call)

    def apply(self, step: Step) -> None:
        for start in step.starts:
            end = self.now[0] + max(self.tasks[j.index - 1].duration for j in start.jobs)
            for j in start.jobs:
                self.start[j.index] = self.now[0]
            heapq.heappush(self.calls, (end, start.job.index, start))
        self.check_hazards_hold_nothing_back()

    def run(self) -> None:
        n = len(self.tasks)
        for i, task in enumerate(self.tasks, start=1):
            self.finish_calls_until(float(i))
            self.now[0] = float(i)
            self.submitted[i] = self.now[0]
            job = Job(i, task.tool, noop, task.deps, effects=task.effects)
            self.apply(self.core.submit(job))
        self.apply(self.core.close())
        self.finish_calls_until(float("inf"))
        assert self.core.done, f"deadlock: {self.core.unfinished()} never ended"
        assert len(self.core.results()) == n

    def finish_calls_until(self, limit: float) -> None:
        while self.calls and self.calls[0][0] <= limit:
            end, _, start = heapq.heappop(self.calls)
            self.now[0] = end
            for j in start.jobs:
                self.end[j.index] = end
            failed = any(self.tasks[j.index - 1].fails for j in start.jobs)
            self.apply(self.core.finish(start, None, RuntimeError("no") if failed else None))

    def ended(self, index: int) -> bool:
        return index in self.end or (
            index in self.core.results() and self.core.results()[index].started_at is None
        )

    def check_hazards_hold_nothing_back(self) -> None:
        """A call free of hazards and with its inputs done starts unless a limit is full."""
        results = self.core.results()
        for i in self.submitted:
            if i in self.start or i in results:
                continue
            task = self.tasks[i - 1]
            inputs_done = all(d in results and results[d].ok for d in task.deps)
            hazards_done = all(self.ended(a) for a, b in conflicting(self.tasks) if b == i)
            if inputs_done and hazards_done:
                assert (
                    self.core.running == self.core._cap
                    or self.core._limits.room(task.tool, self.now[0]) == 0
                ), f"task {i} is held back by the hazard rules"


def check_order(tasks: list[Task], start: Mapping[int, float], end: Mapping[int, float]) -> None:
    for a, b in conflicting(tasks):
        if a in start and b in start:
            assert end[a] <= start[b], f"conflicting tasks {a} and {b} overlap"


@settings(max_examples=400, deadline=None)
@given(
    plan=plans(),
    cap=st.sampled_from([1, 2, 3, 64]),
    limits=st.dictionaries(st.sampled_from(TOOLS), st.integers(1, 2), max_size=2),
    priority=st.sampled_from(["fifo", "critical_path"]),
)
def test_the_core_orders_conflicts_and_delays_nothing_else(
    plan: list[Task], cap: int, limits: dict[str, int], priority: Any
) -> None:
    now = [0.0]
    core = Scheduler(
        max_concurrency=cap, tool_limits=limits, priority=priority, clock=lambda: now[0]
    )
    sim = Simulation(plan, core, now)
    sim.run()
    check_order(plan, sim.start, sim.end)
    results = core.results()
    for i, task in enumerate(plan, start=1):
        # Ordering edges are not data: a failed writer does not skip its readers.
        skipped = any(not results[d].ok for d in task.deps)
        assert (results[i].status == "skipped") == skipped, (i, results[i])


@settings(max_examples=300, deadline=None)
@given(plan=plans())
def test_without_limits_each_call_starts_when_its_inputs_and_conflicts_are_done(
    plan: list[Task],
) -> None:
    plan = [Task(t.tool, t.deps, t.effects, t.duration, False) for t in plan]
    now = [0.0]
    sim = Simulation(plan, Scheduler(max_concurrency=64, clock=lambda: now[0]), now)
    sim.run()
    pairs = conflicting(plan)
    for i, task in enumerate(plan, start=1):
        waits = [sim.end[d] for d in task.deps] + [sim.end[a] for a, b in pairs if b == i]
        assert sim.start[i] == max([sim.submitted[i], *waits]), i


# -- the core: examples -------------------------------------------------------------------------

READ = Effects(reads=frozenset({"fs"}))
WRITE = Effects(writes=frozenset({"fs"}))


def started(step: Step) -> list[int]:
    return [j.index for s in step.starts for j in s.jobs]


def test_the_issue_plan_write_read_delete_runs_in_order() -> None:
    core = Scheduler(max_concurrency=8)
    (write,) = core.submit(Job(1, "write_file", noop, effects=WRITE)).starts
    assert started(core.submit(Job(2, "read_file", noop, effects=READ))) == []
    assert started(core.submit(Job(3, "read_file", noop, effects=READ))) == []
    assert started(core.submit(Job(4, "delete_file", noop, effects=WRITE))) == []
    assert started(core.submit(Job(5, "search", noop))) == [5]  # shares nothing
    step = core.finish(write, error=OSError("disk full"))  # ordering, not data: reads still run
    assert started(step) == [2, 3]
    reads = step.starts
    assert started(core.finish(reads[0])) == []
    assert started(core.finish(reads[1])) == [4]


def test_planned_events_name_the_calls_a_task_waits_for() -> None:
    core = Scheduler(max_concurrency=8)
    events: list[TaskEvent] = []
    for job in (
        Job(1, "write_file", noop, effects=WRITE),
        Job(2, "read_file", noop, effects=READ),
        Job(3, "read_file", noop, frozenset({2}), effects=READ),
        Job(4, "write_file", noop, effects=WRITE),
    ):
        events += core.submit(job).events
    planned = {e.index: e.after for e in events if e.kind == "planned"}
    assert planned == {1: (), 2: (1,), 3: (1,), 4: (1, 2, 3)}


def test_critical_path_counts_ordering_edges() -> None:
    # Cap 1; 1 runs while 2 (alone) and the chain 3 -> 4 (ordered by "fs") arrive.
    core = Scheduler(max_concurrency=1, priority="critical_path")
    (first,) = core.submit(Job(1, "t", noop)).starts
    core.submit(Job(2, "t", noop))
    core.submit(Job(3, "write_file", noop, effects=WRITE))
    core.submit(Job(4, "read_file", noop, effects=READ))
    assert started(core.finish(first)) == [3]  # 3 has a dependent through the edge: first


def test_fusion_never_crosses_an_ordering_edge() -> None:
    calls: list[list[object]] = []

    def many(inputs: list[object]) -> object:
        calls.append(inputs)
        return inputs

    form = BatchForm("write_file", lambda deps: "x", many)
    core = Scheduler(max_concurrency=4, tool_limits={"write_file": 1})
    (first,) = core.submit(Job(1, "write_file", noop, batch=form, effects=WRITE)).starts
    for i in (2, 3):
        assert core.submit(Job(i, "write_file", noop, batch=form, effects=WRITE)).starts == []
    (second,) = core.finish(first).starts
    assert [j.index for j in second.jobs] == [2]  # 3 must follow 2: not fused with it
    (third,) = core.finish(second, value=["x"]).starts
    assert [j.index for j in third.jobs] == [3]


def test_whole_plan_fusion_with_ordering_edges_ends() -> None:
    form = BatchForm("write_file", lambda deps: "x", lambda inputs: inputs, whole_plan=True)
    core = Scheduler(max_concurrency=4)
    for i in (1, 2, 3):
        core.submit(Job(i, "write_file", noop, batch=form, effects=WRITE))
    core.submit(Job(4, "t", noop, batch=BatchForm("t", lambda d: 0, list, whole_plan=True)))
    order = []
    step = core.close()
    while step.starts:
        start = step.starts[0]
        order.append([j.index for j in start.jobs])
        rest = step.starts[1:]
        step = core.finish(start, value=[None] * len(start.jobs))
        step.starts[:0] = rest
    assert sorted(order) == [[1], [2], [3], [4]] and core.done


def test_a_held_call_skips_what_must_follow_it() -> None:
    class AskedForInput(Exception):
        pass

    core = Scheduler(max_concurrency=8, hold=(AskedForInput,))
    (write,) = core.submit(Job(1, "write_file", noop, effects=WRITE)).starts
    core.submit(Job(2, "read_file", noop, effects=READ))
    core.submit(Job(3, "summarize", noop, frozenset({2})))
    core.submit(Job(4, "write_db", noop, effects=Effects(writes=frozenset({"db"}))))
    core.submit(Job(5, "read_db", noop, frozenset({3}), effects=Effects(reads=frozenset({"db"}))))
    core.close()
    core.finish(write, error=AskedForInput("approve?"))
    results = core.results()
    assert results[2].status == "skipped" and results[3].status == "skipped"
    assert results[2].error == (
        "task 2 'read_file' did not run: it must run after task 1 'write_file', which will "
        "run again later"
    )
    assert results[5].status == "skipped"
    assert core.held() == {1, 2, 3, 5}


# -- both drivers --------------------------------------------------------------------------------


class Meter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.start: dict[int, float] = {}
        self.end: dict[int, float] = {}

    def enter(self, index: int) -> None:
        with self.lock:
            self.start[index] = time.perf_counter()

    def leave(self, index: int) -> None:
        with self.lock:
            self.end[index] = time.perf_counter()

    def job_fn(self, index: int, task: Task) -> Callable[[Mapping[int, object]], object]:
        def fn(deps: Mapping[int, object]) -> object:
            self.enter(index)
            time.sleep(task.duration / 1000)
            self.leave(index)
            if task.fails:
                raise RuntimeError("no")
            return index

        return fn

    def async_job_fn(self, index: int, task: Task) -> Callable[[Mapping[int, object]], Any]:
        async def fn(deps: Mapping[int, object]) -> object:
            self.enter(index)
            await asyncio.sleep(task.duration / 1000)
            self.leave(index)
            if task.fails:
                raise RuntimeError("no")
            return index

        return fn


@pytest.mark.parametrize("name", sorted(DRIVERS))
@pytest.mark.parametrize("priority", ["fifo", "critical_path"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=plans(max_tasks=12), cap=st.sampled_from([1, 3, 8]))
def test_conflicting_calls_never_overlap_on_either_driver(
    name: str, priority: str, plan: list[Task], cap: int
) -> None:
    meter = Meter()
    unit: Any = DRIVERS[name]
    with unit(max_concurrency=cap, priority=priority) as tfu:
        for i, task in enumerate(plan, start=1):
            fn = meter.async_job_fn(i, task) if name == "aio" and i % 2 else meter.job_fn(i, task)
            tfu.submit(Job(i, task.tool, fn, task.deps, effects=task.effects))
        tfu.close()
        outcomes = tfu.wait(timeout=60)  # no deadlock
    assert len(outcomes) == len(plan)
    check_order(plan, meter.start, meter.end)


@pytest.mark.parametrize("name", sorted(DRIVERS))
def test_a_call_sharing_nothing_runs_while_a_conflict_waits(name: str) -> None:
    # The writer blocks until the unrelated search has run: if the search waited behind the
    # writer and the reader, the run would never end.
    searched = threading.Event()

    def write(deps: Mapping[int, object]) -> object:
        assert searched.wait(20), "the search was held back"
        return "written"

    def search(deps: Mapping[int, object]) -> object:
        searched.set()
        return "found"

    with DRIVERS[name](max_concurrency=4) as tfu:
        tfu.submit(Job(1, "write_file", write, effects=WRITE))
        tfu.submit(Job(2, "read_file", noop, effects=READ))
        tfu.submit(Job(3, "search", search))
        tfu.close()
        outcomes = tfu.wait(timeout=30)
    assert all(o.ok for o in outcomes.values())
    assert outcomes[1].finished_at <= (outcomes[2].started_at or 0.0)
