"""The joiner's decision parser reads ``Finish(...)`` up to its own closing parenthesis.

An answer may hold ``)`` of its own (``a) Paris``, a smiley), quotes with brackets inside,
nested pairs and newlines; the property tests build such answers and read them back whole.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from llmcompiler_graph.joiner.decision import parse_decision

EXAMPLES = int(os.environ.get("LLMCOMPILER_FUZZ_EXAMPLES", "300"))

# Pieces of an answer: ")" may stand alone (list items, smileys); "(" only in closed pairs
# (built below) or inside quotes.
PIECES = st.sampled_from(
    [
        "Paris",
        "Lyon",
        "42",
        "it's",
        "Wood's",
        "a)",
        "b)",
        "1)",
        ":)",
        ":-)",
        ")",
        " ",
        " ",
        "\n",
        ",",
        ".",
        ":",
        "$1",
        "-",
        "é",
        "\t",
        "Finish(it)",
        "\nAction: Replan(x)",
        "\nAction: Finish(y)",
    ]
)
QUOTED = st.builds(
    # Single quotes count as quotes at a word's edges: spaces around every quoted piece.
    lambda marks, inner: f" {marks[0]}{inner}{marks[1]} ",
    st.sampled_from(['""', "``", "''", "\u201c\u201d"]),
    st.text(alphabet=st.sampled_from(list("ab ()[]{}:;,.")), max_size=12),
)
ANSWERS = st.recursive(
    st.lists(st.one_of(PIECES, QUOTED), max_size=12).map("".join),
    lambda inner: st.lists(
        st.one_of(PIECES, QUOTED, inner.map(lambda text: f"({text})")), max_size=8
    ).map("".join),
    max_leaves=30,
)
THOUGHTS = st.lists(
    st.sampled_from(["I", "know", "(it)", "a)", '"q(', " ", ":)", "(open"]), max_size=8
).map("".join)
TRAILERS = st.sampled_from(["", "\n", "\nHope this helps.", "\n\nThat's all (really).", "  "])


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    answer=ANSWERS,
    thought=THOUGHTS,
    trailer=TRAILERS,
    action=st.sampled_from(["Finish", "Replan"]),
)
@example(answer="Two options: a) Paris, b) Lyon.", thought="", trailer="", action="Finish")
@example(answer='the sign said "EXIT)" twice', thought="", trailer="", action="Finish")
@example(answer="Options:\na) Paris\nb) Lyon", thought="", trailer="\n", action="Finish")
def test_the_argument_is_read_whole(answer: str, thought: str, trailer: str, action: str) -> None:
    decision = parse_decision(f"Thought: {thought}\nAction: {action}({answer}){trailer}")
    assert decision.action == action.lower()
    assert decision.text == answer.strip()


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        ("Action: Finish(Two options: a) Paris, b) Lyon.)", "Two options: a) Paris, b) Lyon."),
        ("Action: Finish(1) fly, 2) drive :))\n", "1) fly, 2) drive :)"),
        ("Action: Finish(`f(` is a call)", "`f(` is a call"),
        ("Action: Finish('x)' and \u201cy)\u201d)", "'x)' and \u201cy)\u201d"),
        # The answer ends at the first ")" that no later stray ")" follows.
        ("Action: Finish(42) (sure)", "42"),
        ("Action: Finish(ends with a smiley :-) but not here", "ends with a smiley :-"),
        ("Action: Finish(42)\nHope this helps (really).", "42"),
    ],
)
def test_answers_with_their_own_closing_parentheses(reply: str, answer: str) -> None:
    assert parse_decision(reply).text == answer


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.sampled_from(["Action: Finish(", "Replan(", "(", ")", "a) ", '"', "'", "\n"])))
def test_any_reply_parses(pieces: list[str]) -> None:
    decision = parse_decision("".join(pieces))
    assert decision.action in ("finish", "replan")


@pytest.mark.parametrize(
    "reply",
    [
        "Action: Finish(" + "a) " * 100_000 + ")",
        "Action: Finish(" + "(" * 100_000 + ")" * 100_000 + ")",
        "Action: Finish(a) b\n" * 50_000,
        "Action: Finish(" + '"a) " ' * 50_000 + ")",
        ("Action: Finish(a (b) c) d\nFinish(") * 30_000,
        "Thought: " + " " * 200_000 + "Action:" + " " * 100_000,
    ],
    ids=["list-items", "nested", "many-actions", "quotes", "mixed", "spaces"],
)
def test_long_replies_parse_in_one_pass(reply: str) -> None:
    # Each of these took quadratic time in some design; here they are single passes (the
    # whole test file runs in seconds; a quadratic parser would take minutes).
    parse_decision(reply)
