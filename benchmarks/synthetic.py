"""Synthetic workloads: wide, chain, diamond and random DAG shapes, and a replanning puzzle.

Sample k of a workload uses seed ``seed + k`` (search latency jitter, the random graph,
the puzzle's numbers), so samples differ and every run is reproducible.
"""

from __future__ import annotations

import itertools
import operator
import random
from fractions import Fraction

from benchmarks.workloads import SYNTHETIC_WORKLOADS, Case, Round, Step, math_step, search_step

__all__ = ["synthetic_cases"]


def synthetic_cases(workload: str, samples: int, seed: int) -> list[Case]:
    """Build ``samples`` cases of a synthetic workload; sample k uses seed ``seed + k``."""
    builders = {
        "wide-16": lambda s: _wide(16, s),
        "wide-64": lambda s: _wide(64, s),
        "chain-8": lambda s: _chain(8, s),
        "diamond": _diamond,
        "random-dag": lambda s: _random_dag(12, s),
        "replan": _replan,
    }
    if workload not in builders:
        raise ValueError(
            f"unknown synthetic workload {workload!r}; choose from {', '.join(SYNTHETIC_WORKLOADS)}"
        )
    return [builders[workload](seed + k) for k in range(samples)]


def _wide(n: int, seed: int) -> Case:
    steps = tuple(
        search_step(
            i, f"catalogue record {i} of batch {seed}", f"I need catalogue record {i} next."
        )
        for i in range(1, n + 1)
    )
    thought = f"The {n} catalogue records are independent, so I will look them all up at once."
    verdict = f"All {n} records were found and none of them reports a conflict."
    question = (
        f"Look up the {n} catalogue records of batch {seed} and tell me whether any conflict."
    )
    answer = f"No: all {n} records of batch {seed} are consistent."
    return Case(
        f"wide-{n}", f"wide-{n}-{seed}", question, (Round(steps, thought, verdict),), answer, seed
    )


def _chain(n: int, seed: int) -> Case:
    steps = [
        search_step(1, f"baseline figure for series {seed}", "First I need the baseline figure.")
    ]
    for i in range(2, n + 1):
        steps.append(
            math_step(
                i,
                f"Apply adjustment {i - 1} of series {seed} to the previous value",
                [i - 1],
                f"Now I apply adjustment {i - 1} to the value from step {i - 1}.",
            )
        )
    thought = f"Each of the {n - 1} adjustments needs the previous result, so they form a chain."
    verdict = f"The baseline went through all {n - 1} adjustments in order."
    question = f"Start from the baseline figure of series {seed} and apply its {n - 1} adjustments."
    answer = f"Series {seed} ends at the value of step {n}."
    return Case(
        f"chain-{n}",
        f"chain-{n}-{seed}",
        question,
        (Round(tuple(steps), thought, verdict),),
        answer,
        seed,
    )


def _diamond(seed: int) -> Case:
    steps = (
        search_step(1, f"population of district {seed}", "I need the district's population first."),
        math_step(
            2,
            f"Project district {seed} population growth for ten years",
            [1],
            "With the population I can project its growth.",
        ),
        math_step(
            3,
            f"Estimate district {seed} housing demand per household",
            [1],
            "The same population also gives the housing demand.",
        ),
        math_step(
            4,
            f"Compare projected growth with housing demand for district {seed}",
            [2, 3],
            "Finally I compare the growth with the housing demand.",
        ),
    )
    thought = "Growth and housing demand both follow from the population and can run in parallel."
    verdict = "The projected growth outpaces the housing demand estimate."
    question = f"Will district {seed}'s housing keep up with its population growth?"
    return Case(
        "diamond",
        f"diamond-{seed}",
        question,
        (Round(steps, thought, verdict),),
        f"No: district {seed} needs more housing than it plans.",
        seed,
    )


