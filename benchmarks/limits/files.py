"""What a limits session writes: ``RESULTS.md``, ``results.json`` and, if asked, its plots."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.limits.runner import LimitRun

__all__ = ["write_session"]


def write_session(
    out: Path,
    figures: Mapping[str, Any],
    report: str,
    runs: Sequence[LimitRun],
    dispatch_runs: Sequence[LimitRun],
    *,
    plots: bool = True,
) -> list[Path]:
    """Write the report, every run and the figures, and the plots; return the files written.

    ``figures`` holds ``settings``, ``summary``, ``dispatch`` and ``targets`` (written as
    they are to ``results.json``, beside the timelines drawn and every run).
    """
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "RESULTS.md", out / "results.json"]
    files[0].write_text(report + "\n", encoding="utf-8")

    def row(r: LimitRun) -> dict[str, Any]:
        data = asdict(r)
        data.pop("timeline", None)
        data["correct"] = r.correct
        return data

    timelines = _timelines(runs)
    payload: dict[str, Any] = {
        **figures,
        "timelines": timelines,
        "runs": [row(r) for r in runs],
        "dispatch_runs": [row(r) for r in dispatch_runs],
    }
    files[1].write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    if plots:
        from benchmarks.limits.plots import draw_all

        profile = figures["settings"]["profile"]["name"]
        files += draw_all(out / "plots", figures["summary"], timelines, profile)
    return files


def _timelines(runs: Sequence[LimitRun]) -> dict[str, Any]:
    """Pick the timelines to draw: mixed-dag FIFO and critical path, a fused Movie-like run."""
    wanted: dict[str, Callable[[LimitRun], bool]] = {
        "mixed-dag-fifo": lambda r: r.workload == "mixed-dag" and r.variant == "fifo",
        "mixed-dag-critical_path": lambda r: (
            r.workload == "mixed-dag" and r.variant == "critical_path"
        ),
        "movie-like-critical_path": lambda r: (
            r.workload == "movie-like" and r.variant == "critical_path"
        ),
        "movie-like-fused": lambda r: r.workload == "movie-like" and r.variant == "fused",
        "movie-like-fused-plan": lambda r: r.workload == "movie-like" and r.variant == "fused_plan",
    }
    picked: dict[str, Any] = {}
    for name, test in wanted.items():
        run = next((r for r in runs if r.path == "sync" and r.timeline and test(r)), None)
        if run is not None:
            picked[name] = run.timeline
    return picked
