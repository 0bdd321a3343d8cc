"""The LLMCompiler paper's own few-shot plans, streamed one character at a time through the graph.

The plans are the ones in SqueezeAILab/LLMCompiler's ``configs/hotpotqa``, ``configs/movie`` and
``configs/parallelqa`` (``gpt_prompts.py``; ``llama_prompts.py`` adds three HotpotQA plans),
and two plans GPT-4 wrote in LlamaIndex's LLMCompiler notebook. Expected calls are what the
paper's parser hands the tools, from our reading of it: a numbered line ``N. tool(args)`` up
to the line's last ``)``; the arguments are a Python literal if they parse as one, else the
raw text (``search(Rosetta)`` searches "Rosetta"); a tuple is spread positionally; ``$N`` in
a string (or a list of strings) is replaced by task N's result. Two departures, both better:
the paper's regex drops ParallelQA's ``math(...`` lines whose ``)`` is missing (so its task 7
would wait for tasks that never exist); we close them at the end of their line. And
``add($1, 42)`` (not a literal to the paper's parser) is ``add(a=<result of 1>, b=42)`` here,
which is what the recorded run's observation (405) shows the tool received.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from langchain_core.tools import BaseTool, StructuredTool

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.sim import ScriptedChatModel
from tests.fakes.char_model import CharModel

HOTPOTQA = [
    (
        '1. search("Arthur\'s Magazine")\n2. search("First for Women (magazine)")\n'
        "Thought: I can answer the question now.\n3. join()<END_OF_PLAN>\n",
        ["Arthur's Magazine", "First for Women (magazine)"],
    ),
    (
        '1. search("Pavel Urysohn")\n2. search("Leonid Levin")\n'
        "Thought: I can answer the question now.\n3. join()<END_OF_PLAN>\n",
        ["Pavel Urysohn", "Leonid Levin"],
    ),
    (
        '1. search("Pam Veasey")\n2. search("Jon Jost")\n'
        "Thought: I can answer the question now.\n3. join()<END_OF_PLAN>\n",
        ["Pam Veasey", "Jon Jost"],
    ),
    (
        '1. search("Nicholas Ray")\n2. search("Elia Kazan")\n'
        "Thought: I can answer the question now.\n3. join()<END_OF_PLAN>\n",
        ["Nicholas Ray", "Elia Kazan"],
    ),
    (
        '1. search("Jeff Bezos")\n2. search("Elon Musk")\n'
        "Thought: I cannot answer the question before I know who is older.\n"
        "3. join()<END_OF_PLAN>\n",
        ["Jeff Bezos", "Elon Musk"],
    ),
]
MOVIE = (
    "Thought: I need to find all movies in the Question.\n"
    '1. search("Mission Impossible")\n'
    '2. search("The Silence of the Lambs")\n'
    '3. search("American Beauty")\n'
    '4. search("Star Wars Episode IV - A New Hope")\n'
    "Thought: I need to find all movies in the Options.\n"
    "5. search(Austin Powers International Man of Mystery)\n"
    "6. search(Alesha Popvich and Tugarin the Dragon)\n"
    "7. search(In Cold Blood)\n"
    "8. search(Rosetta)\n"
    "Thought: I can answer the question now.\n"
    "9. join()<END_OF_PLAN>\n"
)
MOVIE_SEARCHES = [
    "Mission Impossible",
    "The Silence of the Lambs",
    "American Beauty",
    "Star Wars Episode IV - A New Hope",
    "Austin Powers International Man of Mystery",
    "Alesha Popvich and Tugarin the Dragon",
    "In Cold Blood",
    "Rosetta",
]


def found(query: str) -> str:
    return f"About {query}: it measures 100 units."


M = "7"  # what the recording math tool answers
PARALLELQA: list[tuple[str, list[str], list[tuple[str, list[str] | None]]]] = [
    (
        '1. search("cheetah")\n'
        '2. math("cheetah max speed in km/h if 1.3 times slower?", ["$1"]\n'
        '3. search("greyhound")\n'
        '4. math("greyhound max speed in km/h if 1.5 times faster?", ["$3"]\n'
        '5. search("falcon")\n'
        '6. math("falcon max speed in km/h if 2.3 times slower?", ["$5"]\n'
        '7. math("max($2, $4, $6) / min($2, $4, $6)")\n'
        "Thought: I can answer the question now.\n8. join()<END_OF_PLAN>\n",
        ["cheetah", "greyhound", "falcon"],
        [
            ("cheetah max speed in km/h if 1.3 times slower?", [found("cheetah")]),
            ("greyhound max speed in km/h if 1.5 times faster?", [found("greyhound")]),
            ("falcon max speed in km/h if 2.3 times slower?", [found("falcon")]),
            (f"max({M}, {M}, {M}) / min({M}, {M}, {M})", None),
        ],
    ),
    (
        "1. search('Mount Everest')\n"
        '2. math("half of Mount Everest height in meter?", ["$1"])\n'
        '3. search("Mount Kilimanjaro")\n'
        '4. math("double of Mount Kilimanjaro height in meter?", ["$3"])\n'
        '5. math("abs($3 - $4)")\n'
        "Thought: I can answer the question now.\n6. join()<END_OF_PLAN>\n",
        ["Mount Everest", "Mount Kilimanjaro"],
        [
            ("half of Mount Everest height in meter?", [found("Mount Everest")]),
            ("double of Mount Kilimanjaro height in meter?", [found("Mount Kilimanjaro")]),
            (f"abs({found('Mount Kilimanjaro')} - {M})", None),  # the paper's own $3 slip
        ],
    ),
    (
        "1. search('Sahara Desert')\n"
        "2. math('Sahara Desert area in km^2 if reduced by 33%?', ['$1'])\n"
        '3. search("Kalahari Desert")\n'
        "4. math('Kalahari Desert area in km^2 if magnified by 52%?', ['$3'])\n"
        "Thought: I can compare the numbers without calling math.\n5. join()<END_OF_PLAN>\n",
        ["Sahara Desert", "Kalahari Desert"],
        [
            ("Sahara Desert area in km^2 if reduced by 33%?", [found("Sahara Desert")]),
            ("Kalahari Desert area in km^2 if magnified by 52%?", [found("Kalahari Desert")]),
        ],
    ),
    (
        "1. search('Mariana Trench')\n2. search('Puerto Rico Trench')\n"
        "3. math('absolute depth difference between Mariana and Puerto Rico Trench in meters?',"
        " ['$1', '$2'])\n"
        "4. search('South Sandwich Trench')\n5. search('Sunda Trench')\n"
        "6. math('absolute depth difference between South Sandwich and Sunda Trench in meters?',"
        " ['$4', '$5'])\n"
        "7. math('min($3, $6)')\n"
        "Thought: I can answer the question now.\n8. join()<END_OF_PLAN>\n",
        ["Mariana Trench", "Puerto Rico Trench", "South Sandwich Trench", "Sunda Trench"],
        [
            (
                "absolute depth difference between Mariana and Puerto Rico Trench in meters?",
                [found("Mariana Trench"), found("Puerto Rico Trench")],
            ),
            (
                "absolute depth difference between South Sandwich and Sunda Trench in meters?",
                [found("South Sandwich Trench"), found("Sunda Trench")],
            ),
            (f"min({M}, {M})", None),
        ],
    ),
    (
        "1. search('Mount Everest')\n2. search('Mount Kilimanjaro')\n"
        "3. math('height of Mount Everest / height of Mount Kilimanjaro', ['$1', '$2'])\n"
        "Thought: I can answer the question now.\n4. join()<END_OF_PLAN>\n",
        ["Mount Everest", "Mount Kilimanjaro"],
        [
            (
                "height of Mount Everest / height of Mount Kilimanjaro",
                [found("Mount Everest"), found("Mount Kilimanjaro")],
            )
        ],
    ),
]


class Recorder:
    """Tools in the paper's shape (``search(entity)``, ``math(problem, context)``) that record."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def record(self, name: str, *args: Any) -> None:
        with self.lock:
            self.calls.append((name, args))

    def tools(self) -> list[BaseTool]:
        def search(entity: str) -> str:
            self.record("search", entity)
            return found(entity)

        def math(problem: str, context: list[str] | None = None) -> str:
            self.record("math", problem, context)
            return M

        return [
            StructuredTool.from_function(search, description="search(entity) -> paragraph"),
            StructuredTool.from_function(math, description="math(problem, context) -> number"),
        ]

    def of(self, name: str) -> list[tuple[Any, ...]]:
        return sorted((args for tool, args in self.calls if tool == name), key=repr)