def _random_dag(n: int, seed: int) -> Case:
    rng = random.Random(seed)
    steps: list[Step] = []
    for i in range(1, n + 1):
        if i == 1 or rng.random() < 0.4:
            steps.append(search_step(i, f"fact {i} of random graph {seed}", f"I need fact {i}."))
        else:
            deps = sorted(rng.sample(range(1, i), min(i - 1, rng.randint(1, 3))))
            steps.append(
                math_step(
                    i,
                    f"Combine inputs for node {i} of graph {seed}",
                    deps,
                    f"Node {i} combines the results of steps {deps}.",
                )
            )
    thought = "I will run every step as soon as the steps it needs are done."
    verdict = f"All {n} nodes of the graph were computed."
    return Case(
        "random-dag",
        f"random-dag-{seed}",
        f"Evaluate random graph {seed} with {n} nodes.",
        (Round(tuple(steps), thought, verdict),),
        f"Graph {seed} evaluated: {n} nodes.",
        seed,
    )


def _replan(seed: int) -> Case:
    numbers, solution, misses = _game_of_24(seed)
    first, second = misses[:4], [*misses[4:7], solution]
    shown = " ".join(str(n) for n in numbers)
    r1 = tuple(
        math_step(i, expr, [], f"I will try the grouping {expr}.")
        for i, expr in enumerate(first, 1)
    )
    r2 = tuple(
        math_step(i, expr, [], f"Another grouping to try is {expr}.")
        for i, expr in enumerate(second, 5)
    )
    rounds = (
        Round(
            r1,
            f"I will evaluate four candidate expressions with {shown} in parallel.",
            "None of the four candidates evaluates to 24.",
            "no candidate reached 24; try other groupings of the same numbers",
        ),
        Round(
            r2,
            "The first groupings failed, so I will try four new ones in parallel.",
            f"The candidate {solution} evaluates to exactly 24.",
        ),
    )
    question = f"Use the numbers {shown} once each with + - * / to make 24."
    return Case(
        "replan", f"replan-{seed}", question, rounds, f"{solution} = 24", seed, {"numbers": numbers}
    )


def _game_of_24(seed: int) -> tuple[list[int], str, list[str]]:
    """Draw four numbers with a solution; return them, one solution, and seven misses."""
    rng = random.Random(seed)
    while True:
        numbers = sorted(rng.randint(1, 13) for _ in range(4))
        values = dict(_expressions(numbers))
        hits = sorted(e for e, v in values.items() if v == 24)
        misses = sorted(e for e, v in values.items() if v != 24 and v.denominator == 1 and v > 0)
        if hits and len(misses) >= 7:
            return numbers, rng.choice(hits), rng.sample(misses, 7)


def _expressions(numbers: list[int]) -> list[tuple[str, Fraction]]:
    ops = ("+", "-", "*", "/")
    found: list[tuple[str, Fraction]] = []
    for a, b, c, d in set(itertools.permutations(numbers)):
        for x, y, z in itertools.product(ops, repeat=3):
            for text in (f"(({a} {x} {b}) {y} {c}) {z} {d}", f"({a} {x} {b}) {y} ({c} {z} {d})"):
                value = _value(text)
                if value is not None:
                    found.append((text, value))
    return found


_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def _value(text: str) -> Fraction | None:
    """Evaluate the two bracket shapes built above, exactly, without eval."""
    tokens = text.replace("(", " ( ").replace(")", " ) ").split()
    try:
        value, rest = _parse(tokens)
    except ZeroDivisionError:
        return None
    return value if not rest else None


def _parse(tokens: list[str]) -> tuple[Fraction, list[str]]:
    left, rest = _atom(tokens)
    while rest and rest[0] in _OPS:
        op, (right, rest) = _OPS[rest[0]], _atom(rest[1:])
        left = op(left, right)
    return left, rest


def _atom(tokens: list[str]) -> tuple[Fraction, list[str]]:
    if tokens[0] == "(":
        value, rest = _parse(tokens[1:])
        return value, rest[1:]
    return Fraction(int(tokens[0])), tokens[1:]
