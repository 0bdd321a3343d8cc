"""Benchmark workloads: the paper's datasets and synthetic DAG shapes, as scripted cases.

A :class:`Case` is one question with the steps an agent takes to answer it, grouped in
planning rounds, and the answer. Every approach follows the same steps its own way
(:mod:`benchmarks.scripts` derives the model replies): LLMCompiler plans a
round at once; ReAct makes one call per turn; parallel tool calling makes one turn per
dependency level. Searches never depend on other steps (as in the paper's workloads);
dependencies flow through ``math`` steps' ``context`` argument (``["$1", "$3"]``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "ALL_WORKLOADS",
    "PAPER_WORKLOADS",
    "SYNTHETIC_WORKLOADS",
    "Case",
    "Round",
    "Step",
    "has_dependencies",
    "levels",
    "math_step",
    "search_step",
]

PAPER_WORKLOADS = ("hotpotqa", "movie", "parallelqa")
SYNTHETIC_WORKLOADS = ("wide-16", "wide-64", "chain-8", "diamond", "random-dag", "replan")
ALL_WORKLOADS = PAPER_WORKLOADS + SYNTHETIC_WORKLOADS


@dataclass(frozen=True)
class Step:
    """One tool call of a case.

    Attributes:
        index: The task number (unique across the case's rounds).
        tool: ``search`` or ``math``.
        args: The call's arguments; ``"$N"`` strings in ``context`` refer to step N.
        deps: Steps whose results this one uses.
        thought: The sentence a ReAct turn writes before making this call.

    """

    index: int
    tool: Literal["search", "math"]
    args: Mapping[str, object]
    deps: tuple[int, ...] = ()
    thought: str = ""


@dataclass(frozen=True)
class Round:
    """One planning round: its steps, and what the model says before and after it.

    Attributes:
        steps: The round's steps in plan order (dependencies first).
        thought: The planner's opening thought (also the first parallel turn's text).
        verdict: The joiner's reasoning after seeing the round's results.
        feedback: Why another round is needed (``Replan(...)``); ``None`` for the last round.

    """

    steps: tuple[Step, ...]
    thought: str
    verdict: str
    feedback: str | None = None


@dataclass(frozen=True)
class Case:
    """One question of a workload, with its scripted steps and answer."""

    workload: str
    id: str
    question: str
    rounds: tuple[Round, ...]
    answer: str
    seed: int = 0
    meta: Mapping[str, object] = field(default_factory=dict)

    @property
    def steps(self) -> tuple[Step, ...]:
        """Return every step of every round, in order."""
        return tuple(s for r in self.rounds for s in r.steps)


def search_step(index: int, query: str, thought: str) -> Step:
    """Build a search step (never dependent on other steps)."""
    return Step(index, "search", {"query": query}, (), thought)


def math_step(index: int, problem: str, deps: Sequence[int], thought: str) -> Step:
    """Build a math step whose ``context`` lists the results of ``deps``."""
    args: dict[str, object] = {"problem": problem}
    if deps:
        args["context"] = [f"${d}" for d in deps]
    return Step(index, "math", args, tuple(deps), thought)


def levels(steps: Sequence[Step]) -> list[list[Step]]:
    """Group steps by dependency level (0: no dependency within ``steps``), in plan order."""
    depth: dict[int, int] = {}
    for step in steps:
        inner = [depth[d] for d in step.deps if d in depth]
        depth[step.index] = 1 + max(inner) if inner else 0
    grouped: list[list[Step]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for step in steps:
        grouped[depth[step.index]].append(step)
    return grouped


def has_dependencies(case: Case) -> bool:
    """Tell whether any step of ``case`` waits for another step."""
    return any(step.deps for step in case.steps)
