"""Load BFCL records and render their ground-truth calls as plans in our format."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BFCL_DIR = REPO / "tests" / "data" / "bfcl"  # BFCL v4 files, unchanged: see its README.md
FILES = ("BFCL_v4_parallel.json", "BFCL_v4_parallel_multiple.json")


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    functions: list[dict[str, Any]]
    ground_truth: list[dict[str, dict[str, list[Any]]]]


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def load_cases() -> list[Case]:
    """Every record of both sets, joined with its ground truth by id."""
    cases: list[Case] = []
    for name in FILES:
        answers = {r["id"]: r["ground_truth"] for r in _jsonl(BFCL_DIR / "possible_answer" / name)}
        for record in _jsonl(BFCL_DIR / name):
            question = " ".join(m["content"] for turn in record["question"] for m in turn)
            cases.append(Case(record["id"], question, record["function"], answers[record["id"]]))
    return cases


def expected_calls(case: Case) -> list[tuple[str, dict[str, Any]]]:
    """Pick the first acceptable value per argument; leave out optional-absent ones ("")."""
    specs = {f["name"]: f for f in case.functions}
    calls = []
    for entry in case.ground_truth:
        ((name, options),) = entry.items()
        required = set(specs[name]["parameters"].get("required", ()))
        calls.append((name, _pick(options, required)))
    return calls


def _pick(options: Mapping[str, list[Any]], required: set[str]) -> dict[str, Any]:
    """Choose a value per key. Nested dicts in BFCL answers are again {key: [acceptable]}."""
    args: dict[str, Any] = {}
    for arg, values in options.items():
        present = [v for v in values if v != ""]
        if not present or ("" in values and arg not in required):
            continue
        value = present[0]
        args[arg] = _pick(value, set(value)) if isinstance(value, dict) else value
    return args


def render_plan(case: Case, *, positional: bool) -> str:
    """Write the expected calls as a plan; with ``positional`` the leading args go by position."""
    specs = {f["name"]: f for f in case.functions}
    lines = [f"Thought: {len(case.ground_truth)} independent calls answer this."]
    for number, (name, args) in enumerate(expected_calls(case), start=1):
        order = list(specs[name]["parameters"].get("properties", {}))
        parts: list[str] = []
        keyword = not positional
        for param in order:
            if param not in args:
                keyword = True
                continue
            literal = repr(args[param])
            parts.append(literal if not keyword else f"{param}={literal}")
        lines.append(f"{number}. {name}({', '.join(parts)})")
    lines.append(f"{len(lines)}. join()<END_OF_PLAN>")
    return "\n".join(lines)


def type_problems(
    value: Any, schema: Mapping[str, Any], where: str, *, json_numbers: bool = False
) -> list[str]:
    """List where ``value`` is not of the Python type the schema promises.

    With ``json_numbers`` an integer counts as a float, as JSON and BFCL answers write them.
    """
    kind = str(schema.get("type", "any")).lower()
    expected: type | tuple[type, ...] | None = {
        "string": str,
        "integer": int,
        "float": float,
        "number": float,
        "boolean": bool,
        "array": list,
        "tuple": list,
        "dict": dict,
        "object": dict,
    }.get(kind)
    if expected is None:
        return []
    if json_numbers and expected is float:
        expected = (int, float)
    if isinstance(value, bool) and expected is not bool:
        return [f"{where}: bool {value!r}, expected {kind}"]
    if not isinstance(value, expected):
        return [f"{where}: {type(value).__name__} {value!r}, expected {kind}"]
    problems: list[str] = []
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for i, item in enumerate(value):
            problems += type_problems(
                item, schema["items"], f"{where}[{i}]", json_numbers=json_numbers
            )
    if isinstance(value, dict) and isinstance(schema.get("properties"), Mapping):
        for key, item in value.items():
            sub = schema["properties"].get(key)
            if sub is None:
                problems.append(f"{where}.{key}: not in the schema")
            else:
                problems += type_problems(item, sub, f"{where}.{key}", json_numbers=json_numbers)
    return problems
