"""The ``demo``, ``bench``, ``limits`` and ``hazards`` subcommands of ``python -m benchmarks``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["add_commands", "run"]

DEMO_QUESTIONS = 3
DEMO_TIME = "about 2-3 min"
"""How long ``demo`` takes with its defaults on the project's 2-core machine (the docs agree)."""
BENCH_TIME = "about 15-20 min"
"""How long ``bench`` takes with its defaults on the project's 2-core machine (the docs agree)."""


def add_commands(commands: Any) -> None:
    """Register ``demo`` and ``bench`` on the CLI's subparsers."""
    from benchmarks.workloads import ALL_WORKLOADS
    from llmcompiler_graph.sim import PROFILES

    profiles = sorted(PROFILES)
    profile_help = (
        "simulated model latency and prices: gpt-3.5-like (default), gpt-4-like (slower "
        "streaming, about twice as long), instant (no latency, for tests)"
    )
    datasets_help = (
        "folder holding the paper's three JSON files, to read another copy (default: the "
        "copies in the repository, benchmarks/data)"
    )
    demo = commands.add_parser(
        "demo",
        help="offline simulated demo: LLMCompiler (text and tool-call plans) vs ReAct vs "
        f"parallel tool calling ({DEMO_TIME})",
        description="Offline, simulated: scripted models and simulated tools, no key, no "
        f"network. Runs {DEMO_QUESTIONS} questions of each paper workload with every "
        f"approaches ({DEMO_TIME} on 2 cores).",
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("bench-results/demo"),
        help="folder for RESULTS.md, results.json and plots/ (default: bench-results/demo)",
    )
    demo.add_argument("--profile", default="gpt-3.5-like", choices=profiles, help=profile_help)
    demo.add_argument(
        "--questions",
        type=int,
        default=DEMO_QUESTIONS,
        help=f"questions sampled per paper workload (default {DEMO_QUESTIONS})",
    )
    demo.add_argument(
        "--seed", type=int, default=0, help="seed for sampling questions and timings (default 0)"
    )
    demo.add_argument("--datasets", type=Path, default=None, help=datasets_help)
    keep_awake_help = (
        "let the CPUs idle between events (by default a thread keeps them out of deep idle "
        "while the benchmark runs: on a VM, waking an idle vCPU costs milliseconds that every "
        "approach would pay at each thread hand-off)"
    )
    demo.add_argument("--no-keep-awake", action="store_true", help=keep_awake_help)
    bench = commands.add_parser(
        "bench",
        help=f"full simulated benchmark suite with scheduler micro-benchmarks ({BENCH_TIME})",
        description="Offline, simulated: every workload with all three approaches, then the "
        f"scheduler micro-benchmarks ({BENCH_TIME} on 2 cores with the default settings).",
    )
    bench.add_argument(
        "--workload",
        action="append",
        choices=ALL_WORKLOADS,
        help="workload to run (repeatable; default: all)",
    )
    bench.add_argument("--profile", default="gpt-3.5-like", choices=profiles, help=profile_help)
    bench.add_argument(
        "--samples",
        type=int,
        default=None,
        help="questions sampled per paper workload (default 10)",
    )
    bench.add_argument(
        "--synthetic-samples",
        type=int,
        default=3,
        help="seeds per synthetic workload (default 3)",
    )
    bench.add_argument(
        "--seed", type=int, default=0, help="seed for sampling questions and timings (default 0)"
    )
    bench.add_argument(
        "--out",
        type=Path,
        default=Path("bench-results"),
        help="folder for RESULTS.md, results.json and plots/ (default: bench-results)",
    )
    bench.add_argument(
        "--jobs",
        type=int,
        default=8,
        help="baseline runs sharing the machine at once (default 8; LLMCompiler runs alone)",
    )
    bench.add_argument("--datasets", type=Path, default=None, help=datasets_help)
    bench.add_argument(
        "--no-micro", action="store_true", help="skip the scheduler micro-benchmarks"
    )
    bench.add_argument(
        "--no-plots", action="store_true", help="write RESULTS.md and results.json, no PNGs"
    )
    bench.add_argument("--no-keep-awake", action="store_true", help=keep_awake_help)
    limits = commands.add_parser(
        "limits",
        help="simulated benchmark under limits: per-tool limits, critical path, fusion, "
        "async beside sync, dispatch latency (~10 min; --samples 1: ~3 min)",
    )
    limits.add_argument("--samples", type=int, default=3, help="questions per workload (default 3)")
    limits.add_argument(
        "--seed", type=int, default=0, help="seed for sampling questions and timings (default 0)"
    )
    limits.add_argument("--profile", default="gpt-3.5-like", choices=profiles, help=profile_help)
    limits.add_argument(
        "--out",
        type=Path,
        default=Path("bench-results/limits"),
        help="folder for RESULTS.md, results.json and plots/ (default: bench-results/limits)",
    )
    limits.add_argument(
        "--jobs", type=int, default=8, help="agent runs sharing the machine (default 8)"
    )
    limits.add_argument("--no-dispatch", action="store_true", help="skip the dispatch runs")
    limits.add_argument(
        "--only",
        choices=["dispatch"],
        default=None,
        help="run only this part: 'dispatch' runs only the dispatch-latency runs (about 2 min "
        "at --samples 3), e.g. limits --only dispatch --no-plots",
    )
    limits.add_argument(
        "--no-plots", action="store_true", help="write RESULTS.md and results.json, no PNGs"
    )
    limits.add_argument("--no-keep-awake", action="store_true", help=keep_awake_help)
    tools = commands.add_parser(
        "tools",
        help="many tools: tool selection on the 579 BFCL functions (recall at k, planner "
        "prompt tokens, simulated time to first token; about a minute)",
        description="Asks the 400 BFCL parallel and parallel-multiple questions against one "
        "catalogue of their 579 distinct functions: selection recall at each k, the planner's "
        "prompt tokens with every tool and with the selection (both plan formats), simulated "
        "time to first token, selection time. Offline; about a minute on 2 cores.",
    )
    tools.add_argument(
        "--out",
        type=Path,
        default=Path("bench-results/tools"),
        help="folder for RESULTS.md and results.json (default: bench-results/tools)",
    )
    tools.add_argument(
        "--k", type=int, nargs="+", default=[5, 10, 20], help="selection sizes (default 5 10 20)"
    )
    limits.add_argument(
        "--timescale",
        type=float,
        default=1.0,
        help="multiply every tool latency (default 1; e.g. 0.05 for a quick smoke run)",
    )
    _add_hazards(commands, profiles, profile_help, keep_awake_help)
    _add_cache(commands, profiles, profile_help)


