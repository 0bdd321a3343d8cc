"""Lexical tool search: rank a tool catalogue against a question with BM25.

Each tool is a :class:`ToolDoc` (name, description, parameter names and descriptions). Its
text is cut into terms: names are split on ``_``, ``.``, ``-`` and case changes
(``getStockPrice``, ``stock_price.get`` -> ``get stock price``), words are lower-cased,
common English words dropped and the rest stemmed with the Snowball English stemmer
(``calculates``, ``calculation`` -> ``calcul``). Adjacent terms also count as a pair
(``area circle``), so a tool that names the same two-word concept as the question ranks
above one that shares only one of the words.

Fields are weighted (the name counts twice, parameter descriptions half, pairs half) and
scored with Okapi BM25 (``k1=1.2``, ``b=0.75``, the usual values) over an inverted index:
building one for a thousand tools takes milliseconds, and a query touches only the tools
that share a term with it. Written here rather than taken from ``bm25s`` or ``rank-bm25``
because both need numpy (not otherwise a dependency of this package), neither weights fields,
and the index is about forty lines.
"""

from __future__ import annotations

import itertools
import math
import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import snowballstemmer

__all__ = ["STOP_WORDS", "ToolDoc", "ToolIndex", "terms"]

STOP_WORDS = frozenset(
    "a an the of and or to in on at by for from with as is are was were be been it its this "
    "that these those what which who whom whose how when where do does did can could would "
    "should will shall may might i me my we our you your he she his her they them their "
    "also please".split()
)
"""Words left out of queries and tools: they say nothing about which tool is meant."""

NAME_WEIGHT = 2.0
DESCRIPTION_WEIGHT = 1.0
PARAMETER_WEIGHT = 1.0
PARAMETER_DESCRIPTION_WEIGHT = 0.5
PAIR_WEIGHT = 0.5
"""How much a term counts in each field, and an adjacent pair relative to its field."""

_CASE_CHANGE = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
"""Where an identifier's words meet: ``getHTTPStatus`` -> ``get|HTTP|Status``."""

_WORD = re.compile(r"[^\W\d_]+|\d+")
"""A run of letters (any script) or of digits; ``_``, ``.`` and the rest separate words."""


class _Stemmer:
    """The Snowball English stemmer behind a lock (its objects keep state per call)."""

    def __init__(self) -> None:
        self._stemmer = snowballstemmer.stemmer("english")
        self._lock = threading.Lock()
        self._cache: dict[str, str] = {}

    def stem(self, word: str) -> str:
        stemmed = self._cache.get(word)
        if stemmed is None:
            with self._lock:
                stemmed = self._stemmer.stemWord(word)
            if len(self._cache) < 100_000:  # bounded: queries are untrusted text
                self._cache[word] = stemmed
        return stemmed


_STEMMER = _Stemmer()


def terms(text: str) -> list[str]:
    """Return the stemmed terms of ``text``, in order, without stop words."""
    words = (w.lower() for w in _WORD.findall(_CASE_CHANGE.sub(" ", text)))
    return [_STEMMER.stem(w) for w in words if w not in STOP_WORDS]


def _pairs(words: list[str]) -> list[str]:
    return [f"{a} {b}" for a, b in itertools.pairwise(words)]


@dataclass(frozen=True)
class ToolDoc:
    """What the search reads of one tool."""

    name: str
    description: str = ""
    parameters: tuple[tuple[str, str], ...] = ()
    """Each parameter's name and description (``""`` when there is none)."""

    def weighted_terms(self) -> dict[str, float]:
        """Return each term (and adjacent pair) of this tool with its weight."""
        counts: defaultdict[str, float] = defaultdict(float)
        fields = (
            (self.name, NAME_WEIGHT),
            (self.description, DESCRIPTION_WEIGHT),
            (" ".join(name for name, _ in self.parameters), PARAMETER_WEIGHT),
            (" ".join(text for _, text in self.parameters), PARAMETER_DESCRIPTION_WEIGHT),
        )
        for text, weight in fields:
            words = terms(text)
            for term in words:
                counts[term] += weight
            for pair in _pairs(words):
                counts[pair] += weight * PAIR_WEIGHT
        return counts


class ToolIndex:
    """A BM25 index of tools, built once and searched per question."""

    def __init__(self, docs: Iterable[ToolDoc], *, k1: float = 1.2, b: float = 0.75) -> None:
        """Index ``docs`` (names must be unique; a later doc of the same name replaces one)."""
        by_name = {doc.name: doc for doc in docs}
        self.names: list[str] = list(by_name)
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        lengths: list[float] = []
        for number, doc in enumerate(by_name.values()):
            counts = doc.weighted_terms()
            lengths.append(sum(counts.values()))
            for term, weight in counts.items():
                self._postings[term].append((number, weight))
        average = (sum(lengths) / len(lengths)) if lengths else 1.0
        # Per document, the part of BM25's denominator that does not depend on the term.
        self._norms = [k1 * (1 - b + b * length / (average or 1.0)) for length in lengths]
        self._k1 = k1
        count = len(lengths)
        self._idf = {
            term: math.log(1 + (count - len(posting) + 0.5) / (len(posting) + 0.5))
            for term, posting in self._postings.items()
        }

    def __len__(self) -> int:
        """Return the number of tools indexed."""
        return len(self.names)

    def scores(self, query: str) -> dict[str, float]:
        """Return the BM25 score of every tool that shares a term with ``query``."""
        words = terms(query)
        totals: dict[int, float] = defaultdict(float)
        for term in {*words, *_pairs(words)}:
            posting = self._postings.get(term)
            if posting is None:
                continue
            idf = self._idf[term]
            for number, tf in posting:
                totals[number] += idf * tf * (self._k1 + 1) / (tf + self._norms[number])
        return {self.names[number]: score for number, score in totals.items()}

    def search(self, query: str, limit: int | None = None) -> list[str]:
        """Return the names of the tools matching ``query``, best first (ties: catalogue order).

        Tools that share no term with the query are left out, so fewer than ``limit`` names
        may come back.
        """
        scores = self.scores(query)
        order = {name: number for number, name in enumerate(self.names)}
        ranked = sorted(scores, key=lambda name: (-scores[name], order[name]))
        return ranked if limit is None else ranked[:limit]
