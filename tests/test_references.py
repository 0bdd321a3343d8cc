"""``$N`` rules: which references are dependencies, and how results are substituted."""

from __future__ import annotations

import pytest

from llmcompiler_graph.planner.references import ReferenceError_, dependencies, substitute, to_text


@pytest.mark.parametrize(
    ("value", "planned", "deps"),
    [
        ("$1", {1}, {1}),
        ("${1}", {1}, {1}),
        ("  $2 ", {2}, {2}),
        ("compare $1 with ${2}", {1, 2}, {1, 2}),
        ("$12 then $1", {1, 12}, {1, 12}),
        ("costs $5.00", {5}, set()),
        ("costs $1,200", {1}, set()),
        ("$3 fee", {1}, set()),  # no task 3 planned before: text
        (["$1", {"k": "$2", "$3": 0}], {1, 2, 3}, {1, 2, 3}),  # inside lists, dict values and keys
        (42, {1}, set()),
        (None, {1}, set()),
    ],
)
def test_dependencies(value: object, planned: set[int], deps: set[int]) -> None:
    assert dependencies(value, planned) == deps


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("${4}", "${4} refers to task 4, which was not planned before it"),
        ("look at ${4} please", "${4} refers to task 4, which was not planned before it"),
        ("$4", "$4 refers to task 4, which was not planned before it"),
        (["ok", "$4"], "$4 refers to task 4"),
    ],
)
def test_unsatisfiable_references_raise(value: object, message: str) -> None:
    with pytest.raises(ReferenceError_, match=message.replace("$", r"\$").replace("{", r"\{")):
        dependencies(value, {1, 2})


def test_self_reference_says_so() -> None:
    with pytest.raises(ReferenceError_, match="refers to itself"):
        dependencies("$3", {1, 2}, own=3)
    assert dependencies("costs $3", {1, 2}, own=3) == frozenset()


def test_exact_reference_receives_the_object_unchanged() -> None:
    result = {"rows": [1, 2]}
    out = substitute({"data": "$1", "braced": "${1}", "spaced": " $1 "}, {1}, {1: result})
    assert isinstance(out, dict)
    assert out["data"] is result and out["braced"] is result and out["spaced"] is result


def test_reference_inside_text_receives_the_text() -> None:
    out = substitute("a=$1, b=${2}, price $5.00, other $9", {1, 2}, {1: 3.0, 2: [1, 2]})
    assert out == "a=3, b=[1, 2], price $5.00, other $9"


def test_substitution_is_one_pass() -> None:
    # A result containing "$2" must not pull in task 2's result.
    out = substitute(["$1", "see $1"], {1, 2}, {1: "text with $2", 2: "SECRET"})
    assert out == ["text with $2", "see text with $2"]


def test_substitution_reaches_nested_values_and_dict_keys() -> None:
    out = substitute({"$1 key": ["$1", ("x $1",)], "n": 5}, {1}, {1: "v"})
    assert out == {"v key": ["v", ("x v",)], "n": 5}


def test_references_to_non_dependencies_are_left_alone() -> None:
    assert substitute("$1 and $2", {1}, {1: "one"}) == "one and $2"


def test_custom_text_rendering() -> None:
    assert substitute("got $1", {1}, {1: object()}, text=lambda v: "<obj>") == "got <obj>"


@pytest.mark.parametrize(
    ("value", "text"),
    [("s", "s"), (3.0, "3"), (2.5, "2.5"), (7, "7"), ([1], "[1]"), (None, "None")],
)
def test_to_text(value: object, text: str) -> None:
    assert to_text(value) == text
