"""Aggregate runs into figures, check the targets, and write the table and the JSON."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.runner import APPROACHES, RunResult

__all__ = [
    "PAPER_SPEEDUP",
    "evaluate_targets",
    "markdown_table",
    "micro_table",
    "summarize",
    "targets_text",
    "write_json",
]

PAPER_SPEEDUP = {"hotpotqa": 1.80, "movie": 3.74, "parallelqa": 2.15}
"""The paper's latency speedups over ReAct (Kim et al. 2024, Table 1)."""

IDEAL_TARGET = 1.05
TOOL_CALLS_IDEAL_TARGET = 1.01
"""The tool-calling planner's target: measured/ideal at most 1.01."""
OVERHEAD_TARGET_MS = 2.0
NAMES = {
    "llmcompiler": "LLMCompiler",
    "llmcompiler-async": "LLMCompiler (async)",
    "llmcompiler-tool-calls": "LLMCompiler (tool calls)",
    "react": "ReAct",
    "parallel": "parallel tool calling",
}


def _p90(values: Sequence[float]) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return statistics.fmean(items) if items else float("nan")


def summarize(results: Sequence[RunResult]) -> dict[str, dict[str, dict[str, Any]]]:
    """Return figures per workload and approach (seconds, USD; means are per question)."""
    grouped: dict[str, dict[str, list[RunResult]]] = {}
    for r in results:
        grouped.setdefault(r.workload, {}).setdefault(r.approach, []).append(r)
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    for workload, by_approach in grouped.items():
        rows: dict[str, dict[str, Any]] = {}
        for approach in [a for a in APPROACHES if a in by_approach]:
            runs = by_approach[approach]
            latencies = [r.latency for r in runs]
            overheads = sorted(x for r in runs for x in r.overheads_ms)
            rows[approach] = {
                "n": len(runs),
                "correct": sum(r.correct for r in runs),
                "latency_median_s": statistics.median(latencies),
                "latency_p90_s": _p90(latencies),
                "latency_mean_s": _mean(latencies),
                "ideal_mean_s": _mean(r.ideal for r in runs),
                "vs_ideal": sum(latencies) / ideal
                if (ideal := sum(r.ideal for r in runs))
                else None,
                "vs_ideal_max": max((r.latency / r.ideal for r in runs if r.ideal), default=None),
                "llm_calls": _mean(r.llm_calls for r in runs),
                "input_tokens": _mean(r.input_tokens for r in runs),
                "output_tokens": _mean(r.output_tokens for r in runs),
                "cost_usd": _mean(r.cost for r in runs),
                "tasks": _mean(r.tasks for r in runs),
                "overhead_ms_median": statistics.median(overheads) if overheads else None,
                "overhead_ms_p90": _p90(overheads) if overheads else None,
                "overhead_samples": len(overheads),
            }
        for row in rows.values():
            for base in ("react", "parallel"):
                other = rows.get(base)
                row[f"speedup_vs_{base}"] = (
                    other["latency_mean_s"] / row["latency_mean_s"] if other else None
                )
                row[f"cost_saving_vs_{base}"] = (
                    other["cost_usd"] / row["cost_usd"] if other and row["cost_usd"] else None
                )
        summary[workload] = rows
    return summary