def run(plan: str, tools: list[BaseTool]) -> CharModel:
    planner = CharModel(replies=[plan])
    joiner = ScriptedChatModel(responses=["Thought: done.\nAction: Finish(done)"])
    app = create_llm_compiler(planner, tools, joiner_model=joiner, max_replans=0)
    out = app.invoke({"messages": [("user", "question")]})
    assert out["messages"][-1].content == "done"
    return planner


@pytest.mark.parametrize(("plan", "searches"), [*HOTPOTQA, (MOVIE, MOVIE_SEARCHES)])
def test_hotpotqa_and_movie_plans_search_what_the_paper_searches(
    plan: str, searches: list[str]
) -> None:
    recorder = Recorder()
    planner = run(plan, recorder.tools())
    assert recorder.of("search") == sorted(((q,) for q in searches), key=repr)
    assert recorder.of("math") == []
    assert planner.stops == [["<END_OF_PLAN>"]]  # asked to stop where the plan stops


@pytest.mark.parametrize(("plan", "searches", "maths"), PARALLELQA)
def test_parallelqa_plans_give_math_the_problem_and_its_context(
    plan: str, searches: list[str], maths: list[tuple[str, list[str] | None]]
) -> None:
    recorder = Recorder()
    run(plan, recorder.tools())
    assert recorder.of("search") == sorted(((q,) for q in searches), key=repr)
    assert recorder.of("math") == sorted(maths, key=repr)


