"""Prompt caching: every approach with and without a simulated provider cache.

Two parts, each run once without a cache and once with a simulated provider prompt cache
(:class:`~llmcompiler_graph.sim.PrefixCache`, OpenAI's rules unless told otherwise; a fresh
cache per approach and part, kept across that part's runs, its planner and joiner sharing
it as one deployment would):

* the paper workloads, one run per question, as ``bench`` runs them;
* a conversation: questions of the paper workloads and the replanning puzzle, in turn, asked
  one after another in one thread (a checkpointer), so later questions see earlier turns.
  LLMCompiler's prompts carry the earlier questions and answers; the agents' carry their
  whole transcript, tool calls and results included, as ``create_agent`` keeps it.

Reported per approach: the share of input tokens served from cache, cost, time to first
token (measured, first chunk of each model call) and latency, side by side; the targets
(printed, never asserted) and the cost ratios against ReAct.
"""

from __future__ import annotations

import gc
import json
import statistics
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver

from benchmarks.baselines import AGENT_PROMPTS, scripted_turns
from benchmarks.harness import BenchChatModel, ToolRecord, ToolTimings, bench_model, make_tools
from benchmarks.harness import run_coroutine as run_async
from benchmarks.paper import load_paper_cases
from benchmarks.report import NAMES
from benchmarks.runner import APPROACHES, OURS, Approach, Env, RunResult, run_case
from benchmarks.scripts import extract_answer, joiner_reply, plan_text, plan_tool_calls
from benchmarks.steady import cpus_kept_awake, heap_settled
from benchmarks.synthetic import synthetic_cases
from benchmarks.workloads import PAPER_WORKLOADS, Case
from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.sim import CACHE_RULES, LatencyProfile, get_profile
from llmcompiler_graph.sim.cache import common_prefix_tokens, prompt_token_count, servable

__all__ = [
    "CONVERSATION_MIX",
    "CacheConfig",
    "CacheSession",
    "ConversationRun",
    "QuestionRun",
    "against_react",
    "conversation_cases",
    "run_cache_session",
    "run_conversation",
]

CONVERSATION_MIX = ("hotpotqa", "movie", "parallelqa", "replan")
"""The conversation's questions come from these workloads, in turn."""
PLANNER_TARGET = 0.80
LATENCY_TARGET = 1.01
"""Cached / uncached latency: no latency lost (1% allowed for measurement noise)."""


@dataclass
class QuestionRun:
    """One question of a conversation: what it cost and how long it took."""

    workload: str
    latency: float
    ttft_s: float | None
    input_tokens: int
    cached_tokens: int
    cost: float
    correct: bool
    planner: list[tuple[int, int]] = field(default_factory=list)
    """(input, cached) tokens of each planner call (each model call for the agents)."""
    replans: list[tuple[int, int]] = field(default_factory=list)
    """(cached, servable) tokens of each replan: what the cache served, and what it could
    serve of the prompt the replan shares with the round before (up to its new rounds)."""


@dataclass
class ConversationRun:
    """An approach's conversation, with or without a cache."""

    approach: str
    cached: bool
    questions: list[QuestionRun]