def _fmt(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def markdown_table(summary: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    """Render the summary as a markdown table (one row per workload and approach)."""
    head = (
        "| workload | approach | n | median s | p90 s | x vs ReAct | x vs parallel | LLM calls "
        "| input tok | output tok | cost $ | measured/ideal | overhead ms/task |\n"
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    )
    lines = [head]
    for workload, rows in summary.items():
        for approach, row in rows.items():
            lines.append(
                f"| {workload} | {NAMES.get(approach, approach)} | {row['n']} "
                f"| {row['latency_median_s']:.2f} | {row['latency_p90_s']:.2f} "
                f"| {_fmt(row['speedup_vs_react'], '.2f')} "
                f"| {_fmt(row['speedup_vs_parallel'], '.2f')} | {row['llm_calls']:.1f} "
                f"| {row['input_tokens']:,.0f} | {row['output_tokens']:,.0f} "
                f"| {row['cost_usd']:.5f} | {_fmt(row['vs_ideal'], '.3f')} "
                f"| {_fmt(row['overhead_ms_median'], '.2f')} |"
            )
    return "\n".join(lines)


def evaluate_targets(
    summary: Mapping[str, Mapping[str, Mapping[str, Any]]],
    *,
    profile: str,
    with_dependencies: Iterable[str],
    all_overheads_ms: Sequence[float],
    micro: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Check the issue's targets: each entry has what was measured, the target, whether it holds."""
    checks: list[dict[str, Any]] = []
    realistic = profile != "instant"
    for workload, rows in summary.items():
        ours = rows.get("llmcompiler")
        if ours is None:
            continue
        for approach, label, target in (
            ("llmcompiler", "", IDEAL_TARGET),
            ("llmcompiler-async", " (async)", IDEAL_TARGET),
            ("llmcompiler-tool-calls", " (tool calls)", TOOL_CALLS_IDEAL_TARGET),
        ):
            row = rows.get(approach)
            if not realistic or row is None or row["vs_ideal"] is None:
                continue
            ok = row["vs_ideal"] <= target
            checks.append(
                _check(
                    f"{workload}: measured/ideal{label}",
                    row["vs_ideal"],
                    f"<= {target}",
                    ok,
                    "" if ok else _ideal_missed(row, target, rows),
                )
            )
        if workload in PAPER_SPEEDUP and ours["speedup_vs_react"] is not None:
            paper = PAPER_SPEEDUP[workload]
            ok = ours["speedup_vs_react"] >= paper
            notes = [] if profile == "gpt-3.5-like" else ["the paper's figure is for GPT-3.5"]
            if not ok:
                notes.append(_speedup_missed(rows, "react", paper))
            checks.append(
                _check(
                    f"{workload}: speedup vs ReAct",
                    ours["speedup_vs_react"],
                    f">= {paper} (paper)",
                    ok,
                    "; ".join(notes),
                )
            )
        if workload in set(with_dependencies) and ours["speedup_vs_parallel"] is not None:
            ok = ours["speedup_vs_parallel"] > 1
            checks.append(
                _check(
                    f"{workload}: speedup vs parallel tool calling",
                    ours["speedup_vs_parallel"],
                    "> 1",
                    ok,
                    "" if ok else _speedup_missed(rows, "parallel", 1.0),
                )
            )
    if micro:
        ratio = micro["scaling_ratio"]
        checks.append(
            _check(
                "scheduler: 10x tasks, time ratio",
                ratio,
                "<= 12",
                ratio <= 12,
                "" if ratio <= 12 else _scaling_missed(micro),
            )
        )
        wide = micro["wide"]
        ok = wide["never_exceeded"] and wide["fully_used"]
        checks.append(
            _check(
                f"scheduler: peak running, {wide['tasks']} wide, cap {wide['cap']}",
                wide["peak_running"],
                f"== {wide['cap']} (never above, pool fully used)",
                ok,
                ""
                if ok
                else (
                    "more calls ran at once than the cap allows: a bug, please report it"
                    if not wide["never_exceeded"]
                    else f"the pool was not fully used ({wide['utilisation']:.0%}): on a busy "
                    "machine the 64 zero-latency tasks may finish before 8 run together"
                ),
            )
        )
    if all_overheads_ms:
        median = statistics.median(all_overheads_ms)
        ok = median < OVERHEAD_TARGET_MS
        checks.append(
            _check(
                "orchestration overhead, median per task (ms)",
                median,
                f"< {OVERHEAD_TARGET_MS}",
                ok,
                ""
                if ok
                else f"{median - OVERHEAD_TARGET_MS:.2f} ms over: the time from a task being able "
                "to start to its tool starting (LangChain's stream handling, parsing, the "
                "scheduler, a thread hand-off, tool.invoke); a busy or small machine adds "
                "milliseconds at each thread wake-up, so rerun on an idle machine to compare",
            )
        )
    return checks


def _ideal_missed(
    row: Mapping[str, Any], target: float, rows: Mapping[str, Mapping[str, Any]]
) -> str:
    """Say by how much a measured/ideal target was missed, and what limits it."""
    overhead = row.get("overhead_ms_median")
    per_task = f" (median {overhead:.1f} ms per task here)" if overhead is not None else ""
    agents = {
        NAMES[name]: rows[name]["vs_ideal"]
        for name in ("react", "parallel")
        if name in rows and rows[name].get("vs_ideal") is not None
    }
    machine = ""
    if agents:
        measured = " and ".join(f"{name} {ratio:.3f}" for name, ratio in agents.items())
        machine = (
            f"; the agents, which run none of this scheduling, measured {measured} of their "
            "own ideal in this run: "
            + (
                "that much is the machine"
                if max(agents.values()) >= 1.005
                else "the machine was steady, so look at the overhead column"
            )
        )
    return (
        f"{(row['vs_ideal'] - 1) * 100:.1f}% slower than a perfect scheduler under the same "
        f"timings, {(row['vs_ideal'] - target) * 100:.1f} points over the target: what adds up "
        f"is the orchestration on the critical path{per_task} and the machine; with "
        f"{row['n']} question(s), one run slowed by a busy or small machine (a thread waking "
        f"late costs milliseconds) moves the mean{machine}"
    )


def _speedup_missed(rows: Mapping[str, Mapping[str, Any]], other: str, target: float) -> str:
    """Say why a speedup target was missed: out of reach in this simulation, or by how much."""
    ours, theirs = rows["llmcompiler"], rows.get(other)
    if theirs is None or not ours["ideal_mean_s"]:
        return "the other approach's ideal time is not known, so the gap cannot be split"
    limit = theirs["ideal_mean_s"] / ours["ideal_mean_s"]
    if limit <= target:
        if other == "react":
            return (
                f"out of reach here: with perfect scheduling on both sides the ratio is "
                f"{limit:.2f}x, because our scripted ReAct makes exactly the "
                f"{theirs['tasks']:.3g} tool calls the question needs, one per turn (its best "
                "case), while the paper timed real ReAct agents that took extra turns; see the "
                "docs' Benchmarks pages"
            )
        return (
            f"out of reach here: with perfect scheduling on both sides the ratio is "
            f"{limit:.2f}x: the parallel agent's turns (one per dependency level) take no longer "
            "here than LLMCompiler's plan and joiner calls, so streaming has nothing to win back"
        )
    return (
        f"perfect scheduling on both sides would give {limit:.2f}x, so the gap to the target "
        "is orchestration overhead (see this workload's measured/ideal)"
    )


def _scaling_missed(micro: Mapping[str, Any]) -> str:
    """Say what the scheduler's scaling ratio was made of when it missed its target."""
    per_task = {d["tasks"]: d["us_per_task"] for d in micro.get("random_dags", [])}
    small, large = per_task.get(1000), per_task.get(10000)
    detail = (
        f" ({small:.1f} µs per task at 1,000 tasks, {large:.1f} at 10,000)"
        if small is not None and large is not None
        else ""
    )
    return (
        f"the cost per task grew with the DAG{detail}; on a shared 2-core machine this ratio is "
        "noisy (a 1,000-task DAG submitted within one GIL switch interval runs unusually fast), "
        "so rerun on an idle machine to compare"
    )


def _check(name: str, value: float, target: str, ok: bool, note: str = "") -> dict[str, Any]:
    return {"name": name, "value": value, "target": target, "ok": ok, "note": note}


def targets_text(checks: Sequence[Mapping[str, Any]]) -> str:
    """Render the target checks as a markdown list (printed, never asserted)."""
    lines = []
    for c in checks:
        mark = "met" if c["ok"] else "MISSED"
        note = c["note"] or ("" if c["ok"] else "no reason recorded")
        note = f" ({note})" if note else ""
        lines.append(f"- {mark}: {c['name']} = {c['value']:.3f} (target {c['target']}){note}")
    return "\n".join(lines)


def micro_table(micro: Mapping[str, Any]) -> str:
    """Render the scheduler micro-benchmarks as a markdown table."""
    rows = ["| benchmark | result |", "|---|---|"]
    for dag in micro.get("random_dags", []):
        rows.append(
            f"| random DAG, {dag['tasks']:,} tasks | {dag['seconds']:.3f} s, "
            f"{dag['us_per_task']:.1f} µs/task |"
        )
    if "scaling_ratio" in micro:
        rows.append(
            f"| 10x tasks → time ratio: 10,000 vs 1,000 (target ≤ 12); 30,000 vs 3,000 "
            f"| {micro['scaling_ratio']:.2f}x; {micro.get('scaling_ratio_large', math.nan):.2f}x |"
        )
    if chain := micro.get("chain"):
        rows.append(
            f"| chain of {chain['tasks']}: dependency done → dependent running | median "
            f"{chain['dispatch_us_median']:.0f} µs, max {chain['dispatch_us_max']:.0f} µs |"
        )
    if wide := micro.get("wide"):
        rows.append(
            f"| {wide['tasks']} wide, max_concurrency {wide['cap']} | peak running "
            f"{wide['peak_running']} (never above cap: {wide['never_exceeded']}), pool use "
            f"{wide['utilisation']:.0%} |"
        )
    if graph := micro.get("graph"):
        rows.append(
            f"| whole graph, instant model, {graph['tasks']} zero-latency tasks | "
            f"{graph['seconds'] * 1000:.1f} ms, {graph['ms_per_task']:.2f} ms/task |"
        )
    if tool := micro.get("tool_invoke"):
        rows.append(
            f"| LangChain `tool.invoke` until the tool body runs (all approaches pay it) | "
            f"median {tool['us_median']:.0f} µs |"
        )
    return "\n".join(rows)


def write_json(path: Path, payload: Mapping[str, Any], results: Sequence[RunResult]) -> None:
    """Write every figure, the settings and each run (timelines left out) as JSON."""
    runs = []
    for r in results:
        row = asdict(r)
        row.pop("timeline", None)
        row["correct"] = r.correct
        runs.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**payload, "runs": runs}, indent=2, default=str), encoding="utf-8")
