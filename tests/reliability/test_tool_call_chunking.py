"""Property-based tests of the tool-call plan reader: chunking never changes the plan (hypothesis).

A provider may split a call's JSON arguments anywhere and group the fragments into stream
chunks any way it likes. The reader must read the same tasks however they are split, hand each
call out as soon as the next call begins, and turn any junk into error tasks, never raise.
"""

from __future__ import annotations

import itertools
import json
import os
from typing import Any

import pytest
from fakes.chat_models import ChunkedToolCalls
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import ToolMessage

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.planner.syntax import ToolSpec
from llmcompiler_graph.planner.tasks import PlannedTask
from llmcompiler_graph.planner.tool_calls import ToolCallPlanReader
from llmcompiler_graph.sim import ScriptedChatModel, simulated_math_tool

TOOLS = {
    "search": ToolSpec("search", ("query",), frozenset({"query"})),
    "math": ToolSpec("math", ("problem", "context"), frozenset({"problem"})),
    "kit.sum_of": ToolSpec("kit.sum_of", ("values", "options"), frozenset()),
}
FUZZ = settings(
    max_examples=int(os.environ.get("LLMCOMPILER_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
pytestmark = pytest.mark.timeout(240)

Call = tuple[str, str]  # (tool name, raw JSON arguments)

# -- plans ------------------------------------------------------------------------------------

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
reference = st.integers(1, 6).flatmap(lambda n: st.sampled_from([f"${n}", f"${{{n}}}"]))
value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), text, reference),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
valid_call = st.one_of(
    st.builds(lambda q: ("search", {"query": q}), st.one_of(text, reference)),
    st.builds(
        lambda p, c: ("math", {"problem": p, **({"context": c} if c is not None else {})}),
        st.one_of(text, reference),
        st.one_of(st.none(), st.lists(reference, max_size=3)),
    ),
    st.builds(lambda v: ("kit.sum_of", {"values": v}), value),
)
junk_call = st.tuples(
    st.sampled_from(["search", "math", "serch", "", "join", "kit.sum_of"]),
    st.one_of(text, st.sampled_from(['{"query": ', "[1, 2]", "null", '{"q": 1}', "{}"])),
)
plans = st.lists(
    st.one_of(valid_call.map(lambda c: (c[0], json.dumps(c[1]))), junk_call),
    min_size=1,
    max_size=6,
)


def chunks_for(plan: list[Call], cuts: list[list[int]]) -> list[dict[str, Any]]:
    """Tool-call chunks for ``plan``: each call's header, then its arguments cut at ``cuts``."""
    chunks: list[dict[str, Any]] = []
    for i, ((name, raw), points) in enumerate(zip(plan, cuts, strict=True)):
        chunks.append({"index": i, "id": f"call_{i}", "name": name, "args": ""})
        bounds = [0, *sorted(set(points)), len(raw)]
        for a, b in itertools.pairwise(bounds):
            if a < b:
                chunks.append({"index": i, "id": None, "name": None, "args": raw[a:b]})
    return chunks


def read(chunks: list[dict[str, Any]], groups: list[int] | None = None) -> ToolCallPlanReader:
    """Feed ``chunks`` in message chunks of the sizes in ``groups`` (default: one per message)."""
    reader = ToolCallPlanReader(TOOLS)
    sizes = itertools.cycle(groups or [1])
    position = 0
    while position < len(chunks):
        size = max(1, next(sizes))
        reader.feed(chunks[position : position + size])
        position += size
    reader.close()
    return reader


def snapshot(reader: ToolCallPlanReader) -> list[tuple[Any, ...]]:
    return [(t.index, t.name, repr(t.args), t.deps, t.error, t.line) for t in reader.tasks]


@st.composite
def split_plans(draw: st.DrawFn) -> tuple[list[Call], list[list[int]], list[int]]:
    plan = draw(plans)
    cuts = [draw(st.lists(st.integers(0, max(0, len(raw))), max_size=len(raw))) for _, raw in plan]
    groups = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    return plan, cuts, groups


# -- properties -------------------------------------------------------------------------------


@FUZZ
@given(split=split_plans())
def test_a_plan_reads_the_same_however_it_is_split(
    split: tuple[list[Call], list[list[int]], list[int]],
) -> None:
    plan, cuts, groups = split
    whole = read(chunks_for(plan, [[] for _ in plan]))
    assert snapshot(read(chunks_for(plan, cuts), groups)) == snapshot(whole)


@FUZZ
@given(plan=plans)
def test_any_calls_become_valid_or_error_tasks_numbered_in_order(plan: list[Call]) -> None:
    reader = read(chunks_for(plan, [[] for _ in plan]))
    numbered = [i + 1 for i, (name, _) in enumerate(plan) if name != "join"]
    assert [t.index for t in reader.tasks] == numbered
    for task in reader.tasks:
        assert isinstance(task, PlannedTask)
        if task.error is None:
            assert task.name in TOOLS
            assert set(task.args) <= set(TOOLS[task.name].params)
            assert all(d < task.index for d in task.deps)
        else:
            assert task.error.startswith(f"task {task.index}")


@FUZZ
@given(plan=plans)
def test_each_call_is_handed_out_when_the_next_one_begins(plan: list[Call]) -> None:
    chunks = chunks_for(plan, [[len(raw) // 2] for _, raw in plan])
    reader = ToolCallPlanReader(TOOLS)
    handed: list[int] = []
    for chunk in chunks:
        out = reader.feed([chunk])
        if chunk["name"] is not None and chunk["index"] > 0:
            previous = plan[chunk["index"] - 1][0]
            assert [t.index for t in out] == ([] if previous == "join" else [chunk["index"]])
        else:
            assert out == []
        handed += [t.index for t in out]
    handed += [t.index for t in reader.close()]
    assert handed == [t.index for t in reader.tasks]


VALID = [
    ("search", json.dumps({"query": "Scott Derrickson"})),
    ("search", json.dumps({"query": "Ed Wood ${1}"})),
    ("math", json.dumps({"problem": "$1 + $2 costs $5.00", "context": ["$1", "${2}"]})),
    ("kit.sum_of", json.dumps({"values": [1, 2.5, None, True], "options": {"k": 'é\n"$3"'}})),
]


@pytest.mark.parametrize("call", range(len(VALID)))
def test_arguments_split_at_every_position(call: int) -> None:
    expected = snapshot(read(chunks_for(VALID, [[] for _ in VALID])))
    assert [t.error for t in read(chunks_for(VALID, [[] for _ in VALID])).tasks] == [None] * 4
    raw = VALID[call][1]
    for position in range(len(raw) + 1):
        cuts = [[position] if i == call else [] for i in range(len(VALID))]
        assert snapshot(read(chunks_for(VALID, cuts))) == expected, f"split at {position}"
    every = [list(range(1, len(r))) if i == call else [] for i, (_, r) in enumerate(VALID)]
    assert snapshot(read(chunks_for(VALID, every))) == expected, "one character per chunk"


# -- through the graph ----------------------------------------------------------------------

CHAIN = [
    ("math", json.dumps({"problem": "6 * 7"})),
    ("math", json.dumps({"problem": "$1 + 1"})),
    ("math", json.dumps({"problem": "${2} * 2", "context": ["$1"]})),
]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cuts=st.tuples(*(st.lists(st.integers(0, len(raw)), max_size=8) for _, raw in CHAIN)),
    groups=st.lists(st.integers(1, 5), min_size=1, max_size=4),
)
def test_the_graph_gives_the_same_results_however_the_calls_are_split(
    cuts: tuple[list[int], ...], groups: list[int]
) -> None:
    chunks = chunks_for(CHAIN, list(cuts))
    sizes, grouped, position = itertools.cycle(groups), [], 0
    while position < len(chunks):
        size = next(sizes)
        grouped.append(chunks[position : position + size])
        position += size
    joiner = ScriptedChatModel(responses=["Thought: done.\nAction: Finish(ok)"])
    app = create_llm_compiler(
        ChunkedToolCalls(groups=grouped),
        [simulated_math_tool(latency_s=0.0)],
        joiner_model=joiner,
        plan_format="tool_calls",
    )
    out = app.invoke({"messages": [("user", "q")]})
    results = {
        m.artifact["index"]: m.content for m in out["messages"] if isinstance(m, ToolMessage)
    }
    assert results == {1: "42", 2: "43", 3: "86"}
