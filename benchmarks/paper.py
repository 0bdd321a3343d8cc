"""The paper's workloads, read from the copies in ``benchmarks/data``.

The three JSON files come unchanged from the paper's repository (see ``data/README.md``
for their sources and licences); ``--datasets DIR`` reads another copy instead.

Each question becomes a :class:`~benchmarks.workloads.Case` whose steps
follow the question's structure:

* HotpotQA comparison: the two compared entities (parsed from the question) are searched,
  then the answer is given.
* Movie recommendation: the four seed films and the four options (read from the question
  text) are searched: eight independent searches, then the choice.
* ParallelQA: ``branch`` entities (capitalised names in the question) are each searched
  and fed to a math step; a final math step combines the branches.

The answer is always the dataset's. Entity parsing is a heuristic: a question it cannot
split still gets the right number of searches, with generic queries.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

from benchmarks.workloads import Case, Round, Step, math_step, search_step

__all__ = [
    "DATASET_FILES",
    "dataset_dir",
    "hotpot_entities",
    "load_paper_cases",
    "movie_titles",
    "named_entities",
]

DATASET_FILES = {
    "hotpotqa": "hotpotqa_comparison.json",
    "movie": "movie_recommendations_formatted.json",
    "parallelqa": "parallelqa_dataset.json",
}


def dataset_dir() -> Path:
    """Return the folder of the paper's datasets shipped with the package (package data)."""
    return Path(__file__).resolve().parent / "data"


def load_paper_cases(
    workload: str, samples: int | None, seed: int, directory: Path | None = None
) -> tuple[list[Case], int]:
    """Sample ``samples`` questions (all if ``None``) of a paper workload.

    Returns:
        The cases and the dataset's size.

    Raises:
        FileNotFoundError: If the dataset file is missing (the message says where it was sought).

    """
    path = (directory or dataset_dir()) / DATASET_FILES[workload]
    if not path.is_file():
        raise FileNotFoundError(
            f"dataset for {workload!r} not found at {path}; the package ships the paper's "
            f"datasets in {dataset_dir()} (reinstall it if they are missing), or pass "
            f"--datasets DIR for a folder holding {DATASET_FILES[workload]}"
        )
    records: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    chosen = (
        records
        if samples is None
        else random.Random(seed).sample(records, min(samples, len(records)))
    )
    build = {"hotpotqa": _hotpot, "movie": _movie, "parallelqa": _parallelqa}[workload]
    return [build(record, seed) for record in chosen], len(records)


# -- HotpotQA ---------------------------------------------------------------------------------

_CONNECTOR = re.compile(r"\s+(?:and|or)\s+")
_GLUE = {"of", "the", "de", "du", "la", "le", "von", "van", "&", "a"}
_QUESTION_WORDS = {
    "Were",
    "Was",
    "Is",
    "Are",
    "Did",
    "Do",
    "Does",
    "Has",
    "Have",
    "Had",
    "Which",
    "Who",
    "Whose",
    "What",
    "When",
    "Where",
    "Between",
    "Both",
    "The",
    "IS",
    "How",
}


def _is_name_word(word: str) -> bool:
    return word[:1].isupper() or word[:1].isdigit() or word[:1] in "\"'(“"


def hotpot_entities(question: str) -> tuple[str, str] | None:
    """Split a comparison question into its two entities, or ``None`` if it cannot."""
    text = question.strip().rstrip("?").strip()
    segments = re.split(r"(?:,|:)\s+", text)
    if len(segments) > 1 and _CONNECTOR.search(segments[-1]):  # "..., X or Y"
        first, second = _CONNECTOR.split(segments[-1], maxsplit=1)
        first = re.sub(r"^(?:between|either|both)\s+", "", first, flags=re.IGNORECASE)
        return _clean(first, second)
    match = _CONNECTOR.search(text)
    if match is None:
        return None
    before, after = text[: match.start()].split(), text[match.end() :].split()
    left: list[str] = []
    for word in reversed(before):
        if word in _QUESTION_WORDS or not (_is_name_word(word) or word in _GLUE):
            break
        left.insert(0, word)
    right: list[str] = []
    for word in after:
        if not (_is_name_word(word) or word in _GLUE):
            break
        right.append(word)
    return _clean(" ".join(left), " ".join(right))


def _clean(left: str, right: str) -> tuple[str, str] | None:
    def tidy(words: list[str]) -> str:
        while words and words[0].lower() in _GLUE - {"the"}:
            words = words[1:]
        while words and words[-1].lower() in _GLUE:
            words = words[:-1]
        return " ".join(words).strip(" ,\"'“”")

    a, b = tidy(left.split()), tidy(right.split())
    return (a, b) if a and b and a != b else None


