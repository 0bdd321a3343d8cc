"""Tests for the safe arithmetic evaluator."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcompiler_graph.errors import CalculatorError
from llmcompiler_graph.tools.calculator import MAX_DEPTH, format_number, safe_eval


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2", 3),
        ("2 + 3 * 4", 14),
        ("(2 + 3) * 4", 20),
        ("2 ** 3 ** 2", 512),  # right-associative
        ("-2 ** 2", -4),  # power binds tighter than unary minus
        ("10 - 4 - 3", 3),  # left-associative
        ("7 // 2", 3),
        ("-7 // 2", -4),
        ("7 % 3", 1),
        ("+5", 5),
        ("1_000 * 3", 3000),
        ("0x10", 16),
        ("  42  ", 42),
        ("2 ^ 10", 1024),
        ("(3 + 4) * 2 ^ 2", 28),
        ("3 \u00d7 4 \u00f7 2 \u2212 1", 5),
        ("6 / 3", 2),
        ("sqrt(16)", 4),
        ("sqrt(16) / 2", 2),
        ("log(8, 2)", 3),
        ("log10(1000)", 3),
        ("exp(0)", 1),
        ("abs(-3)", 3),
        ("round(2.345, 2)", 2.35),
        ("round(1234, -2)", 1200),
        ("round(2.7)", 3),
        ("min(3, 1, 2)", 1),
        ("max(3, 1, 2)", 3),
        ("max(5)", 5),
        ("floor(2.5) + ceil(2.5)", 5),
        ("cos(0)", 1),
        ("2 ** -1", 0.5),
        ("(-8) ** 2", 64),
        ("(-2) ** 3.0", -8),
        ("1 + " * 400 + "1", 401),  # long left-nested chain is fine
    ],
)
def test_evaluates(expression: str, expected: float) -> None:
    result = safe_eval(expression)
    assert result == pytest.approx(expected)
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [("7 / 2", 3.5), ("pi", math.pi), ("e", math.e), ("sin(pi / 6)", 0.5), ("2 ** 0.5", 2**0.5)],
)
def test_float_results(expression: str, expected: float) -> None:
    result = safe_eval(expression)
    assert isinstance(result, float)
    assert result == pytest.approx(expected)


def test_big_integers_stay_exact() -> None:
    assert safe_eval("2 ** 100 + 1") == 2**100 + 1
    assert safe_eval("10 ** 30 / 10 ** 10") == 10**20  # exact division keeps an int
    assert safe_eval("(10 ** 999) ** 10") == 10**9990  # just under the 10000-digit limit


def test_format_number() -> None:
    assert format_number(0.1 + 0.2) == "0.3"
    assert format_number(14) == "14"
    huge = safe_eval("(10 ** 999) ** 10 - 1")
    assert format_number(huge) == "9" * 9990  # beyond str()'s 4300-digit default limit
    assert format_number(-(10**5000)) == "-1" + "0" * 5000


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("().__class__", "attribute access such as '().__class__' cannot be used"),
        ("(1).real", "attribute access"),
        ("x + 1", "unknown name 'x'"),
        ("apples * 3", "replace words and variables with their numbers"),
        ("foo(1)", "unknown function 'foo' in 'foo(1)'"),
        ("__import__('os')", "unknown function '__import__'"),
        ("(1)(2)", "only the functions sqrt, log, log10, exp, sin, cos, tan, abs, round, min"),
        ("sqrt", "sqrt is a function: call it with an argument"),
        ("pi(2)", "pi is a constant, not a function"),
        ("[1, 2][0]", "indexing such as '[1, 2][0]' cannot be used"),
        ("[x for x in (1, 2)]", "comprehensions"),
        ("sum(x for x in (1, 2))", "unknown function 'sum'"),
        ("lambda: 1", "lambda functions"),
        ("'abc'", "text 'abc' is not a number"),
        ("f'{1}'", "text"),
        ("b'1'", "is not a number"),
        ("True", "True is not a number; write 1 or 0"),
        ("False + 1", "False is not a number"),
        ("None", "'None' is not a number"),
        ("2j", "complex numbers such as '2j' are not supported"),
        ("[1, 2]", "collections"),
        ("1 < 2", "comparisons such as '1 < 2' cannot be used"),
        ("1 and 2", "this operator"),
        ("~1", "this operator"),
        ("not 1", "this operator"),
        ("1 << 2", "this operator, in '1 << 2', cannot be used"),
        ("1 if 1 else 2", "IfExp syntax"),
        ("(y := 1)", "NamedExpr syntax"),
        ("1,200", "commas are only allowed between function arguments, found '1,200'"),
        ("1,200 * 2", "1200, not 1,200"),
        ("sqrt(1, 2)", "sqrt() takes 1 argument(s), got 2 in 'sqrt(1, 2)'"),
        ("log(1, 2, 3)", "log() takes 1 or 2 argument(s), got 3"),
        ("max()", "max() takes 1+ argument(s), got 0"),
        ("round(x=1)", "keyword arguments and unpacking are not supported in 'round(x=1)'"),
        ("max(*[1])", "keyword arguments and unpacking"),
        ("round(5, -1000)", "round()'s second argument must be a whole number from -100 to 100"),
        ("round(5, 1.5)", "got 1.5"),
        ("sqrt(-1)", "'sqrt(-1)' is undefined"),
        ("log(0)", "'log(0)' is undefined"),
        ("(-8) ** (1/3)", "raises a negative number to a fractional power"),
        ("1/0", "division by zero in '1/0'"),
        ("1 + 2 // (3 - 3)", "division by zero in '2 // (3 - 3)'"),
        ("5 % 0", "division by zero in '5 % 0'"),
        ("0 ** -1", "division by zero in '0 ** -1'"),
        ("log(5, 1)", "division by zero in 'log(5, 1)'"),
        ("9**9**9", "exponent 387420489 in '9**9**9' is too large; exponents are limited"),
        ("2 ** 1001", "exponent 1001"),
        ("2 ^ -5000", "exponent -5000"),
        ("10 ** 10 ** 10", "is too large"),
        ("2 ** (10 ** 999)", "exponent a 1000-digit number"),
        ("(10 ** 1000) ** 11", "result of '(10 ** 1000) ** 11' is too large"),
        ("1e300 * 10", "result of '1e300 * 10' is too large"),
        ("1e999", "result of '1e999' is too large"),
        ("exp(1000)", "result of 'exp(1000)' is too large"),
        ("2.0 ** 1000", "too large"),
        ("10 ** 400 / 3", "too large"),
        ("sqrt(10 ** 400)", "too large"),
        ("", "empty expression"),
        ("   ", "empty expression"),
        ("2 +", "cannot parse '2 +'"),
        ("50%", "write 50 / 100 instead of 50%"),
        ("(20 + 30)%", "percent signs are not supported"),
        ("$1 * 2", "replace $N references and currency signs with plain numbers"),
        ("$1,200 * 2", "currency signs"),
        ("x = 5", "without '=' or variable assignments"),
        ("what is 2 + 2", "comparisons such as 'what is 2 + 2'"),
        ("what is two plus two", "cannot parse 'what is two plus two' (invalid syntax"),
        ("1\x00", "cannot parse"),
        ("1 + " * 1000 + "1", "characters long, the limit is 2000"),
        ("-" * 100 + "1", f"nested more than {MAX_DEPTH} levels deep"),
        ("sqrt(" * 60 + "1" + ")" * 60, f"nested more than {MAX_DEPTH} levels deep"),
        ("(" * 300 + "1" + ")" * 300, "too many nested parentheses"),
    ],
)
def test_refuses_with_message(expression: str, fragment: str) -> None:
    with pytest.raises(CalculatorError) as info:
        safe_eval(expression)
    assert fragment in str(info.value)


def test_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="division by zero"):
        safe_eval("1 / 0")


def test_never_runs_code() -> None:
    sneaky = "__import__('os').system('echo pwned')"
    with pytest.raises(CalculatorError):
        safe_eval(sneaky)
    with pytest.raises(CalculatorError, match="attribute access"):
        safe_eval("(1).__class__.__bases__[0].__subclasses__()")


FAST = settings(max_examples=300, deadline=timedelta(seconds=5))


@FAST
@given(st.text(max_size=300))
def test_arbitrary_text_only_raises_calculator_error(text: str) -> None:
    try:
        result = safe_eval(text)
    except CalculatorError:
        return
    assert isinstance(result, int | float)


EXPRESSION_LIKE = (
    r"\A[0-9 .+\-*/%^()e,]{1,80}\Z|\A(sqrt|log|exp|round|max|floor)\([0-9 .,+\-*^]{0,30}\)\Z"
)


@FAST
@given(st.from_regex(EXPRESSION_LIKE))
def test_expression_like_text_is_bounded(text: str) -> None:
    try:
        result = safe_eval(text)
    except CalculatorError:
        return
    assert isinstance(result, int | float)
    if isinstance(result, float):
        assert math.isfinite(result) and abs(result) <= 1e300


@FAST
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "^"]), st.integers(-99, 99)
        ),
        max_size=12,
    ),
    st.integers(-99, 99),
)
def test_operator_chains_are_bounded(chain: list[tuple[str, int]], first: int) -> None:
    text = f"({first})" + "".join(f" {op} ({number})" for op, number in chain)
    try:
        safe_eval(text)
    except CalculatorError:
        pass


def _arith() -> st.SearchStrategy[tuple[str, int]]:
    """Build (expression text, exact value) pairs from + - * and parentheses."""
    leaves = st.integers(-1000, 1000).map(lambda n: (f"({n})" if n < 0 else str(n), n))

    def extend(inner: st.SearchStrategy[tuple[str, int]]) -> st.SearchStrategy[tuple[str, int]]:
        def combine(op: str, a: tuple[str, int], b: tuple[str, int]) -> tuple[str, int]:
            value = {"+": a[1] + b[1], "-": a[1] - b[1], "*": a[1] * b[1]}[op]
            return f"({a[0]} {op} {b[0]})", value

        return st.builds(combine, st.sampled_from("+-*"), inner, inner)

    return st.recursive(leaves, extend, max_leaves=20)


@settings(max_examples=200, deadline=timedelta(seconds=5))
@given(_arith())
def test_matches_exact_integer_arithmetic(pair: tuple[str, int]) -> None:
    text, value = pair
    result = safe_eval(text)
    assert result == value
    assert isinstance(result, int)


def test_length_limit_counts_the_input_as_written() -> None:
    assert safe_eval("+".join(["2^1"] * 500)) == 1000  # 1999 characters, longer once ^ is **
