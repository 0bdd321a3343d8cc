"""Charts: one PNG per workload comparing the approaches, an overview, and a Gantt timeline.

Drawn on plain ``Figure`` objects (no pyplot, so importing this never switches the
backend of a notebook or app). Every title says the figures
come from a simulation and names the latency profile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from benchmarks.report import NAMES
from benchmarks.runner import APPROACHES, RunResult

__all__ = ["plot_gantt", "plot_overview", "plot_workload"]

COLORS = {
    "llmcompiler": "#2b7bba",
    "llmcompiler-async": "#6baed6",
    "llmcompiler-tool-calls": "#1b9e77",
    "react": "#d95f02",
    "parallel": "#7570b3",
}


def plot_workload(
    workload: str,
    rows: Mapping[str, Mapping[str, Any]],
    runs: Sequence[RunResult],
    path: Path,
    *,
    profile: str,
) -> Path:
    """Draw latency (median bar, p90 whisker, runs as dots, ideal dashed) and cost per question."""
    approaches = [a for a in APPROACHES if a in rows]
    fig = Figure(figsize=(10, 4.4), layout="constrained")
    lat, cost = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    for x, approach in enumerate(approaches):
        row = rows[approach]
        color = COLORS[approach]
        median, p90 = row["latency_median_s"], row["latency_p90_s"]
        lat.bar(x, median, color=color, alpha=0.85, width=0.6)
        lat.errorbar(x, median, yerr=[[0], [max(p90 - median, 0)]], color="black", capsize=5)
        points = [r.latency for r in runs if r.approach == approach]
        lat.scatter([x + 0.18] * len(points), points, s=10, color="black", alpha=0.5, zorder=3)
        cost.bar(x, row["cost_usd"] * 1000, color=color, alpha=0.85, width=0.6)
        if approach.startswith("llmcompiler"):
            ideal = row["ideal_mean_s"]
            lat.hlines(
                ideal,
                x - 0.35,
                x + 0.35,
                colors="black",
                linestyles="dashed",
                label=f"ideal schedule (mean {ideal:.2f} s)" if approach == "llmcompiler" else None,
            )
    labels = [NAMES[a] for a in approaches]
    lat.set_xticks(range(len(approaches)), labels, rotation=20, ha="right")
    lat.set_xlabel("approach")
    lat.set_ylabel("end-to-end latency per question (s)")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [
        Patch(facecolor="#999999", label="median"),
        Line2D([], [], color="black", marker="_", markersize=10, label="p90 (whisker)"),
        Line2D([], [], color="black", marker=".", linestyle="", alpha=0.5, label="one run"),
        *lat.get_legend_handles_labels()[0],
    ]
    # Outside the axes, above them, so it never covers a bar or a dot.
    lat.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.01), ncol=2, fontsize=7)
    cost.set_xticks(range(len(approaches)), labels, rotation=20, ha="right")
    cost.set_xlabel("approach")
    cost.set_ylabel("simulated cost per question (USD x 1000)")
    ours = rows.get("llmcompiler", {})
    speed = ours.get("speedup_vs_react")
    subtitle = f" — LLMCompiler {speed:.2f}x faster than ReAct" if speed else ""
    fig.suptitle(f"{workload}: simulation, profile {profile}{subtitle}", fontsize=11)
    return _save(fig, path)


def plot_overview(
    summary: Mapping[str, Mapping[str, Mapping[str, Any]]], path: Path, *, profile: str
) -> Path:
    """Draw LLMCompiler's speedup over ReAct and over parallel tool calling, per workload."""
    workloads = [w for w, rows in summary.items() if "llmcompiler" in rows]
    fig = Figure(figsize=(max(6.0, 1.1 * len(workloads) + 2), 4.4), layout="constrained")
    ax = fig.subplots()
    width = 0.38
    for k, base in enumerate(("react", "parallel")):
        values = [summary[w]["llmcompiler"].get(f"speedup_vs_{base}") or 0.0 for w in workloads]
        xs = [i + (k - 0.5) * width for i in range(len(workloads))]
        bars = ax.bar(xs, values, width, color=COLORS[base], label=f"vs {NAMES[base]}")
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(workloads)), workloads, rotation=20)
    ax.set_xlabel("workload")
    ax.set_ylabel("LLMCompiler speedup (other's mean latency / ours)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)  # beside the bars
    fig.suptitle(f"LLMCompiler speedup per workload (simulation, profile {profile})", fontsize=11)
    return _save(fig, path)


def plot_gantt(timeline: Mapping[str, Any], path: Path, *, profile: str) -> Path:
    """Draw one LLMCompiler run: planner stream, each task, joiner; the ideal as outlines.

    Task labels are cut at word boundaries; the full text of each cut one is listed under
    the chart (and is ``text`` in the timeline's tasks).
    """
    rows: list[tuple[str, float, float, float | None, str, str | None]] = []
    for n, (start, first, end) in enumerate(timeline["planner"], 1):
        rows.append((f"planner (round {n})", start, end, first, "planner", None))
    for task in timeline["tasks"]:
        number = str(task.get("index", str(task["label"]).split(".", 1)[0]))
        rows.append((str(task["label"]), task["start"], task["end"], None, "task", number))
    for n, (start, first, end) in enumerate(timeline["joiner"], 1):
        rows.append((f"joiner (round {n})", start, end, first, "joiner", None))
    rows.sort(key=lambda r: r[1])
    full = [str(t["text"]) for t in timeline["tasks"] if t.get("text", t["label"]) != t["label"]]
    ideal = timeline.get("ideal", {}).get("tasks", {})
    fig = Figure(figsize=(10, 0.32 * len(rows) + 2.0 + 0.14 * len(full)), layout="constrained")
    ax = fig.subplots()
    colors = {"planner": "#1b9e77", "task": COLORS["llmcompiler"], "joiner": "#e7298a"}
    for y, (_label, start, end, first, kind, index) in enumerate(rows):
        if first is not None and first > start:  # waiting for the first token
            ax.barh(y, first - start, left=start, color=colors[kind], alpha=0.3, height=0.6)
            ax.barh(y, end - first, left=first, color=colors[kind], height=0.6)
        else:
            ax.barh(y, end - start, left=start, color=colors[kind], height=0.6)
        if kind == "task" and index in ideal:
            ideal_start, ideal_end = ideal[index]
            ax.barh(
                y,
                ideal_end - ideal_start,
                left=ideal_start,
                fill=False,
                edgecolor="black",
                linestyle="--",
                linewidth=0.8,
                height=0.8,
            )
    ax.set_yticks(range(len(rows)), [r[0].replace("$", r"\$") for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("time since the question was asked (s, simulated)")
    ax.set_ylabel("model calls and tasks, in start order")
    _gantt_legend(ax, colors)
    if full:
        ax.annotate(
            "Full task labels:\n" + "\n".join(f.replace("$", r"\$") for f in full),
            (0.0, 0.0),
            xycoords="axes fraction",
            xytext=(0, -34),
            textcoords="offset points",
            va="top",
            fontsize=7,
            color="#333333",
        )
    ax.set_title(
        f"LLMCompiler timeline, {timeline['workload']} {timeline['case']} "
        f"(simulation, profile {profile})",
        fontsize=10,
    )
    return _save(fig, path)


def _gantt_legend(ax: Any, colors: Mapping[str, str]) -> None:
    from matplotlib.patches import Patch

    handles = [
        Patch(facecolor=colors["planner"], label="planner call"),
        Patch(facecolor=colors["task"], label="task (tool call)"),
        Patch(facecolor=colors["joiner"], label="joiner call"),
        Patch(facecolor="#999999", alpha=0.3, label="waiting for the first token"),
        Patch(fill=False, edgecolor="black", linestyle="--", label="ideal schedule"),
    ]
    # Beside the chart: it never covers a bar.
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path
