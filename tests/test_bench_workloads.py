"""Workloads: dataset parsing, synthetic shapes, and the scripts derived from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.harness import ZERO_TIMINGS, make_tools
from benchmarks.paper import (
    DATASET_FILES,
    dataset_dir,
    hotpot_entities,
    load_paper_cases,
    movie_titles,
    named_entities,
)
from benchmarks.scripts import extract_answer, joiner_reply, parallel_turns, plan_text, react_turns
from benchmarks.synthetic import synthetic_cases
from benchmarks.workloads import PAPER_WORKLOADS, SYNTHETIC_WORKLOADS, Case, levels
from llmcompiler_graph.joiner.decision import parse_decision
from llmcompiler_graph.planner.parser import parse_plan
from llmcompiler_graph.planner.tool_specs import tool_spec
from llmcompiler_graph.sim import simulated_math_tool


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "Were Scott Derrickson and Ed Wood of the same nationality?",
            ("Scott Derrickson", "Ed Wood"),
        ),
        (
            "Which band formed first, Duran Duran or The Fratellis?",
            ("Duran Duran", "The Fratellis"),
        ),
        (
            "Who was born first D. Ross Lederman or Stefan Ruzowitzky?",
            ("D. Ross Lederman", "Stefan Ruzowitzky"),
        ),
        ("No comparison here at all?", None),
    ],
)
def test_hotpot_entities(question: str, expected: tuple[str, str] | None) -> None:
    assert hotpot_entities(question) == expected


def test_movie_titles_rejoin_a_title_with_a_comma() -> None:
    question = (
        "Find a movie similar to Shrek, Monsters, Inc, The Lion King, Cars\nOptions:\nA\nB\nC\nD\n"
    )
    seeds, options = movie_titles(question)
    assert seeds == ["Shrek", "Monsters, Inc", "The Lion King", "Cars"]
    assert options == ["A", "B", "C", "D"]


def test_named_entities_skip_question_words() -> None:
    text = "If Mariana Trench was 20% shallower and the Puerto Rico Trench was 20% deeper, which?"
    assert named_entities(text) == ["Mariana Trench", "Puerto Rico Trench"]


def test_levels_of_a_diamond() -> None:
    case = synthetic_cases("diamond", 1, 0)[0]
    assert [[s.index for s in level] for level in levels(case.steps)] == [[1], [2, 3], [4]]


def _all_cases() -> list[Case]:
    cases = [c for w in SYNTHETIC_WORKLOADS for c in synthetic_cases(w, 2, 5)]
    cases += [c for w in PAPER_WORKLOADS for c in load_paper_cases(w, 5, 1)[0]]
    return cases


def test_scripts_agree_with_the_steps() -> None:
    for case in _all_cases():
        specs = {t.name: tool_spec(t) for t in make_tools(case, ZERO_TIMINGS, [])}
        earlier: list[int] = []
        for number, round_ in enumerate(case.rounds):
            tasks = parse_plan(plan_text(round_), specs, planned=earlier).tasks
            assert [t.error for t in tasks] == [None] * len(round_.steps), case.id
            assert {t.index: t.deps for t in tasks} == {
                s.index: frozenset(s.deps) for s in round_.steps
            }
            decision = parse_decision(joiner_reply(case, number))
            last = number == len(case.rounds) - 1
            assert decision.action == ("finish" if last else "replan")
            if last:
                assert decision.text == case.answer
            earlier += [s.index for s in round_.steps]
        react, parallel = react_turns(case), parallel_turns(case)
        assert [len(t.tool_calls) for t in react] == [1] * len(case.steps) + [0]
        assert len(parallel) == sum(len(levels(r.steps)) for r in case.rounds) + 1
        for turns in (react, parallel):
            calls = [c for t in turns for c in t.tool_calls]
            assert sorted(c["id"] for c in calls) == sorted(f"call_{s.index}" for s in case.steps)
            assert "$" not in str([c["args"].get("context") for c in calls])  # references resolved
            assert extract_answer(str(turns[-1].content)) == case.answer


def test_paper_workloads_have_the_papers_shapes() -> None:
    hotpot = load_paper_cases("hotpotqa", 20, 0)[0]
    assert all(len(c.steps) == 2 and not any(s.deps for s in c.steps) for c in hotpot)
    movie = load_paper_cases("movie", 20, 0)[0]
    assert all([s.tool for s in c.steps] == ["search"] * 8 for c in movie)
    for case in load_paper_cases("parallelqa", 20, 0)[0]:
        branch = int(case.meta["branch"])  # type: ignore[call-overload]
        assert len(case.steps) == 2 * branch + 1
        assert len(levels(case.steps)) == 3
        assert case.steps[-1].deps == tuple(range(branch + 1, 2 * branch + 1))


def test_replan_puzzle_has_a_real_solution_and_real_misses() -> None:
    math = simulated_math_tool(latency_s=0.0)
    for case in synthetic_cases("replan", 4, 0):
        first, second = case.rounds
        assert first.feedback and second.feedback is None
        results = [math.invoke({"problem": s.args["problem"]}) for s in case.steps]
        assert results[:-1].count("24") == 0
        assert results[-1] == "24"
        assert case.answer == f"{case.steps[-1].args['problem']} = 24"


def test_the_papers_datasets_ship_with_the_package() -> None:
    assert sorted(p.name for p in dataset_dir().glob("*.json")) == sorted(DATASET_FILES.values())
    sizes = {w: load_paper_cases(w, 1, 0)[1] for w in PAPER_WORKLOADS}
    assert sizes == {"hotpotqa": 1487, "movie": 500, "parallelqa": 113}


def test_a_missing_dataset_names_the_folder_and_the_option(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        load_paper_cases("movie", 1, 0, tmp_path)
    message = str(info.value)
    assert str(tmp_path / DATASET_FILES["movie"]) in message and "--datasets DIR" in message