def _hotpot(record: dict[str, Any], seed: int) -> Case:
    question = str(record["question"])
    a, b = hotpot_entities(question) or (
        "the first subject of the question",
        "the second subject of the question",
    )
    steps = (
        search_step(1, a, f"I need to look up {a} to answer the comparison."),
        search_step(2, b, f"Now I need the same information about {b}."),
    )
    rnd = Round(
        steps,
        f"The question compares {a} and {b}; I can look both up at the same time.",
        f"The search results describe both {a} and {b}, which is enough to compare them.",
    )
    return Case("hotpotqa", str(record["id"]), question, (rnd,), str(record["answer"]), seed)


# -- Movie recommendation -------------------------------------------------------------------


def movie_titles(question: str) -> tuple[list[str], list[str]]:
    """Return the four seed films and the four options named in a movie question."""
    head, _, options = question.partition("Options:")
    head = re.sub(r"^\s*Find a movie similar to\s*", "", head).strip()
    seeds = [t.strip() for t in head.split(", ") if t.strip()]
    while len(seeds) > 4:  # a title with a comma in it ("Monsters, Inc"): rejoin the shortest part
        k = min(range(1, len(seeds)), key=lambda i: len(seeds[i]))
        seeds[k - 1 : k + 1] = [f"{seeds[k - 1]}, {seeds[k]}"]
    return seeds, [line.strip() for line in options.splitlines() if line.strip()]


def _movie(record: dict[str, Any], seed: int) -> Case:
    question = str(record["question"])
    seeds, options = movie_titles(question)
    titles = [*seeds, *options]
    steps = tuple(
        search_step(
            i, title, f"I need the genre, era and style of {title} to compare it with the others."
        )
        for i, title in enumerate(titles, 1)
    )
    answer = str(record["answer"])
    rnd = Round(
        steps,
        f"I need the genre and style of the {len(seeds)} seed films and the {len(options)} "
        "options; all these searches are independent.",
        f"Comparing the genres, eras and tone of the seed films with each option, {answer} is "
        "the closest match to the seed films.",
    )
    return Case("movie", str(record["id"]), question, (rnd,), answer, seed)


# -- ParallelQA -------------------------------------------------------------------------------

_WORD = r"[\w'\u2019.-]*"
_NAME = re.compile(rf"\b[A-Z]{_WORD}(?:\s+(?:(?:of|the|de|du|la)\s+)*[A-Z0-9]{_WORD})*")
_NOT_NAMES = {
    "If",
    "Given",
    "What",
    "Which",
    "After",
    "Considering",
    "Identify",
    "Determine",
    "With",
    "Between",
    "The",
    "Is",
    "Are",
    "Were",
    "Who",
    "How",
    "Compute",
    "Calculate",
    "Find",
    "Suppose",
    "Assuming",
    "When",
    "In",
    "Among",
    "Compare",
    "Assume",
    "Imagine",
}


def named_entities(question: str) -> list[str]:
    """Return the capitalised names in ``question``, in order, without duplicates."""
    names: list[str] = []
    for match in _NAME.finditer(question):
        words = match.group(0).rstrip(".'\u2019").split()
        while words and words[0] in _NOT_NAMES:
            words = words[1:]
        name = " ".join(words).removesuffix("'s").removesuffix("\u2019s")
        if name and name not in names and len(name) > 1:
            names.append(name)
    return names


def _parallelqa(record: dict[str, Any], seed: int) -> Case:
    question = str(record["question"])
    branches = int(record["branch"])
    names = named_entities(question)
    names += [f"quantity {k} in the question" for k in range(len(names) + 1, branches + 1)]
    names = names[:branches]
    steps: list[Step] = [
        search_step(i, name, f"I need the figure for {name} first.")
        for i, name in enumerate(names, 1)
    ]
    steps += [
        math_step(
            branches + i,
            f"Adjust the figure for {name} as the question states",
            [i],
            f"With the figure for {name} I can apply its adjustment.",
        )
        for i, name in enumerate(names, 1)
    ]
    adjusted = list(range(branches + 1, 2 * branches + 1))
    steps.append(
        math_step(
            2 * branches + 1,
            f"Using the adjusted figures, {_final_clause(question)}",
            adjusted,
            "All adjusted figures are known, so I can compute the final answer.",
        )
    )
    answer = str(record["answer"])
    rnd = Round(
        tuple(steps),
        f"Each of the {branches} figures can be searched and adjusted independently; the final "
        "step combines them.",
        f"Combining the {branches} adjusted figures gives {answer}.",
    )
    return Case(
        "parallelqa", str(record["id"]), question, (rnd,), answer, seed, {"branch": branches}
    )


def _final_clause(question: str, words: int = 16) -> str:
    """Return what the question finally asks (its last clause), at most ``words`` words."""
    clause = re.split(r",\s+|:\s+", question.strip().rstrip("?. "))[-1].split()
    return " ".join(clause[:words]) + "?"
