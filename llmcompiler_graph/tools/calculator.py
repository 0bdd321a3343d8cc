"""A safe arithmetic evaluator: parse with :mod:`ast`, walk the tree, never run code.

Accepted: int and float literals (``1_000``, ``2.5e3``, ``0x1f``), ``+ - * / // % **``, unary
``+``/``-``, parentheses, the constants ``pi`` and ``e`` and the functions ``sqrt``, ``log`` (x
or x, base), ``log10``, ``exp``, ``sin``, ``cos``, ``tan``, ``abs``, ``round`` (x or x, digits),
``min``, ``max``, ``floor`` and ``ceil``. Models write ``^`` for power, so ``^`` means ``**``
(there is no XOR); the signs U+00D7, U+00F7 and U+2212 mean ``*``, ``/`` and ``-``. Commas only
separate function arguments (``1,200`` is refused, not guessed), and ``50%`` is refused too.

Everything else raises :class:`CalculatorError` naming the offending piece, and so do inputs that
would be slow or huge: over 2000 characters, nesting over 50 levels, exponents beyond ±1000,
floats beyond 1e300, whole numbers over 10000 digits. Whole results are ``int`` (``6 / 3`` is
``2``, ``sqrt(16)`` is ``4``); others are ``float``.
The grammar's tables and the limits are in :mod:`.calculator_rules`; this module holds the
evaluator (:func:`safe_eval`, :class:`CalculatorError`) and :func:`format_number`.

>>> safe_eval("(3 + 4) * 2 ^ 2")
28
>>> safe_eval("sqrt(16) / 3")
1.3333333333333333
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from typing import NoReturn

from llmcompiler_graph.errors import CalculatorError

__all__ = [
    "ALLOWED",
    "BINARY",
    "CONSTANTS",
    "EXACT_FLOAT",
    "FUNCTIONS",
    "MAX_BITS",
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_EXPONENT",
    "MAX_FLOAT",
    "MAX_LENGTH",
    "MAX_ROUND_DIGITS",
    "TRANSLATION",
    "FunctionSpec",
    "Number",
    "clip",
    "divides",
    "format_number",
    "safe_eval",
    "syntax_message",
]


Number = int | float

MAX_LENGTH = 2000
MAX_DEPTH = 50
MAX_EXPONENT = 1000
MAX_FLOAT = 1e300
MAX_DIGITS = 10_000
MAX_BITS = math.ceil(MAX_DIGITS / math.log10(2))
MAX_ROUND_DIGITS = 100
EXACT_FLOAT = 2**53

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
# name: (fewest arguments, most arguments or None for any number, implementation)
FunctionSpec = tuple[int, int | None, Callable[..., Number]]
FUNCTIONS: dict[str, FunctionSpec] = {"sqrt": (1, 1, math.sqrt), "log": (1, 2, math.log)}
FUNCTIONS |= {name: (1, 1, getattr(math, name)) for name in ("log10", "exp", "sin", "cos", "tan")}
FUNCTIONS |= {"abs": (1, 1, abs), "round": (1, 2, round)}
FUNCTIONS |= {"min": (1, None, lambda *a: min(a)), "max": (1, None, lambda *a: max(a))}
FUNCTIONS |= {"floor": (1, 1, math.floor), "ceil": (1, 1, math.ceil)}
ALLOWED = "numbers, + - * / // % ** (or ^), parentheses, pi, e, " + ", ".join(FUNCTIONS)
BINARY: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: lambda a, b: a // b if divides(a, b) else a / b,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
TRANSLATION = str.maketrans({"\u00d7": "*", "\u00f7": "/", "\u2212": "-"})


def divides(a: Number, b: Number) -> bool:
    """Tell whether ``a / b`` is a whole division of two ints (then ``/`` gives an int)."""
    return isinstance(a, int) and isinstance(b, int) and b != 0 and a % b == 0


def clip(text: str, limit: int = 80) -> str:
    """Shorten ``text`` to ``limit`` characters for an error message."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def syntax_message(source: str, exc: BaseException) -> str:
    """Say why ``source`` does not parse, with hints for what models commonly write."""
    where = ""
    if isinstance(exc, SyntaxError):
        where = f" ({exc.msg} at column {exc.offset})" if exc.offset else f" ({exc.msg})"
    hints = []
    if "$" in source:
        hints.append("replace $N references and currency signs with plain numbers")
    if re.search(r"%\s*(\)|$)", source):
        hints.append("percent signs are not supported: write 50 / 100 instead of 50%")
    if re.search(r"(?<![=!<>])=(?!=)", source):
        hints.append("write only the expression, without '=' or variable assignments")
    hints.append(f"use only {ALLOWED}")
    return f"cannot parse '{clip(source)}'{where}; " + "; ".join(hints)


