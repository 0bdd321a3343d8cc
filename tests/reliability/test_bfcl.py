"""BFCL parallel / parallel_multiple: real signatures through the parser, graph and scheduler.

For each record, tools are built from its JSON-schema functions, the ground-truth calls are
written as a plan, a scripted planner streams that plan through the real graph, and every
tool must receive exactly the ground-truth arguments with the schema's Python types.
"""

from __future__ import annotations

import copy
import re
import threading
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.sim import ScriptedChatModel
from llmcompiler_graph.tools.jsonschema import tools_from_specs

from .bfcl import Case, expected_calls, load_cases, render_plan, type_problems

FINISH = "Thought: every call ran.\nAction: Finish(done)"


def contradicted(case: Case, name: str, args: dict[str, Any]) -> list[str]:
    """Arguments whose ground-truth value does not fit the function's own declared schema."""
    props = next(f for f in case.functions if f["name"] == name)["parameters"]["properties"]
    return [
        arg
        for arg, value in args.items()
        if type_problems(value, props[arg], arg, json_numbers=True)
    ]


def run_case(case: Case, *, positional: bool) -> list[str]:
    """Run one record; return what went wrong (empty when it behaved as specified).

    Specified: every call whose ground truth fits the function's schema reaches its tool
    with exactly those arguments and the schema's Python types; a call whose ground truth
    contradicts its own schema (BFCL keeps a few) is refused with an error naming each
    offending argument, and the run still finishes.
    """
    received: list[tuple[str, dict[str, Any]]] = []
    lock = threading.Lock()

    def handler(name: str, arguments: dict[str, Any]) -> str:
        with lock:
            received.append((name, copy.deepcopy(arguments)))
        return f"{name} done"

    tools = tools_from_specs(case.functions, handler)
    plan = render_plan(case, positional=positional)
    app = create_llm_compiler(ScriptedChatModel(responses=[plan, FINISH]), tools)
    out = app.invoke({"messages": [("user", case.question)]})
    problems: list[str] = []
    if out["messages"][-1].content != "done":
        problems.append(f"answer was {out['messages'][-1].content!r}")
    errors = [m for m in out["messages"] if isinstance(m, ToolMessage) and m.status == "error"]
    schemas = {f["name"]: f["parameters"] for f in case.functions}
    remaining = list(received)
    for name, args in expected_calls(case):
        if bad := contradicted(case, name, args):
            refusal = next(
                (
                    i
                    for i, m in enumerate(errors)
                    if m.name == name
                    and all(re.search(rf"\b{re.escape(arg)}[.:]", str(m.content)) for arg in bad)
                ),
                None,
            )
            if refusal is None:
                problems.append(
                    f"{name}({args}) contradicts its schema at {bad} but was not refused"
                )
            else:
                errors.pop(refusal)
            continue
        match = next((i for i, (n, a) in enumerate(remaining) if n == name and a == args), None)
        if match is None:
            problems.append(f"no call {name}({args}); received {remaining}")
            continue
        _, got = remaining.pop(match)
        problems += type_problems(got, schemas[name], name)
    problems += [f"unexpected call {n}({a})" for n, a in remaining]
    problems += [f"task failed: {m.content}" for m in errors]
    return problems


def run_cases(cases: list[Case]) -> dict[str, list[str]]:
    failures: dict[str, list[str]] = {}
    for number, case in enumerate(cases):
        problems = run_case(case, positional=number % 2 == 1)
        if problems:
            failures[case.id] = problems
    refused = sum(
        any(contradicted(case, name, args) for name, args in expected_calls(case)) for case in cases
    )
    rate = 100.0 * (len(cases) - len(failures)) / len(cases)
    print(
        f"\nBFCL: {len(cases) - len(failures)}/{len(cases)} records passed ({rate:.1f}%); "
        f"{refused} of them hold ground truth that contradicts its own schema, refused as specified"
    )
    for case_id, problems in failures.items():
        print(f"  {case_id}: {problems}")
    return failures


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return load_cases()


def test_dataset_is_complete(cases: list[Case]) -> None:
    assert len(cases) == 400
    assert sum(len(c.ground_truth) for c in cases) > 800  # several calls per question


def test_only_known_ground_truths_contradict_their_schema(cases: list[Case]) -> None:
    # BFCL's checker accepts these as "variables"; a tool validating its schema must refuse them.
    found = {
        (case.id, name, tuple(bad))
        for case in cases
        for name, args in expected_calls(case)
        if (bad := contradicted(case, name, args))
    }
    assert found == {
        ("parallel_multiple_21", "linear_regression_fit", ("x", "y")),  # x="data['sales']"
        ("parallel_multiple_94", "sort_list", ("elements",)),  # strings for list[int]
    }


def test_bfcl_sample(cases: list[Case]) -> None:
    sample = cases[::10]  # 40 records, both sets, keyword and positional plans
    assert run_cases(sample) == {}


@pytest.mark.slow
def test_bfcl_full(cases: list[Case]) -> None:
    assert run_cases(cases) == {}
