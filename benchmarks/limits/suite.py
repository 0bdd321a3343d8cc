"""The limits benchmark session: run every row, print the tables and targets, write JSON and plots.

What runs (all simulated; ``samples`` questions per workload, seeds ``seed .. seed+samples-1``):

* ``movie-like`` and ``parallelqa-like`` with ``search`` limited to 2 at once
  (``tool_limits={"search": 2}``): LLMCompiler FIFO, critical path and fused, each sync and
  async; ReAct and parallel tool calling with a search tool that serves 2 requests at once.
* ``mixed-dag`` under ``max_concurrency=4``: LLMCompiler FIFO and critical path, sync and
  async. Every tool call there takes about 1 s (math too), so the chain is long.
* dispatch latency: the same Movie-like questions and ``wide-16`` plans without limits,
  sync and async, without and with a checkpointer (tools shortened to 0.2 s: only the
  start of each call matters).

LLMCompiler runs one at a time with nothing else running; agent runs, which only sleep, run
``jobs`` at a time (their own measured/bound is recorded, so a slowdown would show).
"""

from __future__ import annotations

import datetime as dt
import gc
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import ToolTimings, prefill_for
from benchmarks.limits.agents import run_agent
from benchmarks.limits.bound import Limits
from benchmarks.limits.files import write_session
from benchmarks.limits.report import (
    dispatch_summary,
    evaluate_targets,
    markdown_tables,
    summarize,
    targets_text,
)
from benchmarks.limits.runner import LimitEnv, LimitRun, Variant, run_llmcompiler, supported
from benchmarks.limits.runner import Path as RunPath
from benchmarks.limits.tools import BATCH_EXTRA_S, REQUEST_OVERHEAD_TOKENS
from benchmarks.limits.workloads import LIMIT_WORKLOADS, limit_cases
from benchmarks.steady import cpus_kept_awake, heap_settled
from benchmarks.synthetic import synthetic_cases
from benchmarks.workloads import Case
from llmcompiler_graph.sim import LatencyProfile, get_profile

__all__ = ["LimitsConfig", "LimitsSession", "environments", "run_limits_session"]

PATHS: tuple[RunPath, ...] = ("sync", "async")
DISPATCH_TIMINGS = ToolTimings(search_s=0.2, search_jitter_s=0.05, math_s=0.05)


@dataclass
class LimitsConfig:
    """What to run and where to write it."""

    samples: int = 3
    seed: int = 0
    profile: str = "gpt-3.5-like"
    workloads: Sequence[str] = LIMIT_WORKLOADS
    out: Path = Path("bench-results/limits")
    jobs: int = 8
    dispatch: bool = True
    plots: bool = True
    progress: bool = True
    timescale: float = 1.0
    """Multiplies every tool latency; 1.0 for recorded figures, smaller for quick checks."""
    keep_awake: bool = True
    """Keep the CPUs out of deep idle while it runs (see :func:`~..steady.cpus_kept_awake`)."""
    skipped: dict[str, str] = field(default_factory=dict)


@dataclass
class LimitsSession:
    """What a session produced."""

    runs: list[LimitRun]
    summary: dict[str, Any]
    dispatch: dict[str, Any]
    targets: list[dict[str, Any]]
    report: str
    files: list[Path]


def environments(
    profile: LatencyProfile, timescale: float = 1.0
) -> dict[str, tuple[LimitEnv, tuple[Variant, ...], bool]]:
    """Return, per workload, its environment, the LLMCompiler variants, and whether agents run.

    ``timescale`` multiplies every tool latency (1.0 for the benchmark; smaller for tests).
    """
    k = timescale
    capped = LimitEnv(profile, ToolTimings(k * 1.0, k * 0.2, k * 0.3), Limits(64, {"search": 2}))
    mixed = LimitEnv(profile, ToolTimings(k * 1.0, k * 0.2, k * 1.0), Limits(4))
    variants: tuple[Variant, ...] = ("fifo", "critical_path", "fused", "fused_plan")
    return {
        "movie-like": (capped, variants, True),
        "parallelqa-like": (capped, variants, True),
        "mixed-dag": (mixed, ("fifo", "critical_path"), False),
    }


def _progress(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total, unit="run", desc="simulated runs", disable=not enabled, file=sys.stderr
    )


def run_limits_session(config: LimitsConfig) -> LimitsSession:
    """Run the limits benchmark; progress to stderr; return the figures and files written."""
    try:
        with cpus_kept_awake(config.keep_awake):
            return _run_limits_session(config)
    finally:
        gc.unfreeze()  # what heap_settled() froze before each run


