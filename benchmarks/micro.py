"""Scheduler micro-benchmarks: the task fetching unit alone, and the whole graph at zero latency.

* Random DAGs of 1,000 to 30,000 instant tasks: time per task, and how it scales
  (10x the tasks should cost no more than ~12x the time).
* A chain of 200 instant tasks: how long from a dependency's end to its dependent running
  (measured inside the task functions, so thread hand-off is included).
* 64 tasks wide with ``max_concurrency`` 8: the cap is never exceeded and the pool is fully
  used (tasks sleep 10 ms here, or concurrency could not be observed at all).
* The whole graph with the ``instant`` model and zero-latency tools, 64 tasks: what
  LangGraph, the parser and the scheduler cost per task end to end.
* LangChain's ``BaseTool.invoke`` alone (callbacks, argument validation) before a tool's
  body runs: part of every approach's per-call cost, and of our per-task overhead.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from benchmarks.harness import ZERO_TIMINGS, ToolRecord, make_tools
from benchmarks.runner import Env, run_case
from benchmarks.synthetic import synthetic_cases
from llmcompiler_graph.fetching.jobs import Job
from llmcompiler_graph.fetching.threads import TaskFetchingUnit
from llmcompiler_graph.sim import get_profile

__all__ = [
    "chain_dispatch",
    "graph_overhead",
    "random_dag_seconds",
    "run_micro",
    "tool_invoke_overhead",
    "wide_concurrency",
]


def _instant(deps: Mapping[int, object]) -> object:
    return None


def random_dag_seconds(tasks: int, seed: int, *, max_concurrency: int = 8) -> float:
    """Return the seconds to submit and finish a random DAG of ``tasks`` instant tasks."""
    rng = random.Random(seed)
    jobs = []
    for i in range(1, tasks + 1):
        window = range(max(1, i - 50), i)
        deps = frozenset(rng.sample(window, min(len(window), rng.randint(0, 3))))
        jobs.append(Job(i, "noop", _instant, deps))
    start = time.perf_counter()
    with TaskFetchingUnit(max_concurrency=max_concurrency) as tfu:
        for job in jobs:
            tfu.submit(job)
        tfu.close()
        outcomes = tfu.wait()
    seconds = time.perf_counter() - start
    if len(outcomes) != tasks or not all(o.ok for o in outcomes.values()):
        raise RuntimeError(f"random DAG of {tasks} tasks did not complete cleanly")
    return seconds


def chain_dispatch(length: int = 200) -> dict[str, float]:
    """Return dispatch latencies (µs) along a chain: previous task's end to this task's start."""
    entered: dict[int, float] = {}
    left: dict[int, float] = {}

    def task(index: int) -> Callable[[Mapping[int, object]], object]:
        def run(deps: Mapping[int, object]) -> object:
            entered[index] = time.perf_counter()
            left[index] = time.perf_counter()
            return index

        return run

    with TaskFetchingUnit(max_concurrency=8) as tfu:
        for i in range(1, length + 1):
            tfu.submit(Job(i, "link", task(i), frozenset({i - 1}) if i > 1 else frozenset()))
        tfu.close()
        tfu.wait()
    gaps = [(entered[i] - left[i - 1]) * 1e6 for i in range(2, length + 1)]
    return {
        "tasks": length,
        "dispatch_us_median": statistics.median(gaps),
        "dispatch_us_max": max(gaps),
    }


def wide_concurrency(width: int = 64, cap: int = 8, task_s: float = 0.01) -> dict[str, Any]:
    """Run ``width`` sleeping tasks under ``cap``; report peak concurrency and pool use."""
    lock = threading.Lock()
    running = 0
    peak = 0
    busy = 0.0

    def work(deps: Mapping[int, object]) -> object:
        nonlocal running, peak, busy
        with lock:
            running += 1
            peak = max(peak, running)
        began = time.perf_counter()
        time.sleep(task_s)
        with lock:
            running -= 1
            busy += time.perf_counter() - began
        return None

    start = time.perf_counter()
    with TaskFetchingUnit(max_concurrency=cap) as tfu:
        for i in range(1, width + 1):
            tfu.submit(Job(i, "sleep", work))
        tfu.close()
        tfu.wait()
        scheduler_peak = tfu.peak_running
    makespan = time.perf_counter() - start
    return {
        "tasks": width,
        "cap": cap,
        "task_s": task_s,
        "peak_running": peak,
        "scheduler_peak": scheduler_peak,
        "never_exceeded": peak <= cap and scheduler_peak <= cap,
        "fully_used": peak == cap,
        "utilisation": busy / (cap * makespan),
        "makespan_s": makespan,
    }


def graph_overhead(width: int = 64) -> dict[str, float]:
    """Run a ``width``-search plan through the whole graph with no latency anywhere."""
    env = Env(get_profile("instant"), ZERO_TIMINGS, max_concurrency=width)
    case = synthetic_cases(f"wide-{width}", 1, 0)[0] if width in (16, 64) else None
    if case is None:
        raise ValueError("graph_overhead supports widths 16 and 64")
    run_case("llmcompiler", case, env)  # warm-up
    best = min(run_case("llmcompiler", case, env).latency for _ in range(3))
    return {"tasks": width, "seconds": best, "ms_per_task": best * 1000 / width}


def tool_invoke_overhead(calls: int = 300) -> dict[str, float]:
    """Return the median time (µs) from ``tool.invoke`` to the tool's body starting."""
    records: list[ToolRecord] = []
    search = make_tools(synthetic_cases("diamond", 1, 0)[0], ZERO_TIMINGS, records)[0]
    config: Any = {"metadata": {"llmcompiler_task": 1}}
    gaps = []
    for i in range(calls):
        began = time.perf_counter()
        search.invoke({"query": f"query {i}"}, config)
        gaps.append((records[-1].start - began) * 1e6)
    return {"calls": calls, "us_median": statistics.median(gaps)}


DAG_SIZES = (1000, 3000, 10_000, 30_000)


def run_micro(seed: int = 0, repeats: int = 5) -> dict[str, Any]:
    """Run every micro-benchmark.

    The DAG sizes are timed in turn, ``repeats`` rounds, and each size's median kept, so a
    burst of load on a shared machine does not land on one size only. ``scaling_ratio`` is
    the issue's figure (10,000 vs 1,000 tasks); ``scaling_ratio_large`` (30,000 vs 3,000)
    compares two sizes that both overlap submission with execution.
    """
    random_dag_seconds(1000, seed)  # warm-up
    times: dict[int, list[float]] = {size: [] for size in DAG_SIZES}
    for k in range(repeats):
        for size in DAG_SIZES:
            times[size].append(random_dag_seconds(size, seed + k))
    medians = {size: statistics.median(runs) for size, runs in times.items()}
    dags = [
        {"tasks": size, "seconds": s, "us_per_task": s * 1e6 / size} for size, s in medians.items()
    ]
    return {
        "random_dags": dags,
        "scaling_ratio": medians[10_000] / medians[1000],
        "scaling_ratio_large": medians[30_000] / medians[3000],
        "chain": chain_dispatch(200),
        "wide": wide_concurrency(64, 8),
        "graph": graph_overhead(64),
        "tool_invoke": tool_invoke_overhead(),
    }
