"""The Markdown report of one benchmark session (``RESULTS.md``).

Holds :func:`render_report`: what was simulated (profile, tool timings, machine, sampling),
the results table, the targets and the scheduler micro-benchmarks.
"""

from __future__ import annotations

from typing import Any

from benchmarks.report import markdown_table, micro_table, targets_text

__all__ = ["render_report"]

_AWAKE = "; CPUs kept out of deep idle (micro-benchmarks excepted)"

COLUMNS = "\n".join(
    [
        "How to read the table (one row per workload and approach; simulated time):",
        "",
        "- n: questions run; median s, p90 s: the wall time of one question (median, 90th "
        "percentile).",
        "- x vs ReAct, x vs parallel: how many times faster than ReAct and than parallel tool "
        "calling (their mean latency over this row's); above 1 is faster.",
        "- LLM calls, input tok, output tok, cost $: model calls, tokens and simulated cost per "
        "question (means).",
        "- measured/ideal: the measured time over the time a perfect scheduler needs under the "
        "same simulated timings (1.00: nothing lost to orchestration; 1.05: 5% lost).",
        "- overhead ms/task: how long an LLMCompiler task waited between the moment it could "
        "start (its call streamed, its inputs ready) and its tool starting; the median over the "
        "workload's tasks (- for the agents, which have no plan to measure against).",
    ]
)
"""What each column of the results table means: printed before the table."""


def render_report(
    title: str,
    settings: dict[str, Any],
    summary: dict[str, Any],
    targets: list[dict[str, Any]],
    micro: dict[str, Any] | None,
) -> str:
    """Render the markdown report: what was simulated, the table, targets, micro-benchmarks."""
    profile = settings["profile"]
    machine = settings["machine"]
    tools = settings["tool_timings"]
    sampled = ", ".join(
        f"{w} {s.get('questions', s.get('samples'))}"
        + (f" of {s['dataset_size']}" if "dataset_size" in s else "")
        for w, s in settings["sampling"].items()
    )
    lines = [
        f"## {title} (SIMULATION, profile {profile['name']})",
        "",
        f"Simulated models and tools: profile `{profile['name']}` (time to first token "
        f"{profile['ttft_s']} s, {profile['output_tokens_per_s']:g} output tokens/s, prefill "
        f"{profile['prefill_s_per_token'] * 1e6:g} µs per input token, "
        f"${profile['input_cost_per_mtok']:g}/"
        f"${profile['output_cost_per_mtok']:g} per million input/output tokens); search "
        f"{tools['search_s']:g} s ± {tools['search_jitter_s']:g} s, "
        f"math {tools['math_s']:g} s.",
        f"Run {settings['date_utc']} on {machine['cpu_count']} CPU(s), {machine['platform']}; "
        f"seed {settings['seed']}; questions/samples per workload: {sampled}"
        f"{_AWAKE if settings.get('keep_awake') else ''}"
        "; the heap frozen out of garbage collection after the warm-up.",
        "",
        COLUMNS,
        "",
        markdown_table(summary),
        "",
        "Targets (printed, not asserted; a missed one says why on its line):",
        "",
        targets_text(targets),
    ]
    if settings["skipped"]:
        lines += [
            "",
            "Skipped: " + "; ".join(f"{w}: {why}" for w, why in settings["skipped"].items()),
        ]
    if micro:
        lines += [
            "",
            "Scheduler micro-benchmarks (instant profile, zero-latency tasks):",
            "",
            micro_table(micro),
        ]
    return "\n".join(lines)
