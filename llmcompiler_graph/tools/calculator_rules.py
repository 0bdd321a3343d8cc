"""What the safe calculator accepts, and its limits.

Holds the size limits (:data:`MAX_LENGTH`, :data:`MAX_DEPTH`, :data:`MAX_EXPONENT`,
:data:`MAX_FLOAT`, :data:`MAX_DIGITS`), the constants, functions and operators
:func:`~llmcompiler_graph.tools.calculator.safe_eval` knows, the sign translation
(U+00D7, U+00F7, U+2212) and :func:`syntax_message`, the hint for text that does not parse.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable

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
