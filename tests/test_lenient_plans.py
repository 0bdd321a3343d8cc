"""Plans as chat models write them: every accepted variant, streamed one character at a time.

Each variant must give exactly the intended calls whether the text arrives whole or one
character per chunk; what cannot be read becomes an error that quotes the line and says how
to write it, and a model that follows those hints recovers in one replan.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.messages import BaseMessage, ToolMessage
from langchain_core.tools import StructuredTool

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.planner.arguments import _CHANGES, NORMALISE
from llmcompiler_graph.planner.parser import PlanParser, ToolSpec, parse_plan
from llmcompiler_graph.planner.tasks import PlannedTask
from llmcompiler_graph.sim import ScriptedChatModel
from tests.fakes.char_model import CharModel

TOOLS = {
    "search": ToolSpec("search", ("query",), frozenset({"query"}), frozenset({"query"})),
    "math": ToolSpec(
        "math", ("problem", "context"), frozenset({"problem"}), frozenset({"problem"})
    ),
    "tag": ToolSpec("tag", ("class", "from", "return"), frozenset({"class"})),
}
X = {"query": "x"}
Y = {"query": "y"}
Calls = list[tuple[int, str, dict[str, Any], frozenset[int]]]


def calls(tasks: list[PlannedTask]) -> Calls:
    assert [t.error for t in tasks] == [None] * len(tasks), [t.error for t in tasks]
    return [(t.index, t.name, t.args, t.deps) for t in tasks]


def by_char(text: str) -> list[PlannedTask]:
    parser = PlanParser(TOOLS)
    for char in text:
        parser.feed(char)
    parser.close()
    return parser.tasks


VARIANTS: list[tuple[str, Calls]] = [
    ('1. `search("x")`', [(1, "search", X, frozenset())]),
    ('`1. search("x")`', [(1, "search", X, frozenset())]),
    ('1. **search**(query="x")', [(1, "search", X, frozenset())]),
    ('**1. search("x")**', [(1, "search", X, frozenset())]),
    ('*1. search("x")*', [(1, "search", X, frozenset())]),
    ('**1.** _search_ no, search("x")', []),  # prose after the number: an error (see below)
    (
        '```python\n1. search("x")\n2. search("y")\n```',
        [(1, "search", X, frozenset()), (2, "search", Y, frozenset())],
    ),
    (
        '```python\nsearch("x")\nsearch("y")\njoin()\n```',
        [(1, "search", X, frozenset()), (2, "search", Y, frozenset())],
    ),
    (
        '```\n- search("x")\n- math("$1 * 2")\n```',
        [(1, "search", X, frozenset()), (2, "math", {"problem": "$1 * 2"}, frozenset({1}))],
    ),
    (
        'Step 1: search("x")\nStep 2: math("${1}")',
        [(1, "search", X, frozenset()), (2, "math", {"problem": "${1}"}, frozenset({1}))],
    ),
    ('Task 1: search("x")', [(1, "search", X, frozenset())]),
    ('- 1. search("x")', [(1, "search", X, frozenset())]),
    (
        '* search("x")\n+ search("y")',
        [(1, "search", X, frozenset()), (2, "search", Y, frozenset())],
    ),
    ('1. search("x")  # look up x (first)', [(1, "search", X, frozenset())]),
    ('1. search("x") - look it up, then compare', [(1, "search", X, frozenset())]),
    ('1. search("x") \u2014 why: it is needed', [(1, "search", X, frozenset())]),
    (
        'Thought: t\r\n1. search("x")\r\n2. search("y")\r\n',
        [(1, "search", X, frozenset()), (2, "search", Y, frozenset())],
    ),
    ("1. search(\u201cx\u201d)", [(1, "search", X, frozenset())]),
    ("1. search(\u2018x\u2019)", [(1, "search", X, frozenset())]),
    (
        "1. search(\u201cArthur\u2019s \u2018best\u2019\u201d)",
        [(1, "search", {"query": "Arthur\u2019s \u2018best\u2019"}, frozenset())],
    ),
    ('1. Search("x")', [(1, "search", X, frozenset())]),
    ('1. SEARCH("x")', [(1, "search", X, frozenset())]),
    ('1. search({"query": "x"})', [(1, "search", X, frozenset())]),
    (
        '1. search("x")\n2. math({"problem": "$1 + 1", "context": ["$1"]})',
        [
            (1, "search", X, frozenset()),
            (2, "math", {"problem": "$1 + 1", "context": ["$1"]}, frozenset({1})),
        ],
    ),
    ('1. search(query: "x")', [(1, "search", X, frozenset())]),
    ('1. search("query": "x")', [(1, "search", X, frozenset())]),
    (
        '1. search("x")\n2. `math(problem: "$1 * 2", context: ["$1"])` # double it',
        [
            (1, "search", X, frozenset()),
            (2, "math", {"problem": "$1 * 2", "context": ["$1"]}, frozenset({1})),
        ],
    ),
    (
        '1. tag(class="x", from=2, return=None)',
        [(1, "tag", {"class": "x", "from": 2, "return": None}, frozenset())],
    ),
    ("1. search(Rosetta)", [(1, "search", {"query": "Rosetta"}, frozenset())]),
    (
        "1. search(First for Women (magazine))",
        [(1, "search", {"query": "First for Women (magazine)"}, frozenset())],
    ),
    (
        '1. math("what is 1.3 times $0?", ["x"]\n2. search("y")',
        [
            (1, "math", {"problem": "what is 1.3 times $0?", "context": ["x"]}, frozenset()),
            (2, "search", Y, frozenset()),
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), VARIANTS)
def test_variant_gives_the_intended_calls_whole_and_one_char_at_a_time(
    text: str, expected: Calls
) -> None:
    whole = parse_plan(text, TOOLS).tasks
    if not expected:
        assert [t.error is not None for t in whole] == [True]
        assert 'write it as N. search(query="...")' in str(whole[0].error)
    else:
        assert calls(whole) == expected
    assert [(t.index, t.name, t.args, t.deps, t.error) for t in by_char(text)] == [
        (t.index, t.name, t.args, t.deps, t.error) for t in whole
    ]


def test_a_task_starts_at_its_closing_paren_never_before() -> None:
    text = '1. search("a) b")  # trailing (commentary)\n2. math(max(1, (2)))\n'
    parser, emitted = PlanParser(TOOLS), []
    for position, char in enumerate(text):
        emitted += [(position, t.index, t.args) for t in parser.feed(char)]
    first, second = text.index(")  #"), text.index(")))") + 2
    assert emitted == [
        (first, 1, {"query": "a) b"}),
        (second, 2, {"problem": "max(1, (2))"}),  # not a literal: the text, as the paper does
    ]
    assert all(t.closed_at > 0 for t in parser.tasks)


def test_an_empty_plan_becomes_an_observation_and_join_alone_does_not() -> None:
    (task,) = parse_plan("I think the answer is 42.", TOOLS).tasks
    assert task.index < 0 and task.error is not None
    assert task.error.startswith("the planner wrote no tasks: 'I think the answer is 42.'")
    assert 'such as 1. search(query="...")' in task.error
    assert parse_plan("Thought: all known already.\njoin()", TOOLS).tasks == []


@pytest.mark.parametrize(
    ("line", "quoted_fix"),
    [
        ('1. serch("x")', "did you mean 'search'? write search(query=\"...\")"),
        ("1. search(query=)", 'write search(query="...")'),
        ("1. tag(from=1)", "missing required argument(s): class; write tag(class=...)"),
        ("1. tag(f'{x}')", "or $N references; write tag(class=...)"),
        ("1. Look up the film", "expected one tool call on the line; write it as N. search"),
    ],
)
def test_errors_quote_the_line_and_name_the_fix(line: str, quoted_fix: str) -> None:
    (task,) = parse_plan(line, TOOLS).tasks
    assert task.error is not None
    assert quoted_fix in task.error and f"(line: {line})" in task.error


# -- in the graph ------------------------------------------------------------------------------


def recording_search(log: list[str]) -> StructuredTool:
    def search(query: str) -> str:
        log.append(query)
        return f"{query} is an American filmmaker."

    return StructuredTool.from_function(search, description="Look something up.")


def test_a_chat_style_plan_runs_the_intended_calls_through_the_graph() -> None:
    log: list[str] = []
    plan = (
        "Sure! Here is the plan:\n```python\n"
        "search(\u201cScott Derrickson\u201d)  # first\n"
        "**Search**(query: 'Ed Wood')\n```\n"
    )
    joiner = ScriptedChatModel(responses=["Thought: ok.\nAction: Finish(both American)"])
    app = create_llm_compiler(
        CharModel(replies=[plan]), [recording_search(log)], joiner_model=joiner
    )
    out = app.invoke({"messages": [("user", "Same nationality?")]})
    assert sorted(log) == ["Ed Wood", "Scott Derrickson"]
    assert out["messages"][-1].content == "both American"


_HINT = re.compile(r"did you mean '(\w+)'\?.*\(line: (\d+)\. \w+(\(.*\))\)$", re.M)


def hint_follower(messages: list[BaseMessage]) -> str:
    """A planner that first misspells the tool, then rewrites each line as the error says."""
    text = "\n".join(str(m.content) for m in messages)
    fixes = _HINT.findall(text)
    if not fixes:
        return '1. serch("Ed Wood")\n2. join()<END_OF_PLAN>'
    start = int(re.findall(r"numbered from (\d+)|Start numbering at (\d+)", text)[-1][0] or 2)
    lines = [f"{start + i}. {name}{args}" for i, (name, _, args) in enumerate(fixes)]
    return "\n".join([*lines, f"{start + len(lines)}. join()<END_OF_PLAN>"])


def joiner(messages: list[BaseMessage]) -> str:
    last = str(messages[-1].content)
    if "American filmmaker" in last:
        return "Thought: found.\nAction: Finish(Ed Wood was American.)"
    return "Thought: the tool name was wrong.\nAction: Replan(follow the error's fix)"


def test_a_model_that_follows_the_error_hints_recovers_in_one_replan() -> None:
    log: list[str] = []
    planner = CharModel(reply=hint_follower)
    app = create_llm_compiler(
        planner, [recording_search(log)], joiner_model=ScriptedChatModel(responses=joiner)
    )
    out = app.invoke({"messages": [("user", "Where was Ed Wood from?")]})
    assert len(planner.calls) == 2  # the first plan and one replan
    assert log == ["Ed Wood"]
    failed = [m for m in out["messages"] if isinstance(m, ToolMessage) and m.status == "error"]
    assert len(failed) == 1 and "did you mean 'search'?" in str(failed[0].content)
    assert out["messages"][-1].content == "Ed Wood was American."


# Each normaliser is skipped when its quick test says the text has nothing for it (for
# dispatch latency): the test must never skip a pass that would have changed the text.
_PIECES = [*"abc =,$1{}()\"'`\\\n", "\u201c", "\u201d", "\u2018", "\u2019", "class=", "$2", "${3}"]
_ARG_TEXT = st.lists(st.sampled_from(_PIECES), max_size=24).map("".join)


@settings(max_examples=400, deadline=None)
@given(_ARG_TEXT)
def test_a_normaliser_is_skipped_only_when_it_would_change_nothing(text: str) -> None:
    for normalise in NORMALISE:
        needed = _CHANGES[normalise]
        if not needed(text):
            assert normalise(text) == text, normalise.__name__


# Quoted strings without escapes are read without compiling: the
# call read that way must be exactly the one ast reads, and anything else is left to ast.
_NAMES = st.sampled_from(["query", "q", "_x", "class", "return", "a1", "match", "\u00e9t\u00e9"])
_TEXTS = st.text(max_size=12) | st.text(alphabet="ab \t'\"\\\n\r\x00\ud800", max_size=8)
_SEPARATORS = st.sampled_from(["", " ", "\n", "\t", "\r", "\u00a0", "\f", " # note\n"])


@st.composite
def _call_sources(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.none() | _NAMES)
        quote = draw(st.sampled_from(["'", '"', '"""', "f'"]))
        text = f"{quote}{draw(_TEXTS)}{quote[-1]}"
        gap = draw(_SEPARATORS)
        parts.append(text if name is None else f"{name}{gap}={gap}{text}")
    comma = draw(st.sampled_from([",", ", ", ",\n", " , "]))
    return draw(_SEPARATORS) + comma.join(parts) + draw(st.sampled_from(["", ",", " ", ",,"]))


