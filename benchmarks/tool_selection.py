"""Many tools: what listing a selection of the catalogue saves the planner (``select_tools``).

The pool is the 579 distinct functions of the BFCL v4 parallel and parallel-multiple sets
(``tests/data/bfcl``, one spec per name), as one catalogue; the 400 questions are asked
against all of it. For each question and each k:

* **recall** (measured): the question counts when every function its ground truth calls is
  among the tools the planner's first round lists (the default lexical selector);
* **planner prompt tokens** (computed): the planner's real first-round prompt, built by the
  graph's own code, counted with the sim's tokenizer (:mod:`llmcompiler_graph.sim.tokenizer`,
  which over-counts real BPE by some 20-30 % alike for every prompt), in both plan formats
  (text: the tools are in the system prompt; tool calls: their JSON schemas are bound);
* **time to first token** (SIMULATION): a profile's fixed time to first token plus its
  prefill slope times the prompt's tokens (the slopes of :data:`benchmarks.harness.
  PREFILL_S_PER_TOKEN`, from public TTFT-versus-prompt-length reports); no model is called;
* **selection time** (measured on this machine): choosing one question's tools, and
  building the BM25 index once.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from benchmarks.harness import PREFILL_S_PER_TOKEN
from llmcompiler_graph.context import Context
from llmcompiler_graph.nodes.planner_call import build_planner_messages
from llmcompiler_graph.nodes.tool_listing import Listing, list_tools
from llmcompiler_graph.planner.tool_selection import Catalogue
from llmcompiler_graph.planner.tool_specs import tool_schema
from llmcompiler_graph.sim import get_profile, prompt_tokens
from llmcompiler_graph.state import current_turn
from llmcompiler_graph.tools.jsonschema import tools_from_specs

__all__ = [
    "BFCL_DIR",
    "K_VALUES",
    "PROFILES",
    "RECALL_TARGET",
    "TOKEN_CUT_TARGET",
    "Question",
    "load_pool",
    "report",
    "run_tool_selection",
    "write",
]

BFCL_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "bfcl"
FILES = ("BFCL_v4_parallel.json", "BFCL_v4_parallel_multiple.json")
K_VALUES = (5, 10, 20)
PROFILES = ("gpt-3.5-like", "gpt-4-like")
RECALL_TARGET = 0.95
"""Questions with every needed tool listed, at k = 10."""
TOKEN_CUT_TARGET = 20.0
"""Planner prompt tokens with every tool over those with the k = 10 selection (text plans)."""
TARGET_K = 10


@dataclass(frozen=True)
class Question:
    """One BFCL question: its text and the functions its ground truth calls."""

    id: str
    text: str
    needed: frozenset[str]


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def load_pool(folder: Path = BFCL_DIR) -> tuple[list[dict[str, Any]], list[Question]]:
    """Return the pool's function specs (first spec per name) and the questions."""
    specs: dict[str, dict[str, Any]] = {}
    questions = []
    for name in FILES:
        answers = {r["id"]: r["ground_truth"] for r in _jsonl(folder / "possible_answer" / name)}
        for record in _jsonl(folder / name):
            for function in record["function"]:
                specs.setdefault(function["name"], function)
            text = " ".join(m["content"] for turn in record["question"] for m in turn)
            needed = frozenset(next(iter(call)) for call in answers[record["id"]])
            questions.append(Question(record["id"], text, needed))
    return list(specs.values()), questions


def _handler(name: str, arguments: dict[str, Any]) -> str:
    return name  # never called: the benchmark builds prompts, it runs no plan


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class _Prompts:
    """Each question's first-round planner prompt, counted, for a listing."""

    def __init__(self, tools: list[BaseTool]) -> None:
        self._schemas: dict[str, dict[str, Any]] = {}
        self._tools = tools
        self._systems: dict[tuple[str, tuple[str, ...]], int] = {}

    def schemas(self, tools: Sequence[BaseTool]) -> list[dict[str, Any]]:
        for tool in tools:
            if tool.name not in self._schemas:
                self._schemas[tool.name] = convert_to_openai_tool(tool)
        return [self._schemas[t.name] for t in tools]

    def tokens(self, messages: list[BaseMessage], listing: Listing, fmt: str) -> int:
        # The system prompt is the same for every question that lists the same tools: count
        # it once per listing (the question and the rest are counted each time).
        key = (fmt, tuple(listing.names))
        if key not in self._systems:
            self._systems[key] = prompt_tokens(messages[:1])
        total = self._systems[key] + prompt_tokens(messages[1:])
        if fmt == "tool_calls":
            total += prompt_tokens([], self.schemas(listing.offered))
        return total


