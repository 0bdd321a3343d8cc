"""The dependency tracker inside the scheduler core: pure bookkeeping, no threads."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import pytest

from llmcompiler_graph.errors import SchedulerError
from llmcompiler_graph.fetching.dependencies import DependencyTracker
from llmcompiler_graph.fetching.jobs import Job, Outcome


def noop(deps: Mapping[int, object]) -> object:
    return None


def job(index: int, *deps: int, name: str = "t") -> Job:
    return Job(index, name, noop, deps=frozenset(deps))


def started(dag: DependencyTracker) -> list[int]:
    """Start every ready job; return their indices in the order they were handed out."""
    indices = []
    while (launch := dag.start_next()) is not None:
        indices.append(launch.job.index)
    return indices


def test_a_job_without_deps_is_ready_and_ends_the_run() -> None:
    dag = DependencyTracker(clock=itertools.count(10).__next__)
    assert dag.add(job(1)) is None
    launch = dag.start_next()
    assert launch is not None and launch.job.index == 1 and launch.deps == {}
    assert launch.started_at == 11  # submitted at 10
    assert dag.start_next() is None
    assert dag.is_running(1) and not dag.is_finished(1)
    [outcome] = dag.finish(1, "ok", value="v")
    assert (outcome.status, outcome.value, outcome.duration) == ("ok", "v", 1)
    assert (outcome.submitted_at, outcome.started_at, outcome.finished_at) == (10, 11, 12)
    assert not dag.all_done  # not closed: more jobs may come
    dag.close()
    assert dag.all_done and dag.results() == {1: outcome}


def test_dependents_wait_for_all_their_deps_and_get_their_values() -> None:
    dag = DependencyTracker()
    for j in (job(1), job(2), job(3, 1, 2), job(4, 1)):
        assert dag.add(j) is None
    assert started(dag) == [1, 2]
    dag.finish(1, "ok", value="one")
    assert started(dag) == [4]  # 3 still waits for 2
    dag.finish(2, "ok", value="two")
    launch = dag.start_next()
    assert launch is not None and launch.job.index == 3
    assert launch.deps == {1: "one", 2: "two"}
    assert dag.unfinished() == [3, 4]


def test_a_failure_skips_its_dependents_transitively_naming_the_root_cause() -> None:
    dag = DependencyTracker()
    for j in (job(1, name="search"), job(2, 1, name="math"), job(3, 2), job(4, 1, 3), job(5)):
        dag.add(j)
    assert started(dag) == [1, 5]
    recorded = dag.finish(1, "timeout", error="too slow")
    assert [o.index for o in recorded] == [1, 4, 2, 3]  # the failure first; 4 only once
    by_index = {o.index: o for o in recorded}
    assert all(by_index[i].status == "skipped" for i in (2, 3, 4))
    assert by_index[2].error == (
        "task 2 'math' did not run: it depends on task 1 'search', which timed out"
    )
    assert by_index[3].error == (
        "task 3 't' did not run: it depends on task 2 'math', which was skipped "
        "(because task 1 'search' timed out)"
    )
    assert dag.start_next() is None and dag.unfinished() == [5]


def test_a_dependent_of_a_failure_and_a_later_success_is_skipped_once() -> None:
    dag = DependencyTracker()
    for j in (job(1), job(2), job(3, 1, 2)):
        dag.add(j)
    started(dag)
    assert [o.index for o in dag.finish(1, "error", error="boom")] == [1, 3]
    assert [o.index for o in dag.finish(2, "ok")] == [2]
    assert dag.start_next() is None


def test_unrunnable_jobs_and_failed_earlier_results_end_at_once() -> None:
    earlier = {1: Outcome(1, "search", "error", error="down"), 2: Outcome(2, "math", "ok", 4)}
    dag = DependencyTracker(earlier)
    planning = dag.add(Job(3, "x", None, error="task 3 'x': unknown tool 'x'"))
    assert planning is not None and planning.status == "error"
    assert planning.error == "task 3 'x': unknown tool 'x'"
    not_runnable = dag.add(Job(4, "y", None))
    assert not_runnable is not None and not_runnable.error == "not runnable"
    skipped = dag.add(job(5, 2, 1))
    assert skipped is not None and skipped.status == "skipped"
    assert skipped.error == "task 5 't' did not run: it depends on task 1 'search', which failed"
    assert dag.add(job(6, 2)) is None
    launch = dag.start_next()
    assert launch is not None and launch.deps == {2: 4}  # an earlier run's value
    dag.finish(6, "ok")
    dag.close()
    assert sorted(dag.results()) == [3, 4, 5, 6]  # earlier outcomes excluded
    assert dag.all_done and dag.is_finished(1)


def test_protocol_errors_name_the_task_and_the_fix() -> None:
    dag = DependencyTracker({1: Outcome(1, "old", "ok")})
    with pytest.raises(SchedulerError, match=r"task 2 't': depends on unknown task\(s\) \[7\]"):
        dag.add(job(2, 7))
    with pytest.raises(SchedulerError, match="task 1 't': index already used"):
        dag.add(job(1))
    dag.add(job(2))
    with pytest.raises(SchedulerError, match="index already used"):
        dag.add(job(2))
    with pytest.raises(SchedulerError, match=r"task 2: finish\(\) before start_next\(\)"):
        dag.finish(2, "ok")
    started(dag)
    dag.finish(2, "ok")
    with pytest.raises(SchedulerError, match=r"finish\(\) called twice"):
        dag.finish(2, "error")
    dag.close()
    with pytest.raises(SchedulerError, match=r"task 3 't': submitted after close\(\)"):
        dag.add(job(3))


def test_a_long_failed_chain_is_skipped_without_recursion() -> None:
    dag = DependencyTracker()
    dag.add(job(1))
    for i in range(2, 20_001):
        dag.add(job(i, i - 1))
    started(dag)
    recorded = dag.finish(1, "error", error="first")
    assert len(recorded) == 20_000
    assert all(o.status == "skipped" for o in recorded[1:])
    assert "(because task 1 't' failed)" in str(recorded[-1].error)
