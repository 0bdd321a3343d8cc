"""The hazard benchmark session: run every case, print the table and targets, write the files.

What runs (all simulated; ``samples`` plans, seeds ``seed .. seed+samples-1``): each plan
sync and async with ``tool_effects`` (calls sharing the files keep their plan order), and,
for comparison, without them (calls run as soon as their ``$N`` inputs are done, so reads
race writes). One run at a time, nothing else running.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.hazards.runner import HazardEnv, HazardRun, run_case
from benchmarks.hazards.workload import TOOL_EFFECTS, FileTimings, hazard_case
from benchmarks.steady import cpus_kept_awake, heap_settled
from llmcompiler_graph.sim import get_profile

__all__ = [
    "IDEAL_TARGET",
    "HazardConfig",
    "HazardSession",
    "evaluate_targets",
    "render_report",
    "run_hazard_session",
    "summarize",
    "summary_table",
    "targets_text",
]

IDEAL_TARGET = 1.05
"""measured/ideal under the ordering edges, as for the limits benchmark's rows."""

PATHS = ("sync", "async")


@dataclass
class HazardConfig:
    """What to run and where to write it."""

    samples: int = 5
    seed: int = 0
    profile: str = "gpt-3.5-like"
    out: Path = Path("bench-results/hazards")
    timescale: float = 1.0
    """Multiplies every tool latency; 1.0 for recorded figures, smaller for quick checks."""
    unordered: bool = True
    """Also run every plan without ``tool_effects``, to show what the ordering edges prevent."""
    keep_awake: bool = True
    progress: bool = True


@dataclass
class HazardSession:
    """What a session produced."""

    runs: list[HazardRun]
    summary: dict[str, Any]
    targets: list[dict[str, Any]]
    report: str
    files: list[Path] = field(default_factory=list)


def run_hazard_session(config: HazardConfig) -> HazardSession:
    """Run the hazard benchmark; progress to stderr; return the figures and files written."""
    try:
        with cpus_kept_awake(config.keep_awake):
            return _run(config)
    finally:
        gc.unfreeze()  # what heap_settled() froze before each run


def _run(config: HazardConfig) -> HazardSession:
    k = config.timescale
    env = HazardEnv(get_profile(config.profile), FileTimings(k * 1.0, k * 0.2, k * 0.6, k * 1.0))
    cases = [hazard_case(config.seed + n) for n in range(config.samples)]
    modes = (True, False) if config.unordered else (True,)
    plan = [(c, p, o) for o in modes for p in PATHS for c in cases]
    started = dt.datetime.now(dt.UTC)
    _warm_up()
    runs: list[HazardRun] = []
    for number, (case, path, ordered) in enumerate(plan, start=1):
        heap_settled()
        runs.append(run_case(case, env, path, ordered=ordered))  # type: ignore[arg-type]
        if config.progress:
            print(f"\rhazard runs: {number}/{len(plan)}", end="", file=sys.stderr, flush=True)
    if config.progress:
        print(file=sys.stderr)
    summary = summarize(runs)
    targets = evaluate_targets(summary)
    settings = {
        "title": "Calls that share state (ordering edges)",
        "simulation": True,
        "date_utc": started.isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "profile": config.profile,
        "samples": config.samples,
        "seed": config.seed,
        "timescale": config.timescale,
        "max_concurrency": env.max_concurrency,
        "tool_timings": asdict(env.timings),
        "tool_effects": {n: dict(e) for n, e in TOOL_EFFECTS.items()},
        "tasks_per_plan": [len(c.steps) for c in cases],
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
    }
    report = render_report(settings, summary, targets)
    session = HazardSession(runs, summary, targets, report)
    config.out.mkdir(parents=True, exist_ok=True)
    (config.out / "RESULTS.md").write_text(report + "\n", encoding="utf-8")
    payload = {
        "settings": settings,
        "summary": summary,
        "targets": targets,
        "runs": [asdict(r) for r in runs],
    }
    (config.out / "results.json").write_text(json.dumps(payload, indent=2), encoding="utf-8")
    session.files = [config.out / "RESULTS.md", config.out / "results.json"]
    return session


def _warm_up() -> None:
    """Run each path once with no latency: imports and schema building are not measured."""
    env = HazardEnv(get_profile("instant"), FileTimings(0, 0, 0, 0))
    for path in PATHS:
        run_case(hazard_case(0), env, path)  # type: ignore[arg-type]