def run_tool_selection(
    ks: Sequence[int] = K_VALUES, *, folder: Path = BFCL_DIR, limit: int | None = None
) -> dict[str, Any]:
    """Measure recall, prompt tokens, simulated TTFT and selection time; return the figures."""
    specs, questions = load_pool(folder)
    questions = questions[:limit] if limit else questions
    tools: list[BaseTool] = list(tools_from_specs(specs, _handler))
    started = time.perf_counter()
    catalogue = Catalogue(tools, tool_schema)
    _ = catalogue.index
    build_seconds = time.perf_counter() - started
    prompts = _Prompts(tools)
    everything = Listing(catalogue.tools, catalogue, partial=False)
    rows: list[dict[str, Any]] = []
    for k in (0, *ks):  # 0: every tool listed
        settings = Context(select_tools=k, select_tools_above=0)
        hits, tokens, call_tokens, listed, seconds = [], [], [], [], []
        misses: list[dict[str, Any]] = []
        for question in questions:
            messages = [HumanMessage(question.text)]
            turn = current_turn(messages)
            began = time.perf_counter()
            listing = list_tools(catalogue, settings, messages, turn) if k else everything
            seconds.append(time.perf_counter() - began)
            names = set(listing.names)
            hit = question.needed <= names
            hits.append(hit)
            if not hit:
                missing = sorted(question.needed - names)
                needs = len(question.needed)
                misses.append({"id": question.id, "needs": needs, "missing": missing})
            listed.append(len(listing.tools))
            text = build_planner_messages(turn, listing, settings)
            tokens.append(prompts.tokens(text, listing, "text"))
            calls_settings = Context(select_tools=k, select_tools_above=0, plan_format="tool_calls")
            calls = build_planner_messages(turn, listing, calls_settings)
            call_tokens.append(prompts.tokens(calls, listing, "tool_calls"))
        several = [q for q in questions if len(q.needed) > 1]
        several_hits = sum(h for q, h in zip(questions, hits, strict=True) if len(q.needed) > 1)
        rows.append(
            {
                "k": k,
                "recall": sum(hits) / len(questions),
                "recall_one_tool": (sum(hits) - several_hits) / (len(questions) - len(several)),
                "recall_several_tools": several_hits / len(several) if several else 1.0,
                "tools_listed_mean": statistics.fmean(listed),
                "prompt_tokens_text_mean": statistics.fmean(tokens),
                "prompt_tokens_tool_calls_mean": statistics.fmean(call_tokens),
                "selection_ms_median": 1000 * statistics.median(seconds),
                "selection_ms_p95": 1000 * _percentile(seconds, 0.95),
                "misses": misses,
            }
        )
    for row in rows:
        row["ttft_s"] = {}
        for name in PROFILES:
            profile = get_profile(name)
            slope = PREFILL_S_PER_TOKEN.get(name, 0.0)
            row["ttft_s"][name] = {
                fmt: profile.ttft_s + slope * row[f"prompt_tokens_{fmt}_mean"]
                for fmt in ("text", "tool_calls")
            }
    return {
        "pool": {"functions": len(tools), "questions": len(questions)},
        "index_build_s": build_seconds,
        "rows": rows,
        "targets": _targets(rows, len(questions)),
    }


def _row(rows: Sequence[dict[str, Any]], k: int) -> dict[str, Any]:
    return next(r for r in rows if r["k"] == k)