def _run_limits_session(config: LimitsConfig) -> LimitsSession:
    profile = get_profile(config.profile)
    envs = environments(profile, config.timescale)
    plan: list[tuple[Case, LimitEnv, Variant, RunPath]] = []
    agents: list[tuple[Case, LimitEnv, str]] = []
    for workload in config.workloads:
        env, variants, with_agents = envs[workload]
        cases = limit_cases(workload, config.samples, config.seed)
        for variant in variants:
            if (why := supported(variant, env.limits)) is not None:
                config.skipped[f"{workload} {variant}"] = why
                continue
            plan += [(c, env, variant, p) for p in PATHS for c in cases]
        if with_agents:
            agents += [(c, env, a) for a in ("react", "parallel") for c in cases]
    dispatch_plan: list[tuple[Case, LimitEnv, RunPath, bool]] = []
    if config.dispatch:
        k = config.timescale
        timings = DISPATCH_TIMINGS
        timings = ToolTimings(k * timings.search_s, k * timings.search_jitter_s, k * timings.math_s)
        uncapped = LimitEnv(profile, timings, Limits(64))
        cases = limit_cases("movie-like", config.samples, config.seed)
        cases += synthetic_cases("wide-16", config.samples, config.seed)
        dispatch_plan = [(c, uncapped, p, d) for p in PATHS for c in cases for d in (False, True)]
    started = dt.datetime.now(dt.UTC)
    _warm_up(profile)
    bar = _progress(len(plan) + len(agents) + len(dispatch_plan), config.progress)
    runs: list[LimitRun] = []
    dispatch_runs: list[LimitRun] = []

    def done(into: list[LimitRun], run: LimitRun) -> None:
        into.append(run)
        bar.set_postfix_str(f"{run.workload} {run.variant or run.approach} {run.path}")
        bar.update(1)

    with bar:
        for case, env, variant, path in plan:
            heap_settled()
            done(runs, run_llmcompiler(case, env, variant, path))
        for case, env, path, durable in dispatch_plan:
            heap_settled()
            done(dispatch_runs, run_llmcompiler(case, env, "unlimited", path, checkpointer=durable))
        with ThreadPoolExecutor(max(1, config.jobs), thread_name_prefix="bench-agent") as pool:
            jobs = [pool.submit(run_agent, c, e, a) for c, e, a in agents]  # type: ignore[arg-type]
            for job in jobs:
                done(runs, job.result())
    summary = summarize(runs)
    dispatch = dispatch_summary(dispatch_runs)
    limits = {w: dict(envs[w][0].limits.tool_limits) for w in config.workloads}
    targets = evaluate_targets(summary, dispatch, limits)
    settings = _settings(config, profile, envs, started)
    report = render_report(settings, summary, dispatch, targets)
    return LimitsSession(
        runs + dispatch_runs,
        summary,
        dispatch,
        targets,
        report,
        write_session(
            config.out,
            {"settings": settings, "summary": summary, "dispatch": dispatch, "targets": targets},
            report,
            runs,
            dispatch_runs,
            plots=config.plots,
        ),
    )


def _warm_up(profile: LatencyProfile) -> None:
    """Run each path once with no latency: imports and schema building are not measured."""
    instant = LimitEnv(get_profile("instant"), ToolTimings(0, 0, 0), Limits(64))
    case = limit_cases("movie-like", 1, 0)[0]
    for path in PATHS:
        run_llmcompiler(case, instant, "unlimited", path)
        run_llmcompiler(case, instant, "unlimited", path, checkpointer=True)
    run_agent(case, instant, "parallel")


def _settings(
    config: LimitsConfig,
    profile: LatencyProfile,
    envs: dict[str, tuple[LimitEnv, tuple[Variant, ...], bool]],
    started: dt.datetime,
) -> dict[str, Any]:
    import os
    import platform

    return {
        "title": "LLMCompiler under limits",
        "simulation": True,
        "date_utc": started.isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "profile": {**asdict(profile), "prefill_s_per_token": prefill_for(profile)},
        "samples": config.samples,
        "timescale": config.timescale,
        "seed": config.seed,
        "keep_awake": config.keep_awake,
        "workloads": {
            w: {
                "max_concurrency": envs[w][0].limits.max_concurrency,
                "tool_limits": dict(envs[w][0].limits.tool_limits),
                "tool_timings": asdict(envs[w][0].timings),
                "variants": list(envs[w][1]),
            }
            for w in config.workloads
        },
        "dispatch_tool_timings": asdict(DISPATCH_TIMINGS),
        "batch_extra_s": BATCH_EXTRA_S,
        "request_overhead_tokens": REQUEST_OVERHEAD_TOKENS,
        "skipped": config.skipped,
        "agent_runs_at_once": config.jobs,
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
    }


def render_report(
    settings: dict[str, Any],
    summary: dict[str, Any],
    dispatch: dict[str, Any],
    targets: list[dict[str, Any]],
) -> str:
    """Render the markdown report."""
    profile = settings["profile"]
    lines = [
        f"## LLMCompiler under limits (SIMULATION, profile {profile['name']})",
        "",
        f"Run {settings['date_utc']} on {settings['machine']['cpu_count']} CPU(s); seed "
        f"{settings['seed']}, {settings['samples']} question(s) per workload. A batched search "
        f"takes its slowest query + {settings['batch_extra_s']:g} s per extra query; each search "
        f"request carries {settings['request_overhead_tokens']} tokens of overhead"
        f"{'; CPUs kept out of deep idle' if settings.get('keep_awake') else ''}"
        "; earlier runs' objects frozen out of garbage collection before each LLMCompiler run.",
        "",
        *(
            f"- {w}: max_concurrency {s['max_concurrency']}, tool_limits {s['tool_limits'] or '{}'}"
            f"; search {s['tool_timings']['search_s']:g} s ± "
            f"{s['tool_timings']['search_jitter_s']:g} s, math {s['tool_timings']['math_s']:g} s"
            for w, s in settings["workloads"].items()
        ),
        "",
        markdown_tables(summary, dispatch),
        "",
        "measured/ideal = total measured time / total ideal, the ideal being the zero-overhead "
        "list schedule of the row's own policy (FIFO, critical path, fusion) under the same "
        "limits: what a perfect implementation of that policy reaches. measured/lower bound = "
        "the same against a lower bound no schedule can beat (critical path, and work / "
        "capacity per tool and in all): how far the policy itself is from any schedule. Tool "
        "tokens = search requests and responses (simulated).",
        "",
        "Targets (printed, not asserted):",
        "",
        targets_text(targets),
    ]
    if settings["skipped"]:
        lines += ["", "Not run: " + "; ".join(f"{k}: {v}" for k, v in settings["skipped"].items())]
    return "\n".join(lines)
