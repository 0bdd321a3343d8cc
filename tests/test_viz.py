"""The pictures: the plan's task DAG and the recorded timeline (matplotlib, no display)."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.fetching.jobs import Outcome
from llmcompiler_graph.sim import ScriptedChatModel, ToolCallRecord, simulated_search_tool
from llmcompiler_graph.viz import Span, Timeline, plot_plan_dag, plot_timeline, to_spans

pytest.importorskip("matplotlib")
from matplotlib.colors import to_rgba

from llmcompiler_graph.viz._style import COLORS


def _render(figure: Any) -> None:
    figure.savefig(io.BytesIO(), format="png")  # lays out text boxes and arrows for real


def _boxes(figure: Any) -> dict[str, Any]:
    return {t.get_text(): t for t in figure.axes[0].texts if t.get_bbox_patch() is not None}


def _replanning_app() -> Any:
    def lookup(key: str) -> str:
        """Look up a key."""
        if key == "bad":
            raise ConnectionError("service down")
        return f"value of {key}"

    plan_1 = '1. lookup("a")\n2. lookup("bad")\n3. lookup("$2 again")\n4. join()'
    plan_2 = '5. lookup("b")\n6. lookup("$5 and $1")\n7. join()'
    model = ScriptedChatModel(
        responses=[plan_1, "Action: Replan(task 2 failed)", plan_2, "Action: Finish(done)"]
    )
    return create_llm_compiler(model, [lookup])


def test_plan_dag_draws_each_task_coloured_by_outcome_and_a_join_per_round() -> None:
    out = _replanning_app().invoke({"messages": [("user", "q")]})
    figure = plot_plan_dag(out)
    _render(figure)
    boxes = _boxes(figure)
    labels = sorted(boxes)
    assert len(labels) == 5 + 2  # five tasks, two joins
    assert "join → replan" in labels and "join → answer" in labels
    by_task = {label.split()[0]: box for label, box in boxes.items()}
    assert by_task[r"\$2"].get_bbox_patch().get_facecolor() == to_rgba(COLORS["error"])
    assert by_task[r"\$3"].get_bbox_patch().get_facecolor() == to_rgba(COLORS["skipped"])
    assert by_task[r"\$6"].get_bbox_patch().get_facecolor() == to_rgba(COLORS["ok"])
    # Tasks that depend on nothing in their round start a column; dependents sit to the right.
    assert by_task[r"\$3"].get_position()[0] > by_task[r"\$2"].get_position()[0]
    assert by_task[r"\$6"].get_position()[0] > by_task[r"\$5"].get_position()[0]


def test_plan_dag_takes_a_single_plan_message_and_rejects_what_has_no_plan() -> None:
    out = _replanning_app().invoke({"messages": [("user", "q")]})
    plan = next(m for m in out["messages"] if m.name == "planner")
    figure = plot_plan_dag(plan)
    _render(figure)
    assert any("pending" in label for label in _boxes(figure))  # no results given
    with pytest.raises(ValueError, match="no plan found"):
        plot_plan_dag([HumanMessage("hello")])
    with pytest.raises(TypeError, match="plot_plan_dag takes"):
        plot_plan_dag(42)


def test_timeline_records_planner_overlapping_tasks_and_joiner() -> None:
    both_running = threading.Barrier(2, timeout=30)  # neither returns before both started

    @tool
    def search(query: str) -> str:
        """Search."""
        both_running.wait()
        return f"about {query}"

    plan = '1. search("alpha")\n2. search("beta")\n3. join()'
    app = create_llm_compiler(ScriptedChatModel(responses=[plan, "Action: Finish(x)"]), [search])
    timeline = Timeline()
    out = timeline.run(app, {"messages": [("user", "q")]})
    assert out["messages"][-1].content == "x"
    spans = timeline.spans()
    assert [s.kind for s in spans].count("task") == 2
    assert spans[0].kind == "planner" and spans[-1].kind == "joiner"
    one, two = (s for s in spans if s.kind == "task")
    assert {one.label, two.label} == {"$1 search('alpha')", "$2 search('beta')"}
    assert two.start < one.end  # the two searches overlapped
    assert all(s.status == "ok" and s.planned is not None for s in (one, two))
    assert spans[-1].start >= max(one.end, two.end) - 0.01  # the joiner waits for both
    _render(plot_timeline(timeline))


def test_timeline_marks_skipped_tasks_and_cuts_timeouts_at_the_limit() -> None:
    def slow(key: str) -> str:
        """Take long for 'slow'."""
        if key == "fail":
            raise RuntimeError("boom")
        time.sleep(5.0 if key == "slow" else 0.01)
        return key

    plan = '1. slow("slow")\n2. slow("fail")\n3. slow("$2")\n4. join()'
    model = ScriptedChatModel(responses=[plan, "Action: Finish(x)"])
    app = create_llm_compiler(model, [slow], task_timeout=0.2)
    timeline = Timeline()
    timeline.run(app, {"messages": [("user", "q")]})
    spans = {s.index: s for s in timeline.spans() if s.kind == "task"}
    assert spans[1].status == "timeout"
    # Cut at the 0.2 s limit, far from the call's own 5 s (wide margin for a loaded machine).
    assert 0.15 < spans[1].end - spans[1].start < 4.0
    assert spans[2].status == "error"
    assert spans[3].status == "skipped" and spans[3].start == spans[3].end
    _render(plot_timeline(timeline))


def test_timeline_records_an_async_run() -> None:
    search = simulated_search_tool(latency_s=0.1, jitter_s=0.0)
    plan = '1. search("alpha")\n2. search("beta")\n3. join()'
    app = create_llm_compiler(ScriptedChatModel(responses=[plan, "Action: Finish(x)"]), [search])
    timeline = Timeline()
    out = asyncio.run(timeline.arun(app, {"messages": [("user", "q")]}))
    assert out["messages"][-1].content == "x"
    assert sorted(s.index for s in timeline.spans() if s.kind == "task") == [1, 2]


def test_plot_timeline_reads_outcomes_and_simulation_records() -> None:
    outcomes = {
        1: Outcome(1, "search", "ok", submitted_at=0.0, started_at=0.1, finished_at=1.0),
        2: Outcome(2, "math", "skipped", submitted_at=0.2, started_at=None, finished_at=1.0),
    }
    record = ToolCallRecord("search", {"query": "x"}, "out", start=0.5, end=0.9, thread="t")
    spans, origin = to_spans([*outcomes.values(), record, Span("planner", "planner", 0.0, 0.4)])
    assert origin is None
    assert [s.label for s in spans] == ["planner", "$1 search", "search('x')", "$2 math"]
    figure = plot_timeline(outcomes)
    _render(figure)
    assert len(figure.axes[0].get_yticklabels()) == 2
    with pytest.raises(ValueError, match="no spans"):
        plot_timeline([])
    with pytest.raises(TypeError, match="cannot read"):
        plot_timeline([object()])


def test_timeline_draws_a_fused_task_from_its_started_event() -> None:
    # A task run inside a batched call has no tool callback; its bar comes from the task
    # events ("started" names the batch) and its result.
    from langchain_core.messages import AIMessage, ToolMessage

    from llmcompiler_graph.state import KIND

    timeline = Timeline()
    for index in (1, 2):
        timeline.observe({"type": "llmcompiler.task", "event": "planned", "index": index})
        timeline.observe(
            {"type": "llmcompiler.task", "event": "started", "index": index, "fused": [1, 2]}
        )
    time.sleep(0.01)
    for index in (1, 2):
        timeline.observe(
            {"type": "llmcompiler.task", "event": "finished", "index": index, "status": "ok"}
        )
    tasks = [
        {"index": i, "name": "search", "args": {"query": q}, "deps": [], "id": f"t{i}"}
        for i, q in ((1, "alpha"), (2, "beta"))
    ]
    plan = AIMessage("", name="planner", additional_kwargs={KIND: {"tasks": tasks}})
    results = [ToolMessage("r", tool_call_id=f"t{i}", name="search") for i in (1, 2)]
    timeline.observe_state({"messages": [plan, *results]})
    spans = [s for s in timeline.spans() if s.kind == "task"]
    assert [s.label for s in spans] == [
        "$1 search('alpha') (batch of 2)",
        "$2 search('beta') (batch of 2)",
    ]
    assert all(s.end - s.start >= 0.01 for s in spans)