def safe_eval(expression: str) -> int | float:
    """Evaluate an arithmetic expression without running any code.

    Args:
        expression: The expression, e.g. ``"(3 + 4) * 2"`` or ``"sqrt(16) / 2"``.

    Returns:
        The value: an ``int`` when it is a whole number (below 2**53 for computed floats),
        otherwise a ``float``.

    Raises:
        CalculatorError: The expression is not plain arithmetic, is too long, too deep or too
            large, or divides by zero; the message names the offending piece.

    """
    text = expression.strip()
    if not text:
        _fail("empty expression; write an arithmetic expression such as '(3 + 4) * 2'")
    if len(text) > MAX_LENGTH:
        _fail(
            f"expression is {len(text)} characters long, the limit is {MAX_LENGTH}; "
            "split the calculation into smaller steps"
        )
    source = text.replace("^", "**").translate(TRANSLATION)
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        _fail(syntax_message(source, exc))
    _check_depth(tree)
    value = _Evaluator(source).eval(tree.body)
    if isinstance(value, float) and value.is_integer() and abs(value) < EXACT_FLOAT:
        return int(value)
    return value


def format_number(value: Number) -> str:
    """Render a :func:`safe_eval` result: floats to 15 significant digits, ints in full."""
    if isinstance(value, float):
        return f"{value:.15g}"
    if value.bit_length() < 10_000:
        return str(value)
    # str() refuses ints beyond sys.get_int_max_str_digits(); convert in 1000-digit chunks.
    chunks: list[int] = []
    rest, base = abs(value), 10**1000
    while rest:
        rest, chunk = divmod(rest, base)
        chunks.append(chunk)
    head, *tail = reversed(chunks)
    return ("-" if value < 0 else "") + str(head) + "".join(f"{c:01000d}" for c in tail)


def _fail(message: str) -> NoReturn:
    raise CalculatorError(message)