def _add_hazards(commands: Any, profiles: list[str], profile_help: str, keep_awake: str) -> None:
    hazards = commands.add_parser(
        "hazards",
        help="simulated benchmark of calls that share state: file edits and reads on shared "
        "files beside searches, with and without tool_effects (~5 min)",
        description="Offline, simulated: plans of file edits and reads on three shared files "
        "mixed with independent searches, each run with tool_effects (calls that share the "
        "files keep their plan order) and without; every run's results are compared with the "
        "plan run step by step, its time with the ideal schedule under the same ordering edges.",
    )
    hazards.add_argument("--samples", type=int, default=5, help="plans (default 5)")
    hazards.add_argument("--seed", type=int, default=0, help="seed of the first plan (default 0)")
    hazards.add_argument("--profile", default="gpt-3.5-like", choices=profiles, help=profile_help)
    hazards.add_argument(
        "--out",
        type=Path,
        default=Path("bench-results/hazards"),
        help="folder for RESULTS.md and results.json (default: bench-results/hazards)",
    )
    hazards.add_argument(
        "--no-unordered", action="store_true", help="skip the runs without tool_effects"
    )
    hazards.add_argument("--no-keep-awake", action="store_true", help=keep_awake)
    hazards.add_argument(
        "--timescale",
        type=float,
        default=1.0,
        help="multiply every tool latency (default 1; e.g. 0.1 for a quick smoke run)",
    )