def conversation_cases(questions: int, seed: int, datasets: Path | None = None) -> list[Case]:
    """Return ``questions`` cases taken in turn from :data:`CONVERSATION_MIX`."""
    each = -(-questions // len(CONVERSATION_MIX))
    pools: dict[str, list[Case]] = {}
    for workload in CONVERSATION_MIX:
        if workload in PAPER_WORKLOADS:
            pools[workload] = load_paper_cases(workload, each, seed, datasets)[0]
        else:
            pools[workload] = synthetic_cases(workload, each, seed)
    mix = CONVERSATION_MIX
    return [pools[mix[k % len(mix)]][k // len(mix)] for k in range(questions)]


def _merged(cases: Sequence[Case], seed: int) -> Case:
    """One case holding every step of ``cases`` (the tools answer all their searches)."""
    rounds = tuple(r for c in cases for r in c.rounds)
    return Case("conversation", "conversation", "", rounds, "", seed)


def _ttft(model: BenchChatModel, index: int) -> float | None:
    times = model.chunk_times[index] if index < len(model.chunk_times) else []
    return times[0] - model.call_starts[index] if times else None


def _span(model: BenchChatModel, first: int, last: int) -> tuple[int, int, float]:
    """Return input tokens, cached tokens and cost of ``model``'s calls ``first..last-1``."""
    events = [e for e in model.events if first <= e.index < last]
    cost = model.events_cost(events)
    return sum(e.input_tokens for e in events), sum(e.cached_tokens for e in events), cost


def _planner_calls(model: BenchChatModel, first: int, last: int) -> list[tuple[int, int]]:
    by_index = {e.index: e for e in model.events}
    return [(by_index[i].input_tokens, by_index[i].cached_tokens) for i in range(first, last)]


def _replans(model: BenchChatModel, first: int, last: int, rules: str) -> list[tuple[int, int]]:
    """Return (cached, servable) for each replan among calls ``first..last-1``."""
    by_index = {e.index: e for e in model.events}
    found = []
    for k in range(first + 1, last):
        before, now = model.calls[k - 1], model.calls[k]
        tools = by_index[k].input_tokens - prompt_token_count(now)  # bound tool schemas
        shared = tools + common_prefix_tokens(before, now)
        found.append((by_index[k].cached_tokens, servable(CACHE_RULES[rules], shared)))
    return found


def run_conversation(cases: Sequence[Case], approach: Approach, env: Env) -> ConversationRun:
    """Ask ``cases``' questions one after another in one thread with ``approach``."""
    records: list[ToolRecord] = []
    tools = make_tools(_merged(cases, cases[0].seed), env.timings, records)
    cache = env.cache_for(approach)
    thread: RunnableConfig = {"configurable": {"thread_id": "conversation"}}
    if approach in OURS:
        tool_calls = approach == "llmcompiler-tool-calls"
        plans: list[Any] = [
            plan_tool_calls(r) if tool_calls else plan_text(r) for c in cases for r in c.rounds
        ]
        joins = [joiner_reply(c, i) for c in cases for i in range(len(c.rounds))]
        planner = bench_model(plans, env.profile, stream_tool_calls=tool_calls, prompt_cache=cache)
        joiner = bench_model(joins, env.profile, prompt_cache=cache)
        app: Any = create_llm_compiler(
            planner,
            tools,
            joiner_model=joiner,
            max_replans=max(len(c.rounds) for c in cases),
            max_concurrency=env.max_concurrency,
            plan_format="tool_calls" if tool_calls else "text",
            checkpointer=InMemorySaver(),
        )
        models = [planner, joiner]
    else:
        turns: list[AIMessage] = []
        for number, case in enumerate(cases):
            turns += [_renamed(t, number) for t in scripted_turns(case, approach)]  # type: ignore[arg-type]
        planner = bench_model(turns, env.profile, prompt_cache=cache)
        app = create_agent(
            planner,
            tools,
            system_prompt=AGENT_PROMPTS[approach],
            name=f"{approach}-agent",
            checkpointer=InMemorySaver(),
        )
        models = [planner]
    questions = []
    for case in cases:
        marks = [len(m.calls) for m in models]
        config: RunnableConfig = {
            **thread,
            "max_concurrency": env.max_concurrency,
            "recursion_limit": 100,
        }
        inputs = {"messages": [HumanMessage(case.question)]}
        start = time.perf_counter()
        if approach == "llmcompiler-async":

            async def go(inputs: Any = inputs, config: RunnableConfig = config) -> Any:
                return await app.ainvoke(inputs, config)

            out = run_async(go)
        else:
            out = app.invoke(inputs, config)
        latency = time.perf_counter() - start
        ends = [len(m.calls) for m in models]
        spans = [_span(m, a, b) for m, a, b in zip(models, marks, ends, strict=True)]
        last: BaseMessage = out["messages"][-1]
        answer = str(last.content) if approach in OURS else extract_answer(str(last.content))
        questions.append(
            QuestionRun(
                case.workload,
                latency,
                _ttft(planner, marks[0]),
                sum(s[0] for s in spans),
                sum(s[1] for s in spans),
                sum(s[2] for s in spans),
                answer.strip() == case.answer.strip(),
                _planner_calls(planner, marks[0], ends[0]),
                _replans(planner, marks[0], ends[0], env.cache or "openai")
                if approach in OURS
                else [],
            )
        )
    return ConversationRun(approach, env.cache is not None, questions)


def _renamed(turn: AIMessage, question: int) -> AIMessage:
    """Give a turn's tool calls ids of their own in the thread (ids repeat across cases)."""
    calls = [{**c, "id": f"q{question}_{c['id']}"} for c in turn.tool_calls]
    return turn.model_copy(update={"tool_calls": calls})


# -- the session ----------------------------------------------------------------------------


@dataclass
class CacheConfig:
    """What the caching benchmark runs and where it writes."""

    samples: int = 3
    questions: int = 10
    seed: int = 0
    profile: str | LatencyProfile = "gpt-3.5-like"
    rules: str = "openai"
    out: Path = Path("bench-results/cache")
    jobs: int = 8
    approaches: Sequence[Approach] = APPROACHES
    datasets: Path | None = None
    timings: ToolTimings = field(default_factory=ToolTimings)
    keep_awake: bool = True


@dataclass
class CacheSession:
    """What the caching benchmark measured and wrote."""

    paper: list[RunResult]
    uncached_paper: list[RunResult]
    conversations: list[ConversationRun]
    summary: dict[str, Any]
    targets: list[dict[str, Any]]
    report: str
    files: list[Path]


def run_cache_session(config: CacheConfig) -> CacheSession:
    """Run both parts with and without the cache; write RESULTS.md and results.json."""
    try:
        with cpus_kept_awake(config.keep_awake):
            return _run(config)
    finally:
        gc.unfreeze()


def _run(config: CacheConfig) -> CacheSession:
    profile = get_profile(config.profile) if isinstance(config.profile, str) else config.profile
    cases = [
        c
        for w in PAPER_WORKLOADS
        for c in load_paper_cases(w, config.samples, config.seed, config.datasets)[0]
    ]
    thread = conversation_cases(config.questions, config.seed, config.datasets)
    quiet = Env(get_profile("instant"), ToolTimings(0, 0, 0))
    for approach in config.approaches:  # warm-up: imports, schemas; not measured
        run_case(approach, cases[0], quiet)
    heap_settled()
    plain = Env(profile, config.timings)
    cached = Env(profile, config.timings, cache=config.rules)
    paper: dict[bool, list[RunResult]] = {False: [], True: []}
    ours = [a for a in OURS if a in config.approaches]
    # LLMCompiler runs alone, the two modes interleaved so drift hits both alike.
    for case in cases:
        for approach in ours:
            for env in (plain, cached):
                paper[env.cache is not None].append(run_case(approach, case, env))
    conversations = [
        run_conversation(thread, a, Env(profile, config.timings, cache=rules))
        for a in ours
        for rules in (None, config.rules)
    ]
    # The agents' runs are almost all simulated sleeping: several at a time.
    agents = [a for a in config.approaches if a not in OURS]
    with ThreadPoolExecutor(max_workers=max(config.jobs, 1)) as pool:
        futures = [
            (env.cache is not None, pool.submit(run_case, a, c, env))
            for c in cases
            for a in agents
            for env in (plain, cached)
        ]
        talks = [
            pool.submit(run_conversation, thread, a, Env(profile, config.timings, cache=rules))
            for a in agents
            for rules in (None, config.rules)
        ]
        for with_cache, future in futures:
            paper[with_cache].append(future.result())
        conversations += [t.result() for t in talks]
    summary = {
        "paper": summarize_paper(paper[False], paper[True]),
        "conversation": summarize_conversations(conversations),
    }
    targets = evaluate_cache_targets(summary, conversations)
    settings = {
        "simulation": True,
        "profile": asdict(profile),
        "cache_rules": asdict(CACHE_RULES[config.rules]),
        "samples": config.samples,
        "questions": config.questions,
        "conversation": [f"{c.workload}:{c.id}" for c in thread],
        "seed": config.seed,
        "tool_timings": asdict(config.timings),
        "command": "python -m benchmarks cache",
    }
    report = render_cache_report(settings, summary, targets)
    config.out.mkdir(parents=True, exist_ok=True)
    files = [config.out / "RESULTS.md", config.out / "results.json"]
    files[0].write_text(report + "\n", encoding="utf-8")
    payload = {
        "settings": settings,
        "summary": summary,
        "targets": targets,
        "conversations": [asdict(c) for c in conversations],
    }
    files[1].write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    return CacheSession(paper[True], paper[False], conversations, summary, targets, report, files)


# -- figures --------------------------------------------------------------------------------


def _mean(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return statistics.fmean(kept) if kept else None


def _share(cached: float, total: float) -> float:
    return cached / total if total else 0.0


def summarize_paper(
    uncached: Sequence[RunResult], cached: Sequence[RunResult]
) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """Return figures per workload, approach and mode ("uncached", "cached"): means per question."""
    summary: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for mode, results in (("uncached", uncached), ("cached", cached)):
        grouped: dict[tuple[str, str], list[RunResult]] = {}
        for r in results:
            grouped.setdefault((r.workload, r.approach), []).append(r)
        for (workload, approach), runs in grouped.items():
            planner_in = sum(i for r in runs for i, _ in r.planner_tokens)
            planner_cached = sum(c for r in runs for _, c in r.planner_tokens)
            row = {
                "n": len(runs),
                "correct": sum(r.correct for r in runs),
                "latency_mean_s": _mean(r.latency for r in runs),
                "ttft_mean_s": _mean(r.ttft_s for r in runs),
                "input_tokens": _mean(r.input_tokens for r in runs),
                "cached_tokens": _mean(r.cached_tokens for r in runs),
                "cached_share": _share(
                    sum(r.cached_tokens for r in runs), sum(r.input_tokens for r in runs)
                ),
                "planner_cached_share": _share(planner_cached, planner_in),
                "cost_usd": _mean(r.cost for r in runs),
            }
            summary.setdefault(workload, {}).setdefault(approach, {})[mode] = row
    _ratios(summary.values())
    return summary


def summarize_conversations(
    runs: Sequence[ConversationRun],
) -> dict[str, dict[str, dict[str, Any]]]:
    """Return figures per approach and mode for the conversation (totals over its questions)."""
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    for run in runs:
        qs = run.questions
        later = [p for q in qs[1:] for p in q.planner]
        replans = [(c, s) for q in qs for c, s in q.replans if s > 0]
        summary.setdefault(run.approach, {})["cached" if run.cached else "uncached"] = {
            "questions": len(qs),
            "correct": sum(q.correct for q in qs),
            "latency_s": sum(q.latency for q in qs),
            "ttft_mean_s": _mean(q.ttft_s for q in qs),
            "input_tokens": sum(q.input_tokens for q in qs),
            "cached_tokens": sum(q.cached_tokens for q in qs),
            "cached_share": _share(
                sum(q.cached_tokens for q in qs), sum(q.input_tokens for q in qs)
            ),
            "planner_cached_share_from_q2": _share(
                sum(c for _, c in later), sum(i for i, _ in later)
            ),
            "replans": sum(len(q.replans) for q in qs),
            "replans_servable": len(replans),
            "replan_cached_vs_servable_min": min((c / s for c, s in replans), default=None),
            "cost_usd": sum(q.cost for q in qs),
        }
    _ratios([summary])
    return summary


def _ratios(groups: Iterable[dict[str, dict[str, dict[str, Any]]]]) -> None:
    """Add each row's cost ratio against ReAct in the same mode (ReAct's cost / this one's)."""
    for rows in groups:
        react = rows.get("react", {})
        for modes in rows.values():
            for mode, row in modes.items():
                base = react.get(mode)
                row["react_cost_ratio"] = (
                    base["cost_usd"] / row["cost_usd"] if base and row["cost_usd"] else None
                )
            before, after = modes.get("uncached"), modes.get("cached")
            if before and after:
                key = "latency_mean_s" if "latency_mean_s" in after else "latency_s"
                after["latency_vs_uncached"] = after[key] / before[key] if before[key] else None
                after["cost_vs_uncached"] = (
                    after["cost_usd"] / before["cost_usd"] if before["cost_usd"] else None
                )


def evaluate_cache_targets(
    summary: dict[str, Any], conversations: Sequence[ConversationRun]
) -> list[dict[str, Any]]:
    """Check the targets (printed, never asserted)."""
    checks: list[dict[str, Any]] = []
    talk = summary["conversation"]
    for approach in [a for a in OURS if a in talk]:
        row = talk[approach].get("cached")
        if row is None:
            continue
        name = NAMES.get(approach, approach)
        share = row["planner_cached_share_from_q2"]
        checks.append(
            _check(
                f"conversation, {name}: planner input tokens from cache, question 2 on",
                share,
                f">= {PLANNER_TARGET}",
                share >= PLANNER_TARGET,
            )
        )
        worst = row["replan_cached_vs_servable_min"]
        if worst is None:
            checks.append(
                _check(
                    f"conversation, {name}: replans cached up to their new rounds",
                    float("nan"),
                    ">= 1.0",
                    False,
                    f"none of the {row['replans']} replan(s) shared a cacheable prefix (below the "
                    "cache's minimum) with the round before",
                )
            )
        else:
            checks.append(
                _check(
                    f"conversation, {name}: replans cached up to their new rounds "
                    f"(cached / cacheable, worst of {row['replans_servable']})",
                    worst,
                    ">= 1.0",
                    worst >= 1.0,
                )
            )
    paper = summary["paper"]
    for approach in [a for a in APPROACHES if any(a in rows for rows in paper.values())]:
        modes = [rows[approach] for rows in paper.values() if approach in rows]
        before = sum(m["uncached"]["latency_mean_s"] for m in modes if "uncached" in m)
        after = sum(m["cached"]["latency_mean_s"] for m in modes if "cached" in m)
        if before:
            checks.append(
                _latency_check(f"paper workloads, {NAMES.get(approach, approach)}", after / before)
            )
    for approach, modes in talk.items():
        ratio = modes.get("cached", {}).get("latency_vs_uncached")
        if ratio is not None:
            checks.append(_latency_check(f"conversation, {NAMES.get(approach, approach)}", ratio))
    return checks


def against_react(
    groups: Sequence[dict[str, dict[str, dict[str, Any]]]],
) -> tuple[float | None, float | None, float | None]:
    """Return ReAct's cost / LLMCompiler's, means over ``groups`` (workloads).

    Both uncached, both cached, and ReAct uncached against LLMCompiler cached.
    """
    pairs = [(g["react"], g["llmcompiler"]) for g in groups if "react" in g and "llmcompiler" in g]

    def ratio(react: dict[str, Any], ours: dict[str, Any]) -> float | None:
        return react["cost_usd"] / ours["cost_usd"] if ours.get("cost_usd") else None

    return (
        _mean(ratio(r["uncached"], o["uncached"]) for r, o in pairs),
        _mean(ratio(r["cached"], o["cached"]) for r, o in pairs),
        _mean(ratio(r["uncached"], o["cached"]) for r, o in pairs),
    )


def _latency_check(label: str, ratio: float) -> dict[str, Any]:
    return _check(
        f"{label}: latency cached / uncached (no latency lost)",
        ratio,
        f"<= {LATENCY_TARGET}",
        ratio <= LATENCY_TARGET,
    )


def _check(name: str, value: float, target: str, ok: bool, note: str = "") -> dict[str, Any]:
    return {"name": name, "value": value, "target": target, "ok": ok, "note": note}


# -- the report -----------------------------------------------------------------------------


def _f(value: Any, spec: str, scale: float = 1.0) -> str:
    return "-" if value is None else format(value * scale, spec)


def _pair(uncached: dict[str, Any], cached: dict[str, Any], key: str, spec: str) -> str:
    return f"{_f(uncached.get(key), spec)} / {_f(cached.get(key), spec)}"


def render_cache_report(
    settings: dict[str, Any], summary: dict[str, Any], targets: list[dict[str, Any]]
) -> str:
    """Render RESULTS.md: both parts side by side (uncached | cached), targets, ratios."""
    profile, rules = settings["profile"], settings["cache_rules"]
    lines = [
        f"## Prompt caching (SIMULATION, profile {profile['name']}, {rules['name']} cache rules)",
        "",
        f"Cache rules: {rules['source']} Simulated: cached tokens cost {rules['read_price']:g}x "
        f"the input price, take {rules['prefill_share']:g}x the prefill time, hit from "
        f"{rules['min_tokens']:,} tokens in steps of {rules['block_tokens']}. Each approach has "
        "its own cache (planner and joiner share it), fresh for each part. Times measured, "
        "costs and tokens means per question (paper) or totals (conversation).",
        "",
        "### Paper workloads",
        "",
        "| workload | approach | latency s | TTFT s | input tok | from cache | cost $ "
        "| cost vs ReAct |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for workload, rows in summary["paper"].items():
        for approach in [a for a in APPROACHES if a in rows]:
            u, c = rows[approach].get("uncached", {}), rows[approach].get("cached", {})
            lines.append(
                f"| {workload} | {NAMES.get(approach, approach)} "
                f"| {_pair(u, c, 'latency_mean_s', '.2f')} | {_pair(u, c, 'ttft_mean_s', '.3f')} "
                f"| {_f(u.get('input_tokens'), ',.0f')} "
                f"| {_f(c.get('cached_share'), '.0f', 100)}% "
                f"| {_pair(u, c, 'cost_usd', '.5f')} | {_pair(u, c, 'react_cost_ratio', '.2f')}x |"
            )
    lines += [
        "",
        'Each pair is uncached / cached. "cost vs ReAct" is ReAct\'s cost divided by the '
        "approach's, both in the same mode.",
        "",
        f"### A conversation of {settings['questions']} questions in one thread",
        "",
        "| approach | latency s | TTFT s | input tok | from cache | planner from cache, q2 on "
        "| cost $ | cost vs ReAct |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    talk = summary["conversation"]
    for approach in [a for a in APPROACHES if a in talk]:
        u, c = talk[approach].get("uncached", {}), talk[approach].get("cached", {})
        lines.append(
            f"| {NAMES.get(approach, approach)} "
            f"| {_pair(u, c, 'latency_s', '.1f')} | {_pair(u, c, 'ttft_mean_s', '.3f')} "
            f"| {_f(u.get('input_tokens'), ',.0f')} "
            f"| {_f(c.get('cached_share'), '.0f', 100)}% "
            f"| {_f(c.get('planner_cached_share_from_q2'), '.0f', 100)}% "
            f"| {_pair(u, c, 'cost_usd', '.4f')} | {_pair(u, c, 'react_cost_ratio', '.2f')}x |"
        )
    lines += [
        "",
        "Questions, in order: " + ", ".join(settings["conversation"]) + ".",
        "",
        "Targets (printed, not asserted):",
        "",
    ]
    for t in targets:
        mark = "met" if t["ok"] else "MISSED"
        note = f" ({t['note']})" if t["note"] else ""
        lines.append(f"- {mark}: {t['name']} = {t['value']:.3f} (target {t['target']}){note}")
    lines += ["", "Cost ratio against ReAct (ReAct's cost / LLMCompiler's):", ""]
    for part, groups in (
        ("paper, mean of workloads", list(summary["paper"].values())),
        ("conversation", [talk]),
    ):
        uncached, cached, mixed = against_react(groups)
        lines.append(
            f"- {part}: both uncached {_f(uncached, '.2f')}x; both cached {_f(cached, '.2f')}x "
            "(the fair comparison: what users pay when both run on a caching provider); "
            f"LLMCompiler cached against ReAct uncached {_f(mixed, '.2f')}x (not fair: only one "
            "side gets the discount)."
        )
    return "\n".join(lines)