def _short(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"a {len(format_number(abs(value)))}-digit number"
    return clip(repr(value), 40)


def _check_depth(tree: ast.Expression) -> None:
    """Refuse deep trees before the (recursive) evaluator walks them."""
    # A chain like 1 + 2 + 3 nests to the left; the evaluator walks it in a loop, so only
    # right operands and other children count as a level.
    stack: list[tuple[ast.AST, int]] = [(tree.body, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            _fail(f"expression is nested more than {MAX_DEPTH} levels deep; split it into steps")
        for child in ast.iter_child_nodes(node):
            same = isinstance(node, ast.BinOp) and child is node.left
            stack.append((child, depth if same else depth + 1))


class _Evaluator:
    def __init__(self, source: str) -> None:
        self.source = source

    def text(self, node: ast.AST) -> str:
        segment = ast.get_source_segment(self.source, node) or ast.unparse(node)
        return clip(" ".join(segment.split()), 60)

    def eval(self, node: ast.expr) -> Number:
        if isinstance(node, ast.BinOp):
            chain: list[ast.BinOp] = []
            current: ast.expr = node
            while isinstance(current, ast.BinOp):
                chain.append(current)
                current = current.left
            value = self.eval(current)
            for binop in reversed(chain):
                value = self.binary(binop, value, self.eval(binop.right))
            return value
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
            operand = self.eval(node.operand)
            return operand if isinstance(node.op, ast.UAdd) else -operand
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        self.refuse(node)

    def constant(self, node: ast.Constant) -> Number:
        value = node.value
        if isinstance(value, bool):
            _fail(f"{value} is not a number; write 1 or 0 instead")
        if isinstance(value, str | bytes):
            _fail(f"text {clip(repr(value), 40)} is not a number; write only numbers")
        if isinstance(value, complex):
            _fail(f"complex numbers such as '{self.text(node)}' are not supported")
        if not isinstance(value, int | float):
            _fail(f"'{self.text(node)}' is not a number; write only {ALLOWED}")
        return self.checked(value, node)

    def name(self, node: ast.Name) -> Number:
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        if node.id in FUNCTIONS:
            _fail(f"{node.id} is a function: call it with an argument, e.g. {node.id}(16)")
        _fail(
            f"unknown name '{node.id}'; only numbers and the constants pi and e are allowed: "
            "replace words and variables with their numbers"
        )

    def call(self, node: ast.Call) -> Number:
        where = self.text(node)
        if not isinstance(node.func, ast.Name):
            self.eval(node.func)  # refuses attribute access, indexing... with their own message
            _fail(f"only the functions {', '.join(FUNCTIONS)} can be called, not '{where}'")
        name = node.func.id
        if name in CONSTANTS:
            _fail(f"{name} is a constant, not a function: write e.g. 2 * {name}")
        if name not in FUNCTIONS:
            _fail(f"unknown function '{name}' in '{where}'; allowed: {', '.join(FUNCTIONS)}")
        if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args):
            _fail(f"keyword arguments and unpacking are not supported in '{where}'; pass numbers")
        low, high, function = FUNCTIONS[name]
        if len(node.args) < low or (high is not None and len(node.args) > high):
            wanted = f"{low} or {high}" if high is not None and high != low else str(low)
            wanted += "+" if high is None else ""
            _fail(f"{name}() takes {wanted} argument(s), got {len(node.args)} in '{where}'")
        args = [self.eval(arg) for arg in node.args]
        if name == "round" and len(args) == 2:
            digits = args[1]
            if not isinstance(digits, int) or abs(digits) > MAX_ROUND_DIGITS:
                limit = MAX_ROUND_DIGITS
                _fail(
                    f"round()'s second argument must be a whole number from -{limit} to "
                    f"{limit}, got {_short(digits)} in '{where}'"
                )
        return self.apply(node, function, args)

    def binary(self, node: ast.BinOp, left: Number, right: Number) -> Number:
        function = BINARY.get(type(node.op))
        if function is None:
            _fail(f"this operator, in '{self.text(node)}', cannot be used; use only {ALLOWED}")
        if isinstance(node.op, ast.Pow):
            self.check_power(node, left, right)
        return self.apply(node, function, [left, right])

    def apply(self, node: ast.expr, function: Callable[..., Number], args: list[Number]) -> Number:
        try:
            result = function(*args)
        except ValueError:
            _fail(
                f"'{self.text(node)}' is undefined: the argument is outside the function's domain "
                "(sqrt needs x >= 0, log needs x > 0)"
            )
        except ZeroDivisionError:
            _fail(f"division by zero in '{self.text(node)}'")
        except OverflowError:
            self.too_large(node)
        return self.checked(result, node)

    def check_power(self, node: ast.BinOp, base: Number, exponent: Number) -> None:
        if abs(exponent) > MAX_EXPONENT:
            _fail(
                f"exponent {_short(exponent)} in '{self.text(node)}' is too large; "
                f"exponents are limited to ±{MAX_EXPONENT}"
            )
        if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
            if abs(base) > 1 and (base.bit_length() - 1) * exponent > MAX_BITS:
                self.too_large(node)
        elif base < 0 and not float(exponent).is_integer():
            _fail(
                f"'{self.text(node)}' raises a negative number to a fractional power, "
                "which has no real result"
            )

    def checked(self, value: Number, node: ast.AST) -> Number:
        if isinstance(value, float):
            if not math.isfinite(value) or abs(value) > MAX_FLOAT:
                self.too_large(node)
        elif value.bit_length() > MAX_BITS:
            self.too_large(node)
        return value

    def too_large(self, node: ast.AST) -> NoReturn:
        _fail(
            f"result of '{self.text(node)}' is too large (the limits are {MAX_FLOAT:g}, "
            f"or {MAX_DIGITS} digits for whole numbers)"
        )

    def refuse(self, node: ast.AST) -> NoReturn:
        where = self.text(node)
        if isinstance(node, ast.Tuple):
            _fail(
                f"commas are only allowed between function arguments, found '{where}'; write "
                "numbers without thousands separators (1200, not 1,200), one expression at a time"
            )
        comprehension = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
        kinds: list[tuple[type | tuple[type, ...], str]] = [
            (ast.Attribute, "attribute access"),
            (ast.Subscript, "indexing"),
            (comprehension, "comprehensions"),
            (ast.Lambda, "lambda functions"),
            ((ast.List, ast.Set, ast.Dict), "collections"),
            (ast.Compare, "comparisons"),
            ((ast.BoolOp, ast.UnaryOp), "this operator"),
            (ast.JoinedStr, "text"),
        ]
        what = next((text for kind, text in kinds if isinstance(node, kind)), None)
        what = what or f"{type(node).__name__} syntax"
        _fail(f"{what} such as '{where}' cannot be used; use only {ALLOWED}")
