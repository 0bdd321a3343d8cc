"""Draw a benchmark summary: latency against the ideal, tokens, and distance to the ideal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmcompiler_graph.viz._style import escape, new_axes

__all__ = ["APPROACH_COLORS", "plot_benchmark"]

APPROACH_COLORS = {
    "react": "#d95f02",
    "parallel": "#7570b3",
    "llmcompiler": "#2b7bba",
    "llmcompiler-tool-calls": "#1b9e77",
}
_NAMES = {
    "react": "ReAct",
    "parallel": "parallel tool calling",
    "llmcompiler": "LLMCompiler",
    "llmcompiler-tool-calls": "LLMCompiler (tool calls)",
}


def plot_benchmark(
    summary: Mapping[str, Mapping[str, Mapping[str, Any]]], *, title: str = ""
) -> Any:
    """Draw three panels per workload: mean latency, tokens per question, measured/ideal.

    Args:
        summary: ``{workload: {approach: row}}`` as returned by
            ``benchmarks.report.summarize``; each row needs ``latency_mean_s``,
            ``ideal_mean_s``, ``input_tokens``, ``output_tokens`` and ``vs_ideal``, and
            LLMCompiler's row ``speedup_vs_react``. Approaches are ``react``, ``parallel``
            and ``llmcompiler``.
        title: Figure title (say that the figures come from a simulation).

    Returns:
        The matplotlib ``Figure``.

    Raises:
        ValueError: If ``summary`` is empty.

    """
    if not summary:
        raise ValueError("plot_benchmark: the summary is empty; run the benchmark first")
    workloads = list(summary)
    approaches = [a for a in APPROACH_COLORS if any(a in rows for rows in summary.values())]
    figure, first = new_axes(None, (max(10.0, 3.6 * len(workloads)), 3.8))
    figure.delaxes(first)
    latency, tokens, ideal = figure.subplots(1, 3, gridspec_kw={"width_ratios": [3, 3, 2]})
    width = 0.8 / len(approaches)
    for k, approach in enumerate(approaches):
        xs = [i + (k - (len(approaches) - 1) / 2) * width for i in range(len(workloads))]
        rows = [summary[w].get(approach, {}) for w in workloads]
        color = APPROACH_COLORS[approach]
        name = _NAMES[approach]
        latency.bar(
            xs, [r.get("latency_mean_s", 0.0) for r in rows], width, color=color, label=name
        )
        inputs = [r.get("input_tokens", 0.0) for r in rows]
        tokens.bar(xs, inputs, width, color=color, alpha=0.45)
        outputs = [r.get("output_tokens", 0.0) for r in rows]
        tokens.bar(xs, outputs, width, bottom=inputs, color=color, label=name)
        ratios = [r.get("vs_ideal") or 0.0 for r in rows]
        ideal.bar(xs, ratios, width, color=color)
        if approach.startswith("llmcompiler"):
            for x, row in zip(xs, rows, strict=True):
                _mark_ideal(latency, x, width, row)
    from matplotlib.lines import Line2D

    handles, _ = latency.get_legend_handles_labels()
    handles.append(Line2D([], [], color="black", linestyle="--", label="ideal schedule"))
    latency.set_ylabel("mean latency per question (s)")
    # One legend for the three panels, below them: it never covers a bar or the title.
    figure.legend(handles=handles, fontsize=7, loc="outside lower center", ncol=len(handles))
    tokens.set_ylabel("tokens per question (light: input, dark: output)")
    ideal.set_ylabel("measured / ideal schedule")
    ideal.axhline(1.0, color="black", linewidth=0.8)
    top = max((r.get("vs_ideal") or 1.0) for rows in summary.values() for r in rows.values())
    ideal.set_ylim(0.9, max(1.1, top + 0.03))
    for axes in (latency, tokens, ideal):
        axes.set_xlabel("workload")
        axes.set_xticks(range(len(workloads)), [escape(w) for w in workloads], fontsize=8)
        axes.grid(axis="y", alpha=0.3)
    if title:
        figure.suptitle(escape(title), fontsize=10)
    return figure


def _mark_ideal(axes: Any, x: float, width: float, row: Mapping[str, Any]) -> None:
    ideal = row.get("ideal_mean_s")
    if ideal:
        axes.hlines(ideal, x - width / 2, x + width / 2, colors="black", linestyles="dashed")
    speedup = row.get("speedup_vs_react")
    if speedup:
        top = row.get("latency_mean_s", 0.0)
        axes.annotate(
            f"{speedup:.1f}x",
            (x, top),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=7,
        )
