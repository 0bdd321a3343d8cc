"""The compiled graph end to end, with scripted streaming models (no network)."""

from __future__ import annotations

import itertools
import re
import threading
import time
from typing import Any, Literal
from uuid import UUID

import pytest
from fakes.chat_models import FaultyPlanner
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.sim import LatencyProfile, ScriptedChatModel

pytestmark = pytest.mark.timeout(60)

QUESTION = "Were Scott Derrickson and Ed Wood of the same nationality?"
FACTS = {
    "Scott Derrickson": "Scott Derrickson (born 1966) is an American film director.",
    "Ed Wood": "Edward Davis Wood Jr. (1924-1978) was an American filmmaker.",
}
PLAN = """\
Thought: I need both nationalities.
1. search(query="Scott Derrickson")
2. search("Ed Wood")
Thought: I can compare them now.
3. join()<END_OF_PLAN>"""
FINISH = "Thought: Both are American.\nAction: Finish(Yes, both are American (born in the US).)"


class Calls:
    """Plain-function tools that record their arguments and start/end times."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.log: list[tuple[str, dict[str, Any], float, float]] = []

    def record(self, name: str, args: dict[str, Any], start: float) -> None:
        with self.lock:
            self.log.append((name, args, start, time.perf_counter()))

    def search_tool(self) -> Any:
        def search(query: str) -> str:
            """Look up a person or fact on the web."""
            start = time.perf_counter()
            time.sleep(self.delay)
            self.record("search", {"query": query}, start)
            if query not in FACTS:
                raise LookupError(f"no page for {query!r}")
            return FACTS[query]

        return search

    def compare_tool(self) -> Any:
        def compare(first: str, second: str) -> dict[str, str]:
            """Compare two texts and say what they share."""
            start = time.perf_counter()
            self.record("compare", {"first": first, "second": second}, start)
            same = "American" in first and "American" in second
            return {"verdict": "same nationality" if same else "different"}

        return compare


def ask(app: Any, question: str = QUESTION, **kwargs: Any) -> list[BaseMessage]:
    out = app.invoke({"messages": [HumanMessage(question)]}, **kwargs)
    messages: list[BaseMessage] = out["messages"]
    return messages


def planner_next_index(messages: list[BaseMessage]) -> int:
    """Where the planner is told to number from: 1, or what the replan message says."""
    system = str(messages[0].content)
    assert "Number the steps from 1" in system, "the planner prompt says where numbering starts"
    match = re.search(r"numbered from (\d+)", str(messages[-1].content))
    return int(match.group(1)) if match and len(messages) > 2 else 1


# -- end to end -------------------------------------------------------------------------------


def test_end_to_end_with_plain_function_tools_and_transcript_shape() -> None:
    calls = Calls(delay=0.5)
    planner = ScriptedChatModel(responses=[PLAN])
    joiner = ScriptedChatModel(responses=[FINISH])
    app = create_llm_compiler(planner, [calls.search_tool()], joiner_model=joiner)
    assert app.name == "LLMCompiler"

    messages = ask(app)
    human, plan, r1, r2, answer = messages
    assert isinstance(human, HumanMessage)
    assert isinstance(plan, AIMessage)
    assert [(c["name"], c["args"]) for c in plan.tool_calls] == [
        ("search", {"query": "Scott Derrickson"}),
        ("search", {"query": "Ed Wood"}),
    ]
    assert isinstance(r1, ToolMessage) and isinstance(r2, ToolMessage)
    assert [r1.tool_call_id, r2.tool_call_id] == [c["id"] for c in plan.tool_calls]
    assert [r1.status, r2.status] == ["success", "success"]
    assert {r1.content, r2.content} == set(FACTS.values())
    assert isinstance(answer, AIMessage) and not answer.tool_calls
    assert answer.content == "Yes, both are American (born in the US)."
    # The joiner saw both observations.
    joiner_prompt = "\n".join(str(m.content) for m in joiner.calls[0])
    assert all(fact in joiner_prompt for fact in FACTS.values())
    # The two independent searches overlapped.
    (_, _, s1, e1), (_, _, s2, e2) = calls.log
    assert max(s1, s2) < min(e1, e2)


def test_positional_arguments_map_onto_the_tool_signature() -> None:
    calls = Calls()
    planner = ScriptedChatModel(
        responses=['1. compare("American director", "American filmmaker")\n2. join()']
    )
    joiner = ScriptedChatModel(responses=["Action: Finish(done)"])
    app = create_llm_compiler(planner, [calls.compare_tool()], joiner_model=joiner)
    messages = ask(app)
    assert calls.log[0][1] == {"first": "American director", "second": "American filmmaker"}
    # As under ToolNode, a dict result's message content is its JSON text.
    assert messages[2].content == '{"verdict": "same nationality"}'


def test_tasks_start_while_the_planner_is_still_streaming() -> None:
    class TokenTimes(BaseCallbackHandler):
        def __init__(self) -> None:
            self.by_run: dict[UUID, list[float]] = {}

        def on_llm_new_token(self, token: str, *, run_id: UUID, **kwargs: Any) -> None:
            self.by_run.setdefault(run_id, []).append(time.perf_counter())

    calls = Calls()
    thought = "Thought: " + " ".join(["while task one runs I keep writing"] * 6)
    plan = f'1. search("Scott Derrickson")\n{thought}\n2. search("Ed Wood")\n3. join()'
    slow = LatencyProfile("slow", 0.0, 80.0, 0.0, 0.0)  # ~60 tokens after line 1: ~0.75 s
    planner = ScriptedChatModel(responses=[plan], latency=slow)
    joiner = ScriptedChatModel(responses=[FINISH])
    app = create_llm_compiler(planner, [calls.search_tool()], joiner_model=joiner)
    tokens = TokenTimes()
    ask(app, config={"callbacks": [tokens]})
    planner_tokens = min(tokens.by_run.values())  # the first model run is the planner's
    first_start = min(
        start for name, args, start, _ in calls.log if args["query"] == "Scott Derrickson"
    )
    last_token = max(planner_tokens)
    assert first_start < last_token - 0.2, "task 1 waited for the plan to end"


def test_replanning_continues_numbering_and_references_earlier_results() -> None:
    calls = Calls()
    plan1 = '1. search("Scott Derrickson")\n2. search("Edward Wood Junior")\n3. join()'
    plan2 = '3. search("Ed Wood")\n4. compare("$1", second="$3")\n5. join()'
    planner = ScriptedChatModel(responses=[plan1, plan2])
    joiner = ScriptedChatModel(
        responses=[
            "Thought: task 2 failed.\nAction: Replan(search for Ed Wood under his usual name)",
            "Thought: both American.\nAction: Finish(Yes, both are American.)",
        ]
    )
    app = create_llm_compiler(
        planner, [calls.search_tool(), calls.compare_tool()], joiner_model=joiner
    )
    messages = ask(app)

    kinds = [type(m).__name__ for m in messages]
    assert kinds == [
        "HumanMessage",
        "AIMessage",  # plan 1
        "ToolMessage",
        "ToolMessage",
        "AIMessage",  # replan
        "AIMessage",  # plan 2
        "ToolMessage",
        "ToolMessage",
        "AIMessage",  # answer
    ]
    failed = messages[3]
    assert isinstance(failed, ToolMessage) and failed.status == "error"
    assert "task 2 'search' failed: LookupError" in str(failed.content)
    assert "search for Ed Wood under his usual name" in str(messages[4].content)
    # The second plan was asked to continue at 3 and saw the first plan's results.
    second_prompt = planner.calls[1]
    assert planner_next_index(second_prompt) == 3
    assert FACTS["Scott Derrickson"] in "\n".join(str(m.content) for m in second_prompt)
    # $1 (from plan 1) and $3 reached compare as the results themselves.
    compare_args = next(args for name, args, *_ in calls.log if name == "compare")
    assert compare_args == {"first": FACTS["Scott Derrickson"], "second": FACTS["Ed Wood"]}
    assert messages[7].status == "success"
    assert messages[-1].content == "Yes, both are American."


def test_replan_limit_forces_a_final_answer() -> None:
    calls = Calls()

    def planner_reply(messages: list[BaseMessage]) -> str:
        n = planner_next_index(messages)
        return f'{n}. search("Ed Wood")\n{n + 1}. join()'

    planner = ScriptedChatModel(responses=planner_reply)
    joiner = ScriptedChatModel(
        responses=lambda messages: "Thought: not sure yet.\nAction: Replan(check again)"
    )
    app = create_llm_compiler(planner, [calls.search_tool()], joiner_model=joiner, max_replans=2)
    messages = ask(app)
    assert len(planner.calls) == 3 and len(joiner.calls) == 3  # max_replans + 1 rounds
    assert [planner_next_index(p) for p in planner.calls] == [1, 2, 3]
    answer = messages[-1]
    assert isinstance(answer, AIMessage)
    assert "could not complete this within 2 replan(s)" in str(answer.content)
    assert "cannot replan any more" in str(joiner.calls[-1][-1].content)  # after the results


def test_joiner_reply_in_neither_format_is_the_answer() -> None:
    planner = ScriptedChatModel(responses=[PLAN])
    joiner = ScriptedChatModel(responses=["They were both American."])
    app = create_llm_compiler(planner, [Calls().search_tool()], joiner_model=joiner)
    assert ask(app)[-1].content == "They were both American."


def test_two_threads_invoking_one_graph_get_their_own_answers() -> None:
    calls = Calls(delay=0.4)

    def planner_reply(messages: list[BaseMessage]) -> str:
        person = str(messages[-1].content).removeprefix("Who is ").removesuffix("?")
        return f'1. search("{person}")\n2. join()'

    def joiner_reply(messages: list[BaseMessage]) -> str:
        observation = re.search(r"Observation: (.*)", str(messages[-1].content))
        assert observation is not None
        return f"Action: Finish({observation.group(1)})"

    model = ScriptedChatModel(responses=planner_reply)
    app = create_llm_compiler(
        model, [calls.search_tool()], joiner_model=ScriptedChatModel(responses=joiner_reply)
    )
    people = ["Scott Derrickson", "Ed Wood"] * 3
    answers: dict[int, str] = {}
    barrier = threading.Barrier(len(people))

    def worker(i: int) -> None:
        barrier.wait()
        answers[i] = str(ask(app, f"Who is {people[i]}?")[-1].content)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(people))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert answers == {i: FACTS[p] for i, p in enumerate(people)}
    # Their tool calls overlapped: the invocations really ran at the same time.
    spans = sorted((start, end) for *_, start, end in calls.log)
    assert any(b_start < a_end for (_, a_end), (b_start, _) in itertools.pairwise(spans))


# -- bad model output ends with an observation and an answer ---------------------------------


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("1. search(query=)", "task 1 'search': could not parse the arguments"),
        ("1. serch('Ed Wood')", "task 1 'serch': unknown tool 'serch'; did you mean 'search'?"),
        ("1. search(name='Ed Wood')", "task 1 'search': tool 'search' has no argument 'name'"),
        ("1. search('a', 'b')", "task 1 'search': tool 'search' takes 1 argument(s)"),
        ("1. search()", "task 1 'search': tool 'search' is missing required argument(s): query"),
        ("1. search('${2}')\n2. search('Ed Wood')", "task 1 'search': ${2} refers to task 2"),
        ("1. search('$1')", "task 1 'search': $1 refers to itself"),
        (
            "1. search('Ed Wood')\n1. search('Ed Wood')",
            "task 1 'search': task number 1 is already used",
        ),
        ("1. search(['Ed Wood'", "task 1 'search': the call was never closed"),
    ],
)
def test_each_parser_failure_ends_with_an_observation_and_an_answer(line: str, error: str) -> None:
    def joiner_reply(messages: list[BaseMessage]) -> str:
        errors = re.findall(r"Observation: ERROR: (.*)", str(messages[-1].content))
        return f"Thought: the plan failed.\nAction: Finish(failed: {' | '.join(errors)})"

    planner = ScriptedChatModel(responses=[line])
    app = create_llm_compiler(
        planner, [Calls().search_tool()], joiner_model=ScriptedChatModel(responses=joiner_reply)
    )
    messages = ask(app)
    failures = [m for m in messages if isinstance(m, ToolMessage) and m.status == "error"]
    assert failures and any(str(m.content).startswith(error) for m in failures), failures
    answer = messages[-1]
    assert isinstance(answer, AIMessage) and str(answer.content).startswith("failed: ")
    assert error in str(answer.content)


def test_planner_stream_failing_mid_stream() -> None:
    calls = Calls()
    text = '1. search("Ed Wood")\n2. search("Scott Der'
    planner = FaultyPlanner(
        chunks=re.findall(r".{1,5}", text, re.S),
        error="connection reset",
        error_type=ConnectionError,
    )
    joiner = ScriptedChatModel(
        responses=["Action: Finish(Ed Wood was American; the rest is unknown.)"]
    )
    app = create_llm_compiler(planner, [calls.search_tool()], joiner_model=joiner)
    messages = ask(app)
    plan = messages[1]
    assert isinstance(plan, AIMessage)
    assert "the planner's stream failed: ConnectionError: connection reset" in str(plan.content)
    assert [args for _, args, *_ in calls.log] == [{"query": "Ed Wood"}]  # the complete line ran
    results = [m for m in messages if isinstance(m, ToolMessage)]
    assert results[0].status == "success"
    assert all(r.status == "error" for r in results[1:])  # the cut-off line, if reported
    joiner_prompt = str(joiner.calls[0][-1].content)
    assert "connection reset" in joiner_prompt
    assert messages[-1].content == "Ed Wood was American; the rest is unknown."


def test_joiner_failing_still_ends_with_an_answer() -> None:
    planner = ScriptedChatModel(responses=[PLAN])
    joiner = ScriptedChatModel(responses=[])  # raises ScriptExhaustedError when called
    app = create_llm_compiler(planner, [Calls().search_tool()], joiner_model=joiner)
    answer = ask(app)[-1]
    assert isinstance(answer, AIMessage)
    assert str(answer.content).startswith("I could not finish: the joiner model failed")
    assert FACTS["Ed Wood"] in str(answer.content)


def test_tool_runs_are_children_of_the_plan_and_schedule_node() -> None:
    class Runs(BaseCallbackHandler):
        def __init__(self) -> None:
            self.names: dict[UUID, str] = {}
            self.tool_parents: list[UUID | None] = []
            self.lock = threading.Lock()

        def on_chain_start(
            self, serialized: Any, inputs: Any, *, run_id: UUID, **kwargs: Any
        ) -> None:
            with self.lock:
                self.names[run_id] = str(kwargs.get("name"))

        def on_tool_start(
            self,
            serialized: Any,
            input_str: str,
            *,
            run_id: UUID,
            parent_run_id: UUID | None = None,
            **kwargs: Any,
        ) -> None:
            with self.lock:
                self.tool_parents.append(parent_run_id)

    runs = Runs()
    planner = ScriptedChatModel(responses=[PLAN])
    app = create_llm_compiler(
        planner, [Calls().search_tool()], joiner_model=ScriptedChatModel(responses=[FINISH])
    )
    ask(app, config={"callbacks": [runs], "tags": ["t"]})
    assert len(runs.tool_parents) == 2
    assert all(
        p is not None and runs.names.get(p) == "plan_and_schedule" for p in runs.tool_parents
    )


def test_exact_reference_passes_the_object_and_text_reference_passes_text() -> None:
    received: dict[str, Any] = {}

    def lookup(name: str) -> dict[str, Any]:
        """Return a record about a person."""
        return {"name": name, "born": 1924}

    def describe(record: dict[str, Any], note: str) -> str:
        """Describe a record with a note."""
        received.update(record=record, note=note)
        return "ok"

    planner = ScriptedChatModel(
        responses=['1. lookup("Ed Wood")\n2. describe("$1", note="got $1 for $5.00")\n3. join()']
    )
    app = create_llm_compiler(
        planner, [lookup, describe], joiner_model=ScriptedChatModel(responses=["Action: Finish(x)"])
    )
    ask(app)
    assert received["record"] == {"name": "Ed Wood", "born": 1924}
    assert received["note"] == "got {'name': 'Ed Wood', 'born': 1924} for $5.00"


def test_planner_prompt_describes_tools_and_examples() -> None:
    def search(query: str, mode: Literal["web", "news"] = "web", limit: int = 3) -> str:
        """Search the web for a query."""
        return "r"

    planner = ScriptedChatModel(responses=["1. join()"])
    app = create_llm_compiler(
        planner,
        [search],
        joiner_model=ScriptedChatModel(responses=["Action: Finish(x)"]),
        examples='Question: ...\n1. search("x")\n2. join()<END_OF_PLAN>',
    )
    ask(app)
    system = str(planner.calls[0][0].content)
    assert (
        "1. search(query: str, mode: 'web' | 'news' = 'web', limit: int = 3): Search the web"
        in system
    )
    assert "2. join()" in system
    assert 'Examples:\nQuestion: ...\n1. search("x")' in system
    assert "Number the steps from 1" in system


def test_task_timeout_becomes_an_error_observation_and_the_run_finishes() -> None:
    release = threading.Event()

    def slow(query: str) -> str:
        """Never answers in time."""
        release.wait(30)
        return "too late"

    planner = ScriptedChatModel(responses=['1. slow("x")\n2. slow("$1 again")\n3. join()'])
    joiner = ScriptedChatModel(responses=["Action: Finish(the lookup timed out)"])
    app = create_llm_compiler(planner, [slow], joiner_model=joiner, task_timeout=0.2)
    try:
        messages = ask(app)
    finally:
        release.set()
    first, second = (m for m in messages if isinstance(m, ToolMessage))
    assert first.status == "error" and "task 1 'slow' timed out after 0.2 s" in str(first.content)
    assert second.status == "error" and "depends on task 1 'slow', which timed out" in str(
        second.content
    )
    assert messages[-1].content == "the lookup timed out"
