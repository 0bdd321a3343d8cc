"""The hazard benchmark (benchmarks/hazards): its workload, reference, ideal and session."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.hazards.runner import HazardEnv, ideal_round, ordering_edges, run_case
from benchmarks.hazards.suite import HazardConfig, run_hazard_session
from benchmarks.hazards.workload import (
    FileTimings,
    HazardCase,
    HazardStep,
    hazard_case,
    run_sequentially,
)
from benchmarks.ideal import llmcompiler_schedule
from llmcompiler_graph.sim import get_profile

pytestmark = pytest.mark.timeout(120)


def test_a_plan_mixes_searches_and_file_calls_with_inputs_and_edges() -> None:
    case = hazard_case(3)
    tools = {s.tool for s in case.steps}
    assert tools == {"search", "read_file", "write_file", "append_file"}
    edges = ordering_edges(case)
    for step in case.steps:
        assert all(d < step.index for d in step.deps)
        assert (step.tool == "search") <= (edges[step.index] == ())
    assert any(edges.values())
    assert case.plan.endswith(f"{len(case.steps) + 1}. join()<END_OF_PLAN>")


def test_the_sequential_reference_applies_every_step_in_order() -> None:
    steps = (
        HazardStep(1, "search", {"query": "q"}),
        HazardStep(2, "write_file", {"path": "a.md", "text": "# A\n"}),
        HazardStep(3, "append_file", {"path": "a.md", "line": "$1"}, (1,)),
        HazardStep(4, "read_file", {"path": "a.md"}),
        HazardStep(5, "write_file", {"path": "b.md", "text": "$4"}, (4,)),
    )
    results, files = run_sequentially(HazardCase("c", "q?", steps, 0))
    assert results[3] == "a.md now has 2 lines"
    assert (
        results[4]
        == files["a.md"]
        == files["b.md"]
        == "# A\nq: a summary of what the sources say about it.\n"
    )


def test_the_ideal_waits_for_the_ordering_edges() -> None:
    case = hazard_case(0)
    env = HazardEnv(get_profile("gpt-3.5-like"), FileTimings())
    ordered = llmcompiler_schedule([ideal_round(case, env)])
    free = llmcompiler_schedule([ideal_round(case, env, ordered=False)])
    assert ordered.makespan > free.makespan
    for index, before in ordering_edges(case).items():
        for b in before:
            assert ordered.tasks[b][1] <= ordered.tasks[index][0] + 1e-9


@pytest.mark.parametrize("path", ["sync", "async"])
def test_with_tool_effects_results_equal_the_sequential_run(path: str) -> None:
    env = HazardEnv(get_profile("instant"), FileTimings(0.1, 0.0, 0.06, 0.1))
    run = run_case(hazard_case(0), env, path)  # type: ignore[arg-type]
    assert run.identical, run.differences
    unordered = run_case(hazard_case(0), env, path, ordered=False)  # type: ignore[arg-type]
    assert not unordered.identical  # the reads race the writes: the benchmark would see it


def test_a_session_prints_the_targets(tmp_path: Path) -> None:
    config = HazardConfig(
        samples=1,
        profile="instant",
        timescale=0.02,
        out=tmp_path,
        keep_awake=False,
        progress=False,
        unordered=False,
    )
    session = run_hazard_session(config)
    assert "met: hazard results identical to sequential in every run = 1.000" in session.report
    assert (tmp_path / "results.json").exists() and (tmp_path / "RESULTS.md").exists()
