"""One benchmark session: pick the cases, run them, print the table, write JSON and plots.

The session's Markdown report is rendered by :mod:`.session_report`.
"""

from __future__ import annotations

import datetime as dt
import gc
import importlib.metadata
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import plots
from benchmarks.harness import ToolTimings, prefill_for
from benchmarks.micro import run_micro
from benchmarks.paper import load_paper_cases
from benchmarks.report import evaluate_targets, summarize, write_json
from benchmarks.runner import APPROACHES, Approach, Env, RunResult, run_case, run_suite
from benchmarks.session_report import render_report
from benchmarks.steady import cpus_kept_awake, heap_settled
from benchmarks.synthetic import synthetic_cases
from benchmarks.workloads import PAPER_WORKLOADS, Case, has_dependencies
from llmcompiler_graph.sim import get_profile

__all__ = ["GANTT_PREFERENCE", "Session", "SessionConfig", "run_session"]

GANTT_PREFERENCE = (
    "parallelqa",
    "movie",
    "hotpotqa",
    "diamond",
    "random-dag",
    "replan",
    "chain-8",
    "wide-16",
    "wide-64",
)
PACKAGES = (
    "llmcompiler-graph",
    "langgraph",
    "langchain",
    "langchain-core",
    "pydantic",
    "matplotlib",
    "tqdm",
)


@dataclass
class SessionConfig:
    """What to run and where to write it."""

    title: str
    workloads: Sequence[str]
    profile: str = "gpt-3.5-like"
    paper_samples: int = 10
    synthetic_samples: int = 3
    seed: int = 0
    out: Path = Path("bench-results")
    jobs: int = 8
    max_concurrency: int = 64
    approaches: Sequence[Approach] = APPROACHES
    micro: bool = True
    plots: bool = True
    progress: bool = True
    datasets: Path | None = None
    timings: ToolTimings = field(default_factory=ToolTimings)
    keep_awake: bool = True
    """Keep the CPUs out of deep idle while it runs (see :func:`~.steady.cpus_kept_awake`)."""
    skipped: dict[str, str] = field(default_factory=dict)


@dataclass
class Session:
    """What a session produced."""

    results: list[RunResult]
    summary: dict[str, Any]
    targets: list[dict[str, Any]]
    micro: dict[str, Any] | None
    report: str
    files: list[Path]


def _cases(config: SessionConfig) -> tuple[list[Case], dict[str, Any]]:
    cases: list[Case] = []
    sampling: dict[str, Any] = {}
    for workload in config.workloads:
        if workload in PAPER_WORKLOADS:
            try:
                chosen, size = load_paper_cases(
                    workload, config.paper_samples, config.seed, config.datasets
                )
            except FileNotFoundError as exc:
                config.skipped[workload] = str(exc)
                continue
            sampling[workload] = {
                "questions": len(chosen),
                "dataset_size": size,
                "ids": [c.id for c in chosen],
            }
        else:
            chosen = synthetic_cases(workload, config.synthetic_samples, config.seed)
            sampling[workload] = {"samples": len(chosen), "seeds": [c.seed for c in chosen]}
        cases += chosen
    return cases, sampling


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "cpu_count": os.cpu_count(),
    }


def _progress(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total,
        unit="run",
        desc="simulated runs",
        disable=not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
    )


def _gantt_run(results: Sequence[RunResult]) -> RunResult | None:
    ours = [r for r in results if r.approach == "llmcompiler" and r.timeline]
    for workload in GANTT_PREFERENCE:
        for r in ours:
            if r.workload == workload:
                return r
    return ours[0] if ours else None


def run_session(config: SessionConfig) -> Session:
    """Run the configured benchmark; print progress to stderr; return figures and files written.

    The micro-benchmarks (CPU-bound: nothing sleeps) run first, without the keep-awake
    thread, which would take the interpreter's lock every 0.5 ms; the simulated runs with it.
    """
    micro = run_micro(config.seed) if config.micro else None
    try:
        with cpus_kept_awake(config.keep_awake):
            return _run_session(config, micro)
    finally:
        gc.unfreeze()  # what heap_settled() froze after the warm-up


def _run_session(config: SessionConfig, micro: dict[str, Any] | None) -> Session:
    profile = get_profile(config.profile)
    timings = config.timings
    env = Env(profile, timings, config.max_concurrency)
    cases, sampling = _cases(config)
    if not cases:
        raise SystemExit("no cases to run: " + "; ".join(config.skipped.values()))
    started = dt.datetime.now(dt.UTC)
    for approach in config.approaches:  # warm-up: imports, schema building; not measured
        run_case(
            approach,
            cases[0],
            Env(get_profile("instant"), ToolTimings(0, 0, 0), config.max_concurrency),
        )
    heap_settled()  # the imports and warm-up stay out of the collections during the runs
    bar = _progress(len(cases) * len(config.approaches), config.progress)

    def advance(result: RunResult) -> None:
        bar.set_postfix_str(f"{result.workload} / {result.approach}", refresh=False)
        bar.update(1)

    with bar:
        results = run_suite(
            cases, env, approaches=config.approaches, jobs=config.jobs, on_result=advance
        )
    summary = summarize(results)
    with_deps = sorted({c.workload for c in cases if has_dependencies(c)})
    overheads = [x for r in results for x in r.overheads_ms]
    targets = evaluate_targets(
        summary,
        profile=profile.name,
        with_dependencies=with_deps,
        all_overheads_ms=overheads,
        micro=micro,
    )
    settings = {
        "title": config.title,
        "simulation": True,
        "date_utc": started.isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "profile": {**asdict(profile), "prefill_s_per_token": prefill_for(profile)},
        "tool_timings": asdict(timings),
        "seed": config.seed,
        "keep_awake": config.keep_awake,
        "sampling": sampling,
        "skipped": config.skipped,
        "max_concurrency": config.max_concurrency,
        "baseline_runs_at_once": config.jobs,
        "llmcompiler_runs_at_once": 1,
        "workloads_with_dependencies": with_deps,
        "tokenizer": "llmcompiler_graph.sim.tokenize (one tokenizer for every approach)",
        "speedup_definition": "mean latency of the other approach / mean latency of this one",
        "packages": _versions(),
        "machine": _machine(),
    }
    report = render_report(config.title, settings, summary, targets, micro)
    out = config.out
    files = [out / "RESULTS.md", out / "results.json"]
    out.mkdir(parents=True, exist_ok=True)
    files[0].write_text(report + "\n", encoding="utf-8")
    gantt = _gantt_run(results)
    payload = {
        "settings": settings,
        "summary": summary,
        "targets": targets,
        "micro": micro,
        "gantt": gantt.timeline if gantt else None,
    }
    write_json(files[1], payload, results)
    if config.plots:
        files += _plots(out / "plots", summary, results, gantt, profile.name)
    return Session(results, summary, targets, micro, report, files)


def _plots(
    folder: Path,
    summary: dict[str, Any],
    results: Sequence[RunResult],
    gantt: RunResult | None,
    profile: str,
) -> list[Path]:
    files = [plots.plot_overview(summary, folder / "overview.png", profile=profile)]
    for workload, rows in summary.items():
        runs = [r for r in results if r.workload == workload]
        files.append(
            plots.plot_workload(workload, rows, runs, folder / f"{workload}.png", profile=profile)
        )
    if gantt is not None and gantt.timeline is not None:
        files.append(plots.plot_gantt(gantt.timeline, folder / "gantt.png", profile=profile))
    return files
