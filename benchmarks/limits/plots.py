"""Charts of the limits benchmark: latency per row against its bound, and chosen timelines.

Drawn on plain ``Figure`` objects (no pyplot). Every title says the figures come from a
simulation and names the latency profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from benchmarks.plots import plot_gantt

__all__ = ["draw_all", "plot_rows"]

_COLORS = {
    "fifo": "#9ecae1",
    "critical_path": "#2b7bba",
    "fused": "#08519c",
    "fused_plan": "#08306b",
    "react": "#d95f02",
    "parallel": "#7570b3",
}


def plot_rows(
    workload: str, rows: Mapping[str, Mapping[str, Any]], path: Path, *, profile: str
) -> Path:
    """Draw each row's mean latency (bars) with its lower bound (dashed), and its search calls."""
    names = list(rows)
    fig = Figure(figsize=(max(7.0, 1.0 * len(names) + 3), 4.2))
    lat, calls = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1.4]})
    for x, name in enumerate(names):
        row = rows[name]
        color = _COLORS.get(row["variant"] or row["approach"], "#999999")
        hatch = "//" if row["path"] == "async" and row["approach"] == "llmcompiler" else None
        lat.bar(x, row["latency_mean_s"], color=color, hatch=hatch, width=0.7)
        lat.hlines(row["bound_mean_s"], x - 0.38, x + 0.38, colors="black", linestyles="dashed")
        lat.text(
            x, row["latency_mean_s"], f"{row['vs_bound']:.2f}", ha="center", va="bottom", fontsize=7
        )
        calls.bar(x, row["search_calls"], color=color, hatch=hatch, width=0.7)
    for ax in (lat, calls):
        ax.set_xticks(range(len(names)), names, rotation=35, ha="right", fontsize=7)
    lat.set_ylabel("mean latency (s)")
    lat.set_title(
        "dashed: lower bound under the same limits; number: measured/lower bound", fontsize=8
    )
    calls.set_ylabel("search calls per question")
    fig.suptitle(f"{workload} under limits: simulation, profile {profile}", fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def draw_all(
    folder: Path,
    summary: Mapping[str, Mapping[str, Mapping[str, Any]]],
    timelines: Mapping[str, Mapping[str, Any]],
    profile: str,
) -> list[Path]:
    """Draw one chart per workload and one Gantt per chosen timeline; return the files."""
    files = [
        plot_rows(w, rows, folder / f"limits-{w}.png", profile=profile)
        for w, rows in summary.items()
    ]
    for name, timeline in timelines.items():
        files.append(plot_gantt(timeline, folder / f"timeline-{name}.png", profile=profile))
    return files


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path