def summarize(runs: Sequence[HazardRun]) -> dict[str, Any]:
    """Group runs by (ordered, path): results identical to sequential, measured/ideal."""
    rows: dict[str, Any] = {}
    for ordered in (True, False):
        for path in PATHS:
            group = [r for r in runs if r.ordered == ordered and r.path == path]
            if not group:
                continue
            measured = sum(r.latency for r in group)
            # Each row against the ideal of what it runs: with its ordering edges or without.
            ideal = sum(r.ideal if ordered else r.ideal_unordered for r in group)
            free = sum(r.ideal_unordered for r in group)
            name = f"{'with' if ordered else 'without'} tool_effects, {path}"
            rows[name] = {
                "ordered": ordered,
                "path": path,
                "runs": len(group),
                "identical": sum(r.identical for r in group),
                "tasks_mean": sum(r.tasks for r in group) / len(group),
                "edges_mean": sum(r.edges for r in group) / len(group),
                "latency_mean_s": measured / len(group),
                "ideal_mean_s": ideal / len(group),
                "measured_vs_ideal": measured / ideal,
                "ideal_vs_unordered_ideal": ideal / free,
                "differences": sorted({d for r in group for d in r.differences}),
            }
    return rows


def _check(name: str, value: float, target: str, ok: bool, note: str = "") -> dict[str, Any]:
    return {"name": name, "value": value, "target": target, "ok": ok, "note": note}


def evaluate_targets(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Check the targets (printed, never asserted)."""
    ordered = [row for row in summary.values() if row["ordered"]]
    runs = sum(row["runs"] for row in ordered)
    identical = sum(row["identical"] for row in ordered)
    checks = [
        _check(
            "hazard results identical to sequential in every run",
            identical / runs if runs else 0.0,
            "= 1",
            runs > 0 and identical == runs,
            f"{identical}/{runs} runs: every task's result and every file",
        )
    ]
    for name, row in summary.items():
        if row["ordered"]:
            checks.append(
                _check(
                    f"{name}: measured/ideal",
                    row["measured_vs_ideal"],
                    f"<= {IDEAL_TARGET}",
                    row["measured_vs_ideal"] <= IDEAL_TARGET,
                    "ideal: every call starts when its line has streamed, its $N inputs are "
                    "done and every earlier call it conflicts with has ended",
                )
            )
    return checks


def targets_text(checks: Sequence[dict[str, Any]]) -> str:
    """Render the target checks as a markdown list."""
    lines = []
    for c in checks:
        note = f" ({c['note']})" if c["note"] else ""
        lines.append(
            f"- {'met' if c['ok'] else 'MISSED'}: {c['name']} = {c['value']:.3f} "
            f"(target {c['target']}){note}"
        )
    return "\n".join(lines)


def summary_table(summary: dict[str, Any]) -> str:
    """Render the rows as a markdown table."""
    lines = [
        "| run | runs | results = sequential | ordering edges | measured (s) | ideal (s) "
        "| measured/ideal | ideal/ideal without edges |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in summary.items():
        lines.append(
            f"| {name} | {row['runs']} | {row['identical']}/{row['runs']} | "
            f"{row['edges_mean']:.1f} | {row['latency_mean_s']:.2f} | {row['ideal_mean_s']:.2f} | "
            f"{row['measured_vs_ideal']:.3f} | {row['ideal_vs_unordered_ideal']:.3f} |"
        )
    return "\n".join(lines)


def render_report(
    settings: dict[str, Any], summary: dict[str, Any], targets: Sequence[dict[str, Any]]
) -> str:
    """Render the markdown report."""
    t = settings["tool_timings"]
    lines = [
        f"## Calls that share state (SIMULATION, profile {settings['profile']})",
        "",
        f"Run {settings['date_utc']} on {settings['machine']['cpu_count']} CPU(s); seed "
        f"{settings['seed']}, {settings['samples']} plan(s) of "
        f"{min(settings['tasks_per_plan'])}-{max(settings['tasks_per_plan'])} calls: searches "
        f"({t['search_s']:g} s ± {t['search_jitter_s']:g} s) and read_file ({t['read_s']:g} s), "
        f"write_file and append_file ({t['write_s']:g} s) on three shared files; "
        f"max_concurrency {settings['max_concurrency']}; tool_effects "
        f"{json.dumps(settings['tool_effects'])}.",
        "",
        summary_table(summary),
    ]
    lines += [
        "",
        "results = sequential: every task's result and the three files at the end equal those "
        "of running the plan step by step in plan order. ideal: the zero-overhead schedule "
        "with unlimited parallelism in which each call starts when its line has streamed, its "
        "$N inputs are done and every earlier call it conflicts with (a common resource, one "
        "writes) has ended; the last column is what the ordering costs against the same "
        "schedule without it. Runs without tool_effects are the comparison: their ideal has "
        "no ordering edges, and their results show the races the edges prevent.",
        "",
        "Targets (printed, not asserted):",
        "",
        targets_text(targets),
    ]
    return "\n".join(lines)