def _add_cache(commands: Any, profiles: list[str], profile_help: str) -> None:
    cache = commands.add_parser(
        "cache",
        help="prompt caching: every approach with and without a simulated provider cache, on "
        "the paper workloads and a conversation in one thread (~12 min)",
        description="Offline, simulated: every approach on the paper workloads and on a "
        "conversation of several questions in one thread, once without and once with a "
        "simulated provider prompt cache; reports the share of input tokens served from "
        "cache, cost, time to first token and latency side by side (~12 min on 2 cores).",
    )
    cache.add_argument(
        "--samples", type=int, default=3, help="questions per paper workload (default 3)"
    )
    cache.add_argument(
        "--questions", type=int, default=10, help="questions of the conversation (default 10)"
    )
    cache.add_argument("--seed", type=int, default=0, help="seed for sampling (default 0)")
    cache.add_argument("--profile", default="gpt-3.5-like", choices=profiles, help=profile_help)
    cache.add_argument(
        "--rules",
        default="openai",
        choices=["openai", "anthropic", "vllm"],
        help="the simulated provider's caching rules (default openai: automatic from 1,024 "
        "tokens, cached input at half price)",
    )
    cache.add_argument(
        "--out",
        type=Path,
        default=Path("bench-results/cache"),
        help="folder for RESULTS.md and results.json (default: bench-results/cache)",
    )
    cache.add_argument(
        "--jobs", type=int, default=8, help="agent runs sharing the machine (default 8)"
    )
    cache.add_argument("--no-keep-awake", action="store_true", help="let the CPUs idle")