@settings(max_examples=600, deadline=None)
@given(_call_sources() | st.text(max_size=30))
def test_a_call_read_without_compiling_is_the_one_ast_reads(source: str) -> None:
    import ast

    from llmcompiler_graph.planner.arguments import _simple_call

    fast = _simple_call(source)
    if fast is None:
        return
    assert ast.dump(fast) == ast.dump(ast.parse(f"_({source}\n)", mode="eval").body)


@pytest.mark.parametrize(
    "source",
    ['"Ed Wood"', "'Ed Wood'", 'query="x y"', " query = \"a\" ,\n problem='b', ", '"a", q="b"'],
)
def test_plain_quoted_arguments_are_read_without_compiling(source: str) -> None:
    import ast

    from llmcompiler_graph.planner.arguments import _simple_call

    fast = _simple_call(source)
    assert fast is not None
    assert ast.dump(fast) == ast.dump(ast.parse(f"_({source}\n)", mode="eval").body)


@pytest.mark.parametrize(
    "source",
    [
        'q="a\\nb"',
        'q="a\ud800"',
        'q="a\x00"',
        'q="a\rb"',
        'q=\u00a0"a"',
        'q="a", "b"',
        'q="a", q="b"',
        'class="a"',
        'q=f"a"',
        'q="a" "b"',
        'q="a" # why',
        "q=1",
        "",
    ],
)
def test_anything_else_is_left_to_ast(source: str) -> None:
    from llmcompiler_graph.planner.arguments import _simple_call

    assert _simple_call(source) is None
