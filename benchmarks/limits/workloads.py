"""Workloads for the limits benchmark: Movie-like, ParallelQA-like, and a mixed DAG.

Built here rather than read from the paper's datasets, so the benchmark runs anywhere and
its shapes are exactly known; they follow the paper's workloads:

* ``movie-like``: 4 seed films and 4 options, 8 independent searches, then the choice
  (the paper's Movie Recommendation shape).
* ``parallelqa-like``: 3 to 5 branches of search → math, then a final math step over all
  branches (the paper's ParallelQA shape; ``branch`` cycles 3, 4, 5 with the seed).
* ``mixed-dag``: a long chain (a search, then math steps each needing the one before) planned
  first, next to a wide fan-out of independent searches. Under ``max_concurrency=4`` the
  chain's steps, each ready only when the one before ends, compete with the queued fan-out:
  FIFO puts them behind it, critical-path priority in front.

Sample k uses seed ``seed + k`` (titles, names, search jitter).
"""

from __future__ import annotations

import random

from benchmarks.workloads import Case, Round, Step, math_step, search_step

__all__ = [
    "CHAIN_LENGTH",
    "FAN_OUT",
    "LIMIT_WORKLOADS",
    "limit_cases",
    "mixed_dag",
    "movie_like",
    "parallelqa_like",
]

LIMIT_WORKLOADS = ("movie-like", "parallelqa-like", "mixed-dag")
CHAIN_LENGTH = 10
"""Steps in the mixed DAG's chain: a search, then math steps, each needing the one before."""
FAN_OUT = 16
"""Independent searches in the mixed DAG's fan-out."""

_FILMS = (
    "Heat",
    "Alien",
    "Up",
    "Inception",
    "Fargo",
    "Vertigo",
    "Amelie",
    "Casablanca",
    "Goodfellas",
    "Jaws",
    "Rocky",
    "Psycho",
    "Memento",
    "Gladiator",
    "Titanic",
    "Toy Story",
    "The Matrix",
    "Se7en",
    "Spirited Away",
    "Chinatown",
    "Rear Window",
    "Taxi Driver",
    "Blade Runner",
    "The Shining",
    "Brazil",
    "Arrival",
    "Parasite",
    "Whiplash",
    "Zodiac",
    "Ratatouille",
    "Snatch",
    "Unforgiven",
)
_PLACES = (
    "Lyon",
    "Porto",
    "Ghent",
    "Turku",
    "Bergen",
    "Graz",
    "Malmo",
    "Leeds",
    "Split",
    "Cork",
    "Bilbao",
    "Utrecht",
    "Aarhus",
    "Kosice",
    "Tartu",
)


def limit_cases(workload: str, samples: int, seed: int) -> list[Case]:
    """Build ``samples`` cases of a limits workload; sample k uses seed ``seed + k``."""
    builders = {
        "movie-like": movie_like,
        "parallelqa-like": parallelqa_like,
        "mixed-dag": mixed_dag,
    }
    if workload not in builders:
        raise ValueError(
            f"unknown limits workload {workload!r}; choose from {', '.join(LIMIT_WORKLOADS)}"
        )
    return [builders[workload](seed + k) for k in range(samples)]


def movie_like(seed: int) -> Case:
    """Build four seed films and four options: eight independent searches, then the choice."""
    titles = random.Random(seed).sample(_FILMS, 8)
    seeds, options = titles[:4], titles[4:]
    answer = options[seed % 4]
    question = f"Find a movie similar to {', '.join(seeds)}\nOptions:\n" + "\n".join(options) + "\n"
    steps = tuple(
        search_step(
            i, title, f"I need the genre, era and style of {title} to compare it with the others."
        )
        for i, title in enumerate(titles, 1)
    )
    rnd = Round(
        steps,
        "I need the genre and style of the 4 seed films and the 4 options; all these searches "
        "are independent.",
        f"Comparing the genres, eras and tone of the seed films with each option, {answer} is "
        "the closest match to the seed films.",
    )
    return Case("movie-like", f"movie-like-{seed}", question, (rnd,), answer, seed)


def parallelqa_like(seed: int) -> Case:
    """Build ``3 + seed % 3`` branches of search → math, then a final math step over all of them."""
    branches = 3 + seed % 3
    names = random.Random(seed).sample(_PLACES, branches)
    steps: list[Step] = [
        search_step(i, f"population of {name}", f"I need the population of {name} first.")
        for i, name in enumerate(names, 1)
    ]
    steps += [
        math_step(
            branches + i,
            f"Grow the population of {name} by its ten-year growth rate",
            [i],
            f"With the population of {name} I can apply its growth.",
        )
        for i, name in enumerate(names, 1)
    ]
    steps.append(
        math_step(
            2 * branches + 1,
            "Add up the grown populations",
            list(range(branches + 1, 2 * branches + 1)),
            "All grown populations are known, so I can add them up.",
        )
    )
    listed = ", ".join(names)
    answer = f"{seed * 37 % 900 + 100} thousand people"
    rnd = Round(
        tuple(steps),
        f"Each of the {branches} populations can be searched and grown independently; the "
        "final step adds them up.",
        f"Adding the {branches} grown populations gives {answer}.",
    )
    question = f"If {listed} each grow at their ten-year rate, how many people will they have?"
    return Case(
        "parallelqa-like",
        f"parallelqa-like-{seed}",
        question,
        (rnd,),
        answer,
        seed,
        {"branch": branches},
    )


def mixed_dag(seed: int, chain: int = CHAIN_LENGTH, fan_out: int = FAN_OUT) -> Case:
    """Build a chain of ``chain`` steps planned first, then ``fan_out`` independent searches."""
    steps: list[Step] = [
        search_step(1, f"baseline reading of sensor {seed}", "First the sensor's baseline.")
    ]
    steps += [
        math_step(
            i,
            f"Apply calibration {i - 1} of sensor {seed}",
            [i - 1],
            f"Now calibration {i - 1}, on the value of step {i - 1}.",
        )
        for i in range(2, chain + 1)
    ]
    steps += [
        search_step(i, f"station record {i - chain} of grid {seed}", f"I need record {i - chain}.")
        for i in range(chain + 1, chain + fan_out + 1)
    ]
    rnd = Round(
        tuple(steps),
        f"The sensor needs {chain - 1} calibrations in order; the {fan_out} station records are "
        "independent of it and of each other.",
        f"The calibrated reading of sensor {seed} matches the {fan_out} station records.",
    )
    question = (
        f"Calibrate sensor {seed} step by step and check it against the {fan_out} station "
        f"records of grid {seed}."
    )
    answer = f"Sensor {seed} agrees with grid {seed}."
    return Case("mixed-dag", f"mixed-dag-{seed}", question, (rnd,), answer, seed)