def _run_cache(args: argparse.Namespace) -> int:
    from benchmarks.caching import CacheConfig, run_cache_session

    config = CacheConfig(
        samples=args.samples,
        questions=args.questions,
        seed=args.seed,
        profile=args.profile,
        rules=args.rules,
        out=args.out,
        jobs=args.jobs,
        keep_awake=not args.no_keep_awake,
    )
    print(
        f"SIMULATION: scripted models with the '{args.profile}' latency profile, simulated "
        f"tools and a simulated '{args.rules}' prompt cache; no API key, no network.",
        file=sys.stderr,
    )
    started = time.perf_counter()
    session = run_cache_session(config)
    print(session.report)
    print(
        f"\nWrote {', '.join(str(f) for f in session.files)} "
        f"({time.perf_counter() - started:.0f} s)."
    )
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the chosen subcommand."""
    os.environ.setdefault("LANGSMITH_TRACING", "false")
    if args.command == "limits":
        return _run_limits(args)
    if args.command == "tools":
        return _run_tools(args)
    if args.command == "hazards":
        return _run_hazards(args)
    if args.command == "cache":
        return _run_cache(args)
    try:
        from benchmarks.suite import SessionConfig, run_session
    except ImportError as exc:
        print(
            f"python -m benchmarks {args.command}: a benchmark dependency is missing ({exc}). "
            "Install them with: pip install -e '.[bench]'",
            file=sys.stderr,
        )
        return 2
    from benchmarks.paper import DATASET_FILES
    from benchmarks.workloads import ALL_WORKLOADS, PAPER_WORKLOADS

    wanted = PAPER_WORKLOADS if args.command == "demo" else (args.workload or ALL_WORKLOADS)
    if args.datasets is not None:
        missing = [f for w, f in DATASET_FILES.items() if w in wanted]
        missing = [f for f in missing if not (args.datasets / f).is_file()]
        if missing:
            print(
                f"python -m benchmarks {args.command}: --datasets {args.datasets} lacks "
                f"{', '.join(missing)}; point it at a folder holding the paper's files, or "
                "leave --datasets out to use the copies in benchmarks/data",
                file=sys.stderr,
            )
            return 2
    if args.command == "demo":
        config = SessionConfig(
            title="LLMCompiler vs ReAct vs parallel tool calling: offline demo",
            workloads=PAPER_WORKLOADS,
            profile=args.profile,
            paper_samples=args.questions,
            seed=args.seed,
            out=args.out,
            jobs=3 * args.questions * 2,
            micro=False,
            datasets=args.datasets,
            keep_awake=not args.no_keep_awake,
        )
    else:
        config = SessionConfig(
            title="LLMCompiler benchmark",
            workloads=args.workload or ALL_WORKLOADS,
            profile=args.profile,
            paper_samples=args.samples if args.samples is not None else 10,
            synthetic_samples=args.synthetic_samples,
            seed=args.seed,
            out=args.out,
            jobs=args.jobs,
            micro=not args.no_micro,
            plots=not args.no_plots,
            datasets=args.datasets,
            keep_awake=not args.no_keep_awake,
        )
    print(
        f"SIMULATION: scripted models with the '{config.profile}' latency profile and simulated "
        "tools; no API key, no network. Every number below is simulated time.",
        file=sys.stderr,
    )
    started = time.perf_counter()
    session = run_session(config)
    if args.command == "demo":
        from benchmarks.walkthrough import walkthrough

        example = next(
            (r for r in session.results if r.approach == "llmcompiler" and r.timeline), None
        )
        if example is not None:
            print(walkthrough(example), end="\n\n")
    print(session.report)
    print(
        f"\nWrote {', '.join(str(f) for f in session.files[:2])} and "
        f"{len(session.files) - 2} plot(s) in {config.out / 'plots'} "
        f"({time.perf_counter() - started:.0f} s)."
    )
    return 0


def _run_tools(args: argparse.Namespace) -> int:
    from benchmarks.tool_selection import report, run_tool_selection, write

    print(
        "Tool selection on the BFCL pool: recall and selection time are measured, prompt "
        "tokens computed from the real prompts, time to first token a SIMULATION.",
        file=sys.stderr,
    )
    started = time.perf_counter()
    results = run_tool_selection(sorted(set(args.k)))
    files = write(results, args.out)
    print(report(results))
    print(f"\nWrote {', '.join(str(f) for f in files)} ({time.perf_counter() - started:.0f} s).")
    return 0


def _run_limits(args: argparse.Namespace) -> int:
    try:
        from benchmarks.limits.suite import LimitsConfig, run_limits_session
        from benchmarks.limits.workloads import LIMIT_WORKLOADS
    except ImportError as exc:
        print(
            f"python -m benchmarks limits: a benchmark dependency is missing ({exc}). "
            "Install them with: pip install -e '.[bench]'",
            file=sys.stderr,
        )
        return 2
    config = LimitsConfig(
        samples=args.samples,
        seed=args.seed,
        profile=args.profile,
        out=args.out,
        jobs=args.jobs,
        workloads=() if args.only == "dispatch" else LIMIT_WORKLOADS,
        dispatch=args.only == "dispatch" or not args.no_dispatch,
        plots=not args.no_plots,
        timescale=args.timescale,
        keep_awake=not args.no_keep_awake,
    )
    print(
        f"SIMULATION: scripted models with the '{config.profile}' latency profile and simulated "
        "tools under limits; no API key, no network. Every number below is simulated time.",
        file=sys.stderr,
    )
    started = time.perf_counter()
    session = run_limits_session(config)
    print(session.report)
    print(
        f"\nWrote {', '.join(str(f) for f in session.files[:2])} and "
        f"{len(session.files) - 2} plot(s) in {config.out / 'plots'} "
        f"({time.perf_counter() - started:.0f} s)."
    )
    return 0


def _run_hazards(args: argparse.Namespace) -> int:
    from benchmarks.hazards.suite import HazardConfig, run_hazard_session

    config = HazardConfig(
        samples=args.samples,
        seed=args.seed,
        profile=args.profile,
        out=args.out,
        timescale=args.timescale,
        unordered=not args.no_unordered,
        keep_awake=not args.no_keep_awake,
    )
    print(
        f"SIMULATION: scripted models with the '{config.profile}' latency profile and simulated "
        "file and search tools; no API key, no network. Every number below is simulated time.",
        file=sys.stderr,
    )
    started = time.perf_counter()
    session = run_hazard_session(config)
    print(session.report)
    print(
        f"\nWrote {', '.join(str(f) for f in session.files)} "
        f"({time.perf_counter() - started:.0f} s)."
    )
    return 0
