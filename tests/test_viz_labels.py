"""Readable pictures: labels cut at word boundaries with the full text kept, legends beside data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.tools import tool

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.sim import ScriptedChatModel

pytest.importorskip("matplotlib")

from benchmarks.plots import plot_gantt, plot_overview, plot_workload
from llmcompiler_graph.viz import Span, Timeline, plot_timeline
from llmcompiler_graph.viz._style import clip_text

LONG = "Adjust the figure for Washington Monument as the question states"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        (LONG, 28, "Adjust the figure for…"),
        ("Using the adjusted figures, and the rest", 28, "Using the adjusted figures…"),
        ("short enough", 20, "short enough"),
        ("Supercalifragilisticexpialidocious word", 20, "Supercalifragilisti…"),
        ("one two three", 8, "one two…"),
    ],
)
def test_clip_text_cuts_at_word_boundaries(text: str, limit: int, expected: str) -> None:
    assert clip_text(text, limit) == expected
    assert len(clip_text(text, limit)) <= limit


def _render(figure: Any) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # lays out the constrained layout for real
    return canvas.get_renderer()


def _legend_clear_of_data(figure: Any, axes: Any) -> None:
    renderer = _render(figure)
    legend = axes.get_legend()
    assert legend is not None
    box, plot = legend.get_window_extent(renderer), axes.get_window_extent(renderer)
    assert not box.overlaps(plot), (box, plot)


def test_timeline_labels_keep_whole_words_and_list_the_full_text() -> None:
    @tool
    def math(problem: str) -> str:
        """Solve a problem."""
        return "42"

    plan = f'1. math(problem="{LONG}")\n2. math(problem="2 + 2")\n3. join()'
    reply = lambda m: "Action: Finish(42)" if "Finish(" in m[0].text else plan  # noqa: E731
    timeline = Timeline()
    timeline.run(create_llm_compiler(ScriptedChatModel(responses=reply), [math]), {"messages": []})
    spans = {s.index: s for s in timeline.spans() if s.index is not None}
    assert spans[1].label == "$1 math('Adjust the figure for Washington…')"
    assert spans[1].text == f"$1 math('{LONG}')"
    assert spans[2].detail is None and spans[2].text == "$2 math('2 + 2')"
    figure = plot_timeline(timeline)
    axes = figure.axes[0]
    texts = [t.get_text() for t in axes.texts]
    assert any(t.startswith("Full labels:") and LONG in t for t in texts)
    assert axes.get_xlabel() == "time since the run started (s)"
    assert axes.get_ylabel() == "model calls and tasks, in start order"
    _legend_clear_of_data(figure, axes)


def test_timeline_lists_nothing_when_no_label_was_cut() -> None:
    figure = plot_timeline([Span("planner", "planner", 0.0, 1.0), Span("$1 t('a')", "task", 1, 2)])
    assert not any(t.get_text().startswith("Full labels") for t in figure.axes[0].texts)


def _summary() -> dict[str, Any]:
    row = {
        "latency_median_s": 2.0,
        "latency_p90_s": 2.5,
        "latency_mean_s": 2.1,
        "ideal_mean_s": 1.9,
        "cost_usd": 0.001,
        "speedup_vs_react": 2.0,
        "speedup_vs_parallel": 1.2,
    }
    return {"parallelqa": {"llmcompiler": row, "react": row, "parallel": row}}


def test_bench_charts_keep_legends_beside_the_data(tmp_path: Path) -> None:
    import matplotlib.figure

    made: list[Any] = []
    original = matplotlib.figure.Figure.savefig

    def keep(self: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(self)
        return original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(matplotlib.figure.Figure, "savefig", keep)
        plot_workload("parallelqa", _summary()["parallelqa"], [], tmp_path / "w.png", profile="p")
        plot_overview(_summary(), tmp_path / "o.png", profile="p")
        timeline = {
            "workload": "parallelqa",
            "case": "1",
            "planner": [[0.0, 0.3, 0.8]],
            "joiner": [[2.0, 2.2, 2.4]],
            "tasks": [
                {"index": 1, "label": "1. math(Adjust the figure for…)", "text": f"1. math({LONG})",
                 "start": 0.5, "end": 1.5},
            ],
            "ideal": {"tasks": {"1": [0.4, 1.4]}},
        }  # fmt: skip
        plot_gantt(timeline, tmp_path / "g.png", profile="p")
    workload, overview, gantt = made
    _legend_clear_of_data(workload, workload.axes[0])
    _legend_clear_of_data(overview, overview.axes[0])
    _legend_clear_of_data(gantt, gantt.axes[0])
    assert any(LONG in t.get_text() for t in gantt.axes[0].texts)
    for figure in made:
        assert all(a.get_xlabel() and a.get_ylabel() for a in figure.axes)


def test_benchmark_summary_legend_sits_outside_every_panel() -> None:
    from llmcompiler_graph.viz import plot_benchmark

    figure = plot_benchmark(_summary(), title="summary")
    renderer = _render(figure)
    (legend,) = figure.legends
    box = legend.get_window_extent(renderer)
    assert not any(box.overlaps(a.get_window_extent(renderer)) for a in figure.axes)
    assert all(a.get_xlabel() == "workload" and a.get_ylabel() for a in figure.axes)