def _targets(rows: Sequence[dict[str, Any]], questions: int) -> list[dict[str, Any]]:
    if not any(r["k"] == TARGET_K for r in rows):
        return []
    full, chosen = _row(rows, 0), _row(rows, TARGET_K)
    recall = chosen["recall"]
    several = chosen["recall_several_tools"]
    misses = chosen["misses"]
    cut = full["prompt_tokens_text_mean"] / chosen["prompt_tokens_text_mean"]
    calls_cut = full["prompt_tokens_tool_calls_mean"] / chosen["prompt_tokens_tool_calls_mean"]
    short = round(RECALL_TARGET * questions) - (questions - len(misses))
    wider = next((r for r in rows if r["k"] == 2 * TARGET_K), None)
    widened = f" (recall {wider['recall']:.3f} at k = {2 * TARGET_K})" if wider else ""
    recall_note = (
        f"missed by {RECALL_TARGET - recall:.3f}: {len(misses)} of {questions} questions lack a "
        f"tool, {short} too many; {sum(1 for m in misses if m['needs'] > 1)} of them need 2-4 "
        f"different functions (recall {several:.3f} on those questions). Why: the pool joins "
        "400 questions' functions, so it holds near-duplicates (several currency converters, "
        "circle-area, distance and recipe tools) that rank alike, and a question asking for "
        "four things shares 10 places among them. In a run a missed tool does not fail the "
        "question: the planner may call any tool by name, and a replan lists the question's "
        f"best {2 * TARGET_K}{widened} and the tools matching what the round said was missing"
        if recall < RECALL_TARGET
        else ""
    )
    cut_note = (
        f"missed by {TOKEN_CUT_TARGET - cut:.1f}x: the rules and examples are a larger share"
        if cut < TOKEN_CUT_TARGET
        else f"tool-call plans (bound JSON schemas): {calls_cut:.1f}x"
    )
    return [
        {
            "name": f"selection recall at k = {TARGET_K}",
            "value": recall,
            "target": f">= {RECALL_TARGET}",
            "ok": recall >= RECALL_TARGET,
            "note": recall_note,
        },
        {
            "name": f"planner prompt tokens, all {full['tools_listed_mean']:.0f} tools / k = "
            f"{TARGET_K} (text plans)",
            "value": cut,
            "target": f">= {TOKEN_CUT_TARGET:.0f}x",
            "ok": cut >= TOKEN_CUT_TARGET,
            "note": cut_note,
        },
    ]


def report(results: dict[str, Any]) -> str:
    """Render the figures as Markdown: a table per kind of figure, then the targets."""
    rows = results["rows"]
    pool = results["pool"]
    lines = [
        f"Pool: {pool['functions']} distinct BFCL functions, {pool['questions']} questions "
        "(parallel and parallel-multiple), every question against the whole pool.",
        "",
        "| tools listed | recall | questions needing 1 function | needing 2-4 | prompt tokens "
        "(text plans) | prompt tokens (tool calls) | selection median / p95 |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        label = f"all {r['tools_listed_mean']:.0f}" if r["k"] == 0 else f"k = {r['k']}"
        selection = (
            "-"
            if r["k"] == 0
            else f"{r['selection_ms_median']:.2f} / {r['selection_ms_p95']:.2f} ms"
        )
        lines.append(
            f"| {label} | {r['recall']:.3f} | {r['recall_one_tool']:.3f} | "
            f"{r['recall_several_tools']:.3f} | {r['prompt_tokens_text_mean']:,.0f} | "
            f"{r['prompt_tokens_tool_calls_mean']:,.0f} | {selection} |"
        )
    lines += [
        "",
        f"BM25 index of the pool built in {results['index_build_s'] * 1000:.0f} ms (measured).",
        "",
        "Time to first token of the planner's first call (SIMULATION: profile TTFT + prefill "
        "slope x prompt tokens; no model called):",
        "",
        "| tools listed | " + " | ".join(f"{p}, text / tool calls" for p in PROFILES) + " |",
        "|---|" + "---|" * len(PROFILES),
    ]
    for r in rows:
        label = f"all {r['tools_listed_mean']:.0f}" if r["k"] == 0 else f"k = {r['k']}"
        cells = [
            f"{r['ttft_s'][p]['text']:.2f} s / {r['ttft_s'][p]['tool_calls']:.2f} s"
            for p in PROFILES
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "Targets:", ""]
    for c in results["targets"]:
        mark = "met" if c["ok"] else "MISSED"
        value = f"{c['value']:.1f}x" if c["target"].endswith("x") else f"{c['value']:.3f}"
        note = f" ({c['note']})" if c["note"] else ""
        lines.append(f"- {mark}: {c['name']} = {value} (target {c['target']}){note}")
    return "\n".join(lines)


def write(results: dict[str, Any], out: Path) -> list[Path]:
    """Write ``results.json`` and ``RESULTS.md`` into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    data, text = out / "results.json", out / "RESULTS.md"
    data.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    text.write_text(
        "# Many tools: tool selection on the BFCL pool\n\n"
        "Recorded with `python -m benchmarks tools --out benchmarks/results/tools`.\n\n"
        f"{report(results)}\n"
    )
    return [data, text]
