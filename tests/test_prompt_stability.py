"""Prompts a provider can cache: their stable parts come first and never change.

For the same tools and settings, the planner's prompt (both plan formats) and the joiner's
start with the same tokens whatever the question, the conversation, the round or the replan,
in this process and in another one (another hash seed); each prompt is ordered from the most
stable part to the least, so a replan's prompt repeats the first plan's up to its new rounds
and a thread's next question repeats the last one's up to the end of its conversation.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
import textwrap
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.tools import BaseTool, tool
from langchain_core.utils.function_calling import convert_to_openai_tool

from llmcompiler_graph.context import Settings
from llmcompiler_graph.executor.toolcall import message_text
from llmcompiler_graph.fetching.jobs import Outcome
from llmcompiler_graph.joiner.decide import build_joiner_messages
from llmcompiler_graph.nodes.planner_call import build_planner_messages
from llmcompiler_graph.nodes.transcript import fit_history, plan_message, result_message
from llmcompiler_graph.planner.tasks import PlannedTask
from llmcompiler_graph.sim.cache import common_prefix_tokens, prompt_token_count
from llmcompiler_graph.state import KIND, Round, Turn
from llmcompiler_graph.tools import math, search

FORMATS = ("text", "tool_calls")


@tool
def lookup(
    key: str, table: Literal["people", "places", "films"] = "people", limit: int | None = None
) -> str:
    """Look a key up in one of the tables.

    The description spans lines   and has    irregular spacing.
    """
    return key


TOOLS: list[BaseTool] = [search, math, lookup]

_text = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40)


@st.composite
def rounds(draw: st.DrawFn) -> list[Round]:
    """A question's rounds: numbered tasks, their results (some failed), the feedback."""
    made: list[Round] = []
    index = 1
    for number in range(draw(st.integers(1, 3))):
        tasks = []
        for _ in range(draw(st.integers(1, 3))):
            query = draw(_text)
            tasks.append(PlannedTask(index, "search", {"query": query}, line=f"{index}. search()"))
            index += 1
        tag = f"r{number}"
        plan = plan_message(tasks, draw(_text), tag=tag, thought=draw(_text), error=None)
        results = []
        for task in tasks:
            ok = draw(st.booleans())
            outcome = (
                Outcome(task.index, "search", "ok", value=draw(_text))
                if ok
                else Outcome(task.index, "search", "error", error=draw(_text))
            )
            results.append(result_message(f"llmc_{tag}_{task.index}", "search", outcome))
        made.append(Round(plan, results, draw(_text)))
    made[-1].feedback = None  # the last round's feedback is not written yet when it is asked
    return made


@st.composite
def histories(draw: st.DrawFn) -> list[BaseMessage]:
    history: list[BaseMessage] = []
    for _ in range(draw(st.integers(0, 4))):
        answer = AIMessage(draw(_text), name="joiner", additional_kwargs={KIND: {"kind": "answer"}})
        history += [HumanMessage(draw(_text)), answer]
    return history


def planner(turn: Turn, plan_format: str) -> list[BaseMessage]:
    return build_planner_messages(turn, TOOLS, Settings(plan_format=plan_format))  # type: ignore[arg-type]


def upto_question(messages: list[BaseMessage], turn: Turn) -> list[BaseMessage]:
    """Return the prompt's messages up to and including the question."""
    question = turn.question.content if turn.question is not None else ""
    at = max(
        i for i, m in enumerate(messages) if isinstance(m, HumanMessage) and m.content == question
    )
    return messages[: at + 1]


@pytest.mark.parametrize("plan_format", FORMATS)
def test_stable_prefix_across_questions_histories_rounds_and_replans(plan_format: str) -> None:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(first=histories(), second=histories(), q1=_text, q2=_text, done=rounds())
    def check(
        first: list[BaseMessage], second: list[BaseMessage], q1: str, q2: str, done: list[Round]
    ) -> None:
        a = planner(Turn(HumanMessage(q1), first, []), plan_format)
        b = planner(Turn(HumanMessage(q2), second, done), plan_format)
        # Whatever the question, conversation and rounds: the same system prompt, first.
        assert a[0].type == b[0].type == "system" and a[0].content == b[0].content
        n = prompt_token_count(a[:1])
        assert n > 100 and common_prefix_tokens(a, b) >= n
        # Each replan repeats the prompt before it up to (and with) the question.
        for k in range(len(done)):
            before = Turn(HumanMessage(q2), second, done[:k])
            after = Turn(HumanMessage(q2), second, done[: k + 1])
            earlier, later = planner(before, plan_format), planner(after, plan_format)
            stable = upto_question(earlier, before)
            assert later[: len(stable)] == stable
            assert common_prefix_tokens(earlier, later) >= prompt_token_count(stable)

    check()


