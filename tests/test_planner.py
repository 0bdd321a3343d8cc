"""The streaming plan parser: argument forms, references, thoughts, plan ends, chunking, errors."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcompiler_graph.planner.parser import END_OF_PLAN, PlanParser, parse_plan
from llmcompiler_graph.planner.syntax import ToolSpec
from llmcompiler_graph.planner.tasks import PlannedTask

TOOLS = {
    "search": ToolSpec("search", ("query",), frozenset({"query"}), frozenset({"query"})),
    "math": ToolSpec("math", ("problem", "context"), frozenset({"problem"})),
    "math_toolkit.sum_of_multiples": ToolSpec(
        "math_toolkit.sum_of_multiples", ("limit", "factors"), frozenset({"limit", "factors"})
    ),
    "configure": ToolSpec("configure", ("options", "flag", "extra"), frozenset()),
    "now": ToolSpec("now", (), frozenset()),
}

PAPER_PLAN = """\
Thought: I need both nationalities.
1. search(query="Scott Derrickson")
2. search("Ed Wood")
Thought: I can compare them now.
3. join()<END_OF_PLAN>"""

# A plan touching every feature; its parse must not depend on how it is chunked.
RICH_PLAN = """\
Here is the plan.
Thought: First look both up,
  in parallel.
1. search(query="Ed Wood's (1924) films, \\"best\\" ones")
2. search('Scott Derrickson')
3. math_toolkit.sum_of_multiples(100, factors=[3, 5])
4. math(
    problem="$1 and ${2}: is $3 > $5.00 or $1,200?",
    context=["$1", "$3"],
)
5. configure({"a": [1, 2.5, -3], "b": None}, True, extra=false)
6. serch("typo")
6. search("duplicate number")
7. search("${9}")
Thought: That is all.
8. join()
9. search("after the end")
"""


def parse(text: str, planned: tuple[int, ...] = ()) -> list[PlannedTask]:
    return parse_plan(text, TOOLS, planned=planned).tasks


def one(line: str, planned: tuple[int, ...] = ()) -> PlannedTask:
    tasks = parse(line, planned)
    assert len(tasks) == 1, tasks
    return tasks[0]


def fingerprint(tasks: list[PlannedTask]) -> list[tuple[object, ...]]:
    return [(t.index, t.name, t.args, t.deps, t.thought, t.error) for t in tasks]


def feed_chunks(text: str, cuts: list[int]) -> PlanParser:
    parser = PlanParser(TOOLS)
    start = 0
    for cut in [*sorted(cuts), len(text)]:
        parser.feed(text[start:cut])
        start = cut
    parser.close()
    return parser


# -- the paper's format -----------------------------------------------------------------------


def test_paper_plan() -> None:
    parser = parse_plan(PAPER_PLAN, TOOLS)
    assert fingerprint(parser.tasks) == [
        (
            1,
            "search",
            {"query": "Scott Derrickson"},
            frozenset(),
            "I need both nationalities.",
            None,
        ),
        (2, "search", {"query": "Ed Wood"}, frozenset(), None, None),
    ]
    assert parser.final_thought == "I can compare them now."
    assert parser.done


# -- argument forms ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "args"),
    [
        ('1. search(query="plain")', {"query": "plain"}),
        ("1. search('single quotes')", {"query": "single quotes"}),
        (
            '1. search("commas, (parens) and \\"quotes\\"")',
            {"query": 'commas, (parens) and "quotes"'},
        ),
        ('1. search("it\'s")', {"query": "it's"}),
        ('1. search("""triple "quoted" text""")', {"query": 'triple "quoted" text'}),
        ("1. math(problem=42)", {"problem": 42}),
        ("1. math(-2.5)", {"problem": -2.5}),
        ("1. math(1e3, [1, 2, 3])", {"problem": 1000.0, "context": [1, 2, 3]}),
        ("1. math('x', (1, 'two'))", {"problem": "x", "context": [1, "two"]}),
        ("1. math('x', {3, 3})", {"problem": "x", "context": [3, 3]}),
        (
            '1. configure({"a": {"nested": [1, None]}, 2: "two"}, False, None)',
            {"options": {"a": {"nested": [1, None]}, 2: "two"}, "flag": False, "extra": None},
        ),
        ("1. configure(flag=True)", {"flag": True}),
        (
            "1. configure(flag=true, extra=null, options=false)",
            {"flag": True, "extra": None, "options": False},
        ),
        ("1. configure('pos', extra='kw')", {"options": "pos", "extra": "kw"}),
        ("1. now()", {}),
        ("1. search(query='x')  # a comment", {"query": "x"}),
        ("1) search('paren number')", {"query": "paren number"}),
        ("1: search('colon number')", {"query": "colon number"}),
        ("**1.** search('bold number')", {"query": "bold number"}),
    ],
)
def test_argument_forms(line: str, args: dict[str, object]) -> None:
    task = one(line)
    assert task.error is None, task.error
    assert task.index == 1
    assert task.args == args


def test_positional_arguments_follow_the_schema_order() -> None:
    task = one("1. math_toolkit.sum_of_multiples(1000, [3, 5])")
    assert (task.name, task.args) == (
        "math_toolkit.sum_of_multiples",
        {"limit": 1000, "factors": [3, 5]},
    )
    mixed = one("1. math_toolkit.sum_of_multiples(10, factors=[7])")
    assert mixed.args == {"limit": 10, "factors": [7]}


def test_multi_line_call_with_open_brackets() -> None:
    task = one('1. math(\n  problem="a",\n  context=[\n    "b",\n  ],\n)')
    assert task.error is None and task.args == {"problem": "a", "context": ["b"]}


def test_multi_line_triple_quoted_string() -> None:
    task = one('1. search("""first line\n2. not a task\nThought: not a thought""")')
    assert task.args == {"query": "first line\n2. not a task\nThought: not a thought"}


# -- references -------------------------------------------------------------------------------


def test_references_become_dependencies() -> None:
    tasks = parse('1. search("a")\n2. search("b")\n3. math("$1 + ${2}", ["$1"])\n4. math($3)')
    assert tasks[2].deps == {1, 2} and tasks[2].error is None
    assert tasks[3].args == {"problem": "$3"} and tasks[3].deps == {3}  # bare $3 read as "$3"


@pytest.mark.parametrize(
    "text", ["costs $5.00", "costs $1,200 total", "the $3 fee", "$3", "pay $1.50, not $2,000.00"]
)
def test_prices_are_text_not_references(text: str) -> None:
    # Task 1 exists but none of these is a reference to it; "$3" names no task planned before.
    tasks = parse(f'1. search("x")\n2. search("{text}")')
    assert tasks[1].deps == frozenset()
    if text == "$3":  # an argument that is exactly $N must name an earlier task
        assert tasks[1].error is not None and "$3 refers to task 3" in tasks[1].error
    else:
        assert tasks[1].error is None
        assert tasks[1].args == {"query": text}


def test_dollar_n_in_text_is_a_reference_only_after_task_n() -> None:
    tasks = parse('1. search("costs $2 or $1")\n2. search("x")\n3. search("costs $2 or $1")')
    assert tasks[0].deps == frozenset() and tasks[0].error is None  # $1 is itself, $2 later: text
    assert tasks[2].deps == {1, 2}


def test_references_to_earlier_rounds() -> None:
    tasks = parse('4. math("$1 + ${3}")\n5. math("$4")', planned=(1, 2, 3))
    assert [t.deps for t in tasks] == [{1, 3}, {4}]
    assert all(t.error is None for t in tasks)


# -- thoughts and the end of the plan ----------------------------------------------------------


def test_multi_line_thought_is_kept_with_the_next_task() -> None:
    text = "Thought: first line\nsecond line\n\n3.5 million is not a task\n"
    tasks = parse(text + '1. search("a")\n2. search("b")')
    assert tasks[0].thought == "first line\nsecond line\n3.5 million is not a task"
    assert tasks[1].thought is None
    assert len(tasks) == 2


@pytest.mark.parametrize(
    "ending",
    [
        "3. join()\n4. search('late')",
        "join()\n4. search('late')",
        f"{END_OF_PLAN}\n4. search('late')",
        "",
    ],
)
def test_plan_ends_at_join_end_of_plan_or_end_of_stream(ending: str) -> None:
    parser = PlanParser(TOOLS)
    parser.feed('1. search("a")\n2. search("b")\n' + ending)
    parser.close()
    assert [t.index for t in parser.tasks] == [1, 2]
    assert parser.done


def test_join_stops_the_parser_before_the_stream_ends() -> None:
    parser = PlanParser(TOOLS)
    parser.feed('1. search("a")\n2. join()\n')
    assert parser.done  # the caller can stop reading the model right here
    assert parser.feed('3. search("b")\n') == []


def test_last_line_without_newline_is_parsed_on_close() -> None:
    parser = PlanParser(TOOLS)
    assert parser.feed('1. search("a"') == []
    assert [t.args for t in parser.close()] == [{"query": "a"}]


def test_each_task_is_yielded_as_soon_as_its_closing_paren_arrives() -> None:
    parser = PlanParser(TOOLS)
    assert parser.feed('1. search("a"') == []
    assert [t.index for t in parser.feed(")")] == [1]
    assert parser.feed("  # the rest of the line is commentary\n2. sea") == []
    assert [t.index for t in parser.feed('rch("b")')] == [2]
    assert parser.feed("\n") == []


def test_markdown_fences_and_chatter_are_ignored() -> None:
    tasks = parse('Sure! Here is my plan:\n```\n1. search("a")\n```\nHope this helps.')
    assert [(t.index, t.error) for t in tasks] == [(1, None)]


# -- chunking ---------------------------------------------------------------------------------


def test_one_character_at_a_time_gives_the_same_tasks() -> None:
    whole = parse_plan(RICH_PLAN, TOOLS)
    parser = feed_chunks(RICH_PLAN, list(range(1, len(RICH_PLAN))))
    assert fingerprint(parser.tasks) == fingerprint(whole.tasks)
    assert parser.final_thought == whole.final_thought == "That is all."
    assert [t.index for t in whole.tasks] == [1, 2, 3, 4, 5, 6, -1, 7]


def test_end_of_plan_marker_split_across_chunks() -> None:
    text = '1. search("a")\n2. search("b")<END_OF_PLAN>3. search("c")'
    for cut in range(len(text)):
        parser = feed_chunks(text, [cut, text.index("<") + 5])
        assert [t.index for t in parser.tasks] == [1, 2], cut


@settings(max_examples=150, deadline=None, database=None)
@given(st.lists(st.integers(min_value=0, max_value=len(RICH_PLAN)), max_size=40))
def test_any_chunking_gives_the_same_tasks(cuts: list[int]) -> None:
    assert fingerprint(feed_chunks(RICH_PLAN, cuts).tasks) == fingerprint(parse(RICH_PLAN))


def test_random_chunkings_of_the_paper_plan() -> None:
    rng = random.Random(7)
    expected = fingerprint(parse(PAPER_PLAN))
    for _ in range(200):
        cuts = rng.sample(range(1, len(PAPER_PLAN)), k=rng.randint(1, 30))
        assert fingerprint(feed_chunks(PAPER_PLAN, cuts).tasks) == expected


# -- failures become tasks with precise errors ---------------------------------------------------


@pytest.mark.parametrize(
    ("line", "error"),
    [
        # The text in parentheses is CPython's own message, which differs between versions.
        ("1. search(query=)", "task 1 'search': could not parse the arguments ("),
        ("1. I will search for it", "task 1: expected one tool call on the line; write it as"),
        (
            "1. search(query=some_variable)",
            "task 1 'search': argument 'query' is the bare name some_variable",
        ),
        ("1. search(query=len('x'))", "task 1 'search': argument 'query' is not a literal (Call)"),
        ("1. math(f'{x}')", "task 1 'math': argument 'problem' is not a literal (JoinedStr)"),
        ('1. math("unterminated)', "task 1 'math': the call was never closed"),
        (
            "1. serch('x')",
            "task 1 'serch': unknown tool 'serch'; did you mean 'search'? "
            'write search(query="..."). Available tools:',
        ),
        (
            "1. fly('x')",
            "task 1 'fly': unknown tool 'fly'. Available tools: configure, math, math_toolkit",
        ),
        (
            "1. search(q='x')",
            "task 1 'search': tool 'search' has no argument 'q'; its arguments are: query",
        ),
        (
            "1. search('a', 'b')",
            "task 1 'search': tool 'search' takes 1 argument(s) (query), got 2 positional",
        ),
        (
            "1. math(context=[])",
            "task 1 'math': tool 'math' is missing required argument(s): problem",
        ),
        ("1. search('a', query='b')", "task 1 'search': tool 'search' got argument 'query' twice"),
        (
            "1. search(**{'query': 'x'})",
            "task 1 'search': tool 'search': **kwargs are not supported",
        ),
        (
            "1. search('${2}')",
            "task 1 'search': ${2} refers to task 2, which was not planned before it",
        ),
        (
            "1. search('$2')",
            "task 1 'search': $2 refers to task 2, which was not planned before it",
        ),
        ("1. search('${1}')", "task 1 'search': ${1} refers to itself"),
        ("1. search('$1')", "task 1 'search': $1 refers to itself"),
        ("0. search('x')", "task 0 'search': task numbers start at 1"),
    ],
)
def test_bad_lines_become_failing_tasks(line: str, error: str) -> None:
    task = one(line)
    assert task.error is not None
    assert task.error.startswith(error), task.error
    assert f"(line: {line})" in task.error
    assert task.deps == frozenset()


def test_duplicate_numbers_keep_the_first_and_fail_the_rest() -> None:
    tasks = parse('1. search("a")\n1. search("b")\n2. math("$1")', planned=())
    assert [t.index for t in tasks] == [1, -1, 2]
    assert tasks[0].error is None and tasks[2].error is None and tasks[2].deps == {1}
    assert tasks[1].error is not None and tasks[1].error.startswith(
        "task 1 'search': task number 1 is already used; number tasks uniquely"
    )


def test_number_used_in_an_earlier_round_is_a_duplicate() -> None:
    task = one('2. search("again")', planned=(1, 2))
    assert task.index < 0
    assert task.error is not None and "task number 2 is already used" in task.error


def test_failed_task_numbers_can_still_be_depended_on() -> None:
    # The scheduler then skips task 2, naming task 1's failure.
    tasks = parse('1. serch("x")\n2. math("$1")')
    assert tasks[0].error is not None and tasks[1].error is None and tasks[1].deps == {1}


def test_unclosed_call_is_closed_when_something_new_starts() -> None:
    tasks = parse('Thought: t1\n1. search("a"\nThought: t2\n2. search("b")\n3. math(\n')
    assert [t.index for t in tasks] == [1, 2, 3]
    assert (tasks[0].error, tasks[0].thought, tasks[0].args) == (None, "t1", {"query": "a"})
    assert (tasks[1].error, tasks[1].thought, tasks[1].args) == (None, "t2", {"query": "b"})
    assert tasks[2].error is not None and "never closed" in tasks[2].error


def test_pathological_input_never_raises() -> None:
    junk = [
        "1. search(" + "[" * 500 + "]" * 500 + ")",
        "1. " + "(" * 60 + "\n" * 60,
        "\x00\x01 1. search(\x00)",
        '1. search("""never closed',
    ]
    for text in junk:
        for cuts in ([], [len(text) // 3], list(range(1, len(text), 7))):
            parser = feed_chunks(text, cuts)
            assert parser.done and parser.tasks, text[:40]
            assert all(t.error is not None or t.name in TOOLS for t in parser.tasks)


def test_a_very_long_line_is_parsed_the_same_however_chunked() -> None:
    query = "x" * 300_000
    text = f"1. search('{query}')\n2. join()"
    for cuts in ([], [5, 150_000], list(range(1, len(text), 4096)), list(range(1, 20_000))):
        parser = feed_chunks(text, cuts)
        assert [(t.index, t.args, t.error) for t in parser.tasks] == [(1, {"query": query}, None)]


def test_end_of_plan_inside_a_quoted_argument_is_text() -> None:
    text = '1. search("what does <END_OF_PLAN> mean")\n2. search(\'a\')<END_OF_PLAN>3. search("b")'
    for cuts in ([], list(range(1, len(text)))):
        parser = feed_chunks(text, cuts)
        assert [(t.index, t.args) for t in parser.tasks] == [
            (1, {"query": "what does <END_OF_PLAN> mean"}),
            (2, {"query": "a"}),
        ]
    # Outside a task call (a thought with an apostrophe, say) the marker still ends the plan.
    parser = feed_chunks("Thought: that's it<END_OF_PLAN>\n1. search('x')", [])
    assert [t.name for t in parser.tasks] == [""]  # "the planner wrote no tasks"
    assert parser.final_thought == "that's it"


def test_whitespace_inside_a_multi_line_string_is_kept() -> None:
    task = one('1. search("""two spaces  \nand a tab\t\n""")')
    assert task.args == {"query": "two spaces  \nand a tab\t\n"}


def test_windows_line_endings() -> None:
    tasks = parse('Thought: t\r\n1. search("a")\r\n2. math(\r\n  "b",\r\n)\r\n3. join()\r\n')
    assert [(t.index, t.args, t.thought, t.error) for t in tasks] == [
        (1, {"query": "a"}, "t", None),
        (2, {"problem": "b"}, None, None),
    ]


def test_a_continuation_line_starting_like_a_number_still_closes_at_its_paren() -> None:
    # Found by hypothesis: inside a triple-quoted string "0." cannot start a new task.
    text = '1. search("""\n0.""")\n2. join()'
    parser, emitted = PlanParser(TOOLS), []
    for position, char in enumerate(text):
        emitted += [(position, t.index, t.args) for t in parser.feed(char)]
    assert emitted == [(text.index('""")') + 3, 1, {"query": "\n0."})]