def test_llamaindex_recorded_gpt4_plans() -> None:
    got: list[tuple[str, object]] = []

    def multiply(a: int, b: int) -> int:
        got.append(("multiply", (a, b)))
        return a * b

    def add(a: int, b: int) -> int:
        got.append(("add", (a, b)))
        return a + b

    plan = "1. multiply(121, 3)\n2. add($1, 42)\nThought: I can answer the question now.\n"
    arithmetic = [StructuredTool.from_function(f, description=f.__name__) for f in (multiply, add)]
    run(plan + "3. join()<END_OF_PLAN>\n", arithmetic)
    assert got == [("multiply", (121, 3)), ("add", (363, 42))]  # the run observed 405

    def tool_for(city: str) -> BaseTool:
        def ask(input: str) -> str:
            got.append((city, input))
            return f"{city}: {input}"

        return StructuredTool.from_function(ask, name=f"vector_tool_{city}", description=city)

    got.clear()
    cities = [tool_for(c) for c in ("Miami", "Chicago", "Seattle")]
    run(
        '1. vector_tool_Miami("demographics")\n2. vector_tool_Chicago("demographics")\n'
        "3. join()<END_OF_PLAN>\n",
        cities,
    )
    run(
        '1. vector_tool_Chicago("climate during wintertime")\n'
        '2. vector_tool_Seattle("climate during wintertime")\n3. join()<END_OF_PLAN>\n',
        cities,
    )
    assert sorted(got) == [
        ("Chicago", "climate during wintertime"),
        ("Chicago", "demographics"),
        ("Miami", "demographics"),
        ("Seattle", "climate during wintertime"),
    ]


def test_a_model_that_refuses_stop_is_asked_again_without_it() -> None:
    recorder = Recorder()
    planner = CharModel(replies=[HOTPOTQA[0][0]], refuse_stop=True)
    joiner = ScriptedChatModel(responses=["Thought: done.\nAction: Finish(done)"])
    app = create_llm_compiler(planner, recorder.tools(), joiner_model=joiner)
    out = app.invoke({"messages": [("user", "q")]})
    assert out["messages"][-1].content == "done"
    assert planner.stops == [["<END_OF_PLAN>"], None]
    assert recorder.of("search") == [("Arthur's Magazine",), ("First for Women (magazine)",)]