@pytest.mark.parametrize("plan_format", FORMATS)
def test_the_next_question_repeats_the_conversation_before_it(plan_format: str) -> None:
    @settings(max_examples=40, deadline=None)
    @given(history=histories(), q1=_text, answer=_text, q2=_text, done=rounds())
    def check(history: list[BaseMessage], q1: str, answer: str, q2: str, done: list[Round]) -> None:
        now = Turn(HumanMessage(q1), history, done)
        reply = AIMessage(answer, name="joiner", additional_kwargs={KIND: {"kind": "answer"}})
        nxt = Turn(HumanMessage(q2), [*history, HumanMessage(q1), reply], [])
        earlier, later = planner(now, plan_format), planner(nxt, plan_format)
        shared = earlier[: 1 + len(history)]  # the system prompt and the conversation
        assert later[: len(shared)] == shared

    check()


def test_the_joiner_prompt_grows_only_at_its_end() -> None:
    @settings(max_examples=60, deadline=None)
    @given(history=histories(), question=_text, done=rounds(), other=_text)
    def check(history: list[BaseMessage], question: str, done: list[Round], other: str) -> None:
        fixed = Settings()
        first = build_joiner_messages(
            Turn(HumanMessage(other), [], done[:1]), fixed, must_finish=False
        )
        for k in range(1, len(done) + 1):
            turn = Turn(HumanMessage(question), history, done[:k])
            prompt = build_joiner_messages(turn, fixed, must_finish=False)
            final = build_joiner_messages(turn, fixed, must_finish=True)
            assert prompt[0].content == final[0].content == first[0].content
            # "You cannot replan any more" goes at the end, after the rounds.
            assert message_text(final[-1].content).startswith(message_text(prompt[-1].content))
            if k > 1:
                shorter = build_joiner_messages(
                    Turn(HumanMessage(question), history, [*done[: k - 1]]),
                    fixed,
                    must_finish=False,
                )
                # The last round had no feedback yet when it was asked: the rest is a prefix.
                assert message_text(prompt[-1].content).startswith(
                    message_text(shorter[-1].content)
                )

    check()


# -- across processes ---------------------------------------------------------------------

_DIGEST = textwrap.dedent(
    """
    import hashlib, json, sys
    sys.path.insert(0, {tests!r})
    from test_prompt_stability import prompt_digest
    print(prompt_digest())
    """
)


def prompt_digest() -> str:
    """Return a digest of fixed prompts and tool schemas (the same in every process)."""
    reply = AIMessage("Paris.", name="joiner", additional_kwargs={KIND: {"kind": "answer"}})
    tasks = [PlannedTask(1, "search", {"query": "x"}, line='1. search("x")')]
    plan = plan_message(tasks, "", tag="t", thought=None, error=None)
    result = result_message("llmc_t_1", "search", Outcome(1, "search", "ok", value="found"))
    turn = Turn(HumanMessage("And Rome?"), [HumanMessage("Capital?"), reply], [])
    replan = Turn(turn.question, turn.history, [Round(plan, [result], "more")])
    parts: list[Any] = [convert_to_openai_tool(t) for t in TOOLS]
    for plan_format in FORMATS:
        for each in (turn, replan):
            parts.append([[m.type, m.content] for m in planner(each, plan_format)])
    parts.append(
        [[m.type, m.content] for m in build_joiner_messages(replan, Settings(), must_finish=True)]
    )
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


@pytest.mark.parametrize("seed", ["0", "4242"])
def test_prompts_and_tool_schemas_are_byte_identical_in_another_process(seed: str) -> None:
    here = os.path.dirname(__file__)
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run(
        [sys.executable, "-c", _DIGEST.format(tests=here)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert out.stdout.strip() == prompt_digest()


def test_a_long_conversation_loses_its_start_in_steps_not_at_every_question() -> None:
    budget = 4_000
    history: list[BaseMessage] = []
    starts = []
    for n in range(60):
        history += [
            HumanMessage(f"question {n} " + "q" * 80),
            AIMessage(f"answer {n} " + "a" * 120),
        ]
        kept = fit_history(history, budget)
        assert sum(len(message_text(m.content)) for m in kept) <= budget
        assert kept == history[len(history) - len(kept) :]  # the latest, in order
        starts.append(len(history) - len(kept))
    moves = sum(1 for a, b in itertools.pairwise(starts) if a != b)
    assert starts[-1] > 0 and moves <= len(starts) // 4  # the cut moved rarely
