"""A 600-tool catalogue end to end: the planner sees a selection, and nothing is lost by it.

The catalogue is the 579 distinct BFCL functions plus 21 made here. A scripted planner reads
its own prompt (a responder), so each test checks what the planner was shown: how many
tools, how large the prompt, which tools, which examples.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore
from reliability.bfcl import load_cases

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.planner.tool_specs import describe_tools
from llmcompiler_graph.sim import ScriptedChatModel, count_tokens, prompt_tokens
from llmcompiler_graph.store_selection import StoreToolSelector
from llmcompiler_graph.tools.jsonschema import tools_from_specs

FINISH = "Thought: done.\nAction: Finish(done)"

EXTRA = [
    {
        "name": f"warehouse_{n}.restock",
        "description": f"Order stock for aisle {n} of the warehouse.",
        "parameters": {
            "type": "dict",
            "properties": {"item": {"type": "string", "description": "What to order."}},
            "required": ["item"],
        },
    }
    for n in range(20)
] + [
    {
        "name": "fx.swap_money",
        "description": "Exchange an amount between two currencies at today's rate.",
        "parameters": {
            "type": "dict",
            "properties": {
                "amount": {"type": "float", "description": "How much."},
                "source": {"type": "string", "description": "ISO code, e.g. USD."},
                "target": {"type": "string", "description": "ISO code, e.g. JPY."},
            },
            "required": ["amount", "source", "target"],
        },
    }
]


def catalogue_specs() -> list[dict[str, Any]]:
    specs: dict[str, dict[str, Any]] = {}
    for case in load_cases():
        for function in case.functions:
            specs.setdefault(function["name"], function)
    for function in EXTRA:
        specs[function["name"]] = function
    return list(specs.values())


SPECS = catalogue_specs()
CALLS: list[tuple[str, dict[str, Any]]] = []


def handler(name: str, arguments: dict[str, Any]) -> str:
    CALLS.append((name, arguments))
    return f"{name} ran"


TOOLS: list[BaseTool] = tools_from_specs(SPECS, handler)
ALL_TOOLS_TOKENS = count_tokens(describe_tools(TOOLS))


def test_the_catalogue_has_600_tools() -> None:
    assert len(TOOLS) == 600
    assert ALL_TOOLS_TOKENS > 25_000  # what listing all of them would cost per prompt


def system_text(messages: list[BaseMessage]) -> str:
    return next(str(m.content) for m in messages if isinstance(m, SystemMessage))


def tool_lines(text: str) -> list[str]:
    names = re.findall(r"^\d+\. ([\w.\-]+)\(", text, flags=re.MULTILINE)
    return [name for name in names if name != "join"]


def listed(messages: list[BaseMessage]) -> list[str]:
    """The tool names of the planner's system prompt's numbered tool lines."""
    return tool_lines(system_text(messages))


def added(messages: list[BaseMessage]) -> list[str]:
    """The tool names a replan lists after the rounds (in its last message)."""
    return tool_lines(str(messages[-1].content)) if len(messages) > 2 else []


class Planner:
    """A responder that records what the planner saw and answers with scripted plans."""

    def __init__(self, *plans: str | AIMessage) -> None:
        self.plans = list(plans)
        self.seen: list[list[BaseMessage]] = []

    def __call__(self, messages: list[BaseMessage]) -> str | AIMessage:
        self.seen.append(messages)
        return self.plans.pop(0)


class Script:
    """The planner and joiner replies of the running test (one graph serves every test)."""

    planner = Planner()
    joins: ClassVar[list[str]] = []


PLANNER_MODEL = ScriptedChatModel(responses=lambda messages: Script.planner(messages))
JOINER_MODEL = ScriptedChatModel(responses=lambda messages: Script.joins.pop(0))
# Built once: six hundred tools take seconds to wrap (LangGraph's ToolNode reads each
# tool's injected arguments). Each test sets its settings through the run's context.
GRAPH = create_llm_compiler(
    PLANNER_MODEL, TOOLS, joiner_model=JOINER_MODEL, checkpointer=InMemorySaver()
)


def run(
    planner: Planner,
    *questions: str,
    joins: Sequence[str] = (FINISH,),
    graph: Any = GRAPH,
    **context: Any,
) -> dict[str, Any]:
    """Ask the questions in one new thread; return the last state."""
    Script.planner, Script.joins = planner, list(joins)
    config = {"configurable": {"thread_id": uuid.uuid4().hex}}
    out: dict[str, Any] = {}
    for question in questions:
        out = graph.invoke({"messages": [("user", question)]}, config, context=context)
    return out


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    CALLS.clear()


QUESTION = (
    "Find the sum of all the multiples of 3 and 5 between 1 and 1000. "
    "Also find the product of the first five prime numbers."
)
PLAN = (
    "1. math_toolkit.sum_of_multiples(lower_limit=1, upper_limit=1000, multiples=[3, 5])\n"
    "2. math_toolkit.product_of_primes(count=5)\n3. join()<END_OF_PLAN>"
)


def test_the_planner_sees_the_relevant_tools_in_a_prompt_a_twentieth_the_size() -> None:
    planner = Planner(PLAN)
    out = run(planner, QUESTION, select_tools=10)
    assert out["messages"][-1].content == "done"
    shown = listed(planner.seen[0])
    assert len(shown) == 10
    assert {"math_toolkit.sum_of_multiples", "math_toolkit.product_of_primes"} <= set(shown)
    system = system_text(planner.seen[0])
    assert count_tokens(system) * 20 < ALL_TOOLS_TOKENS
    assert "of 600 tools" in system  # the planner is told the list is a selection
    assert [name for name, _ in CALLS] == [
        "math_toolkit.sum_of_multiples",
        "math_toolkit.product_of_primes",
    ]


def test_below_the_threshold_every_tool_is_listed() -> None:
    planner = Planner(PLAN)
    run(planner, QUESTION, select_tools=10, select_tools_above=600)
    assert len(listed(planner.seen[0])) == 600
    assert "of 600 tools" not in system_text(planner.seen[0])


def test_select_tools_0_lists_every_tool() -> None:
    planner = Planner(PLAN)
    run(planner, QUESTION, select_tools=0)
    assert len(listed(planner.seen[0])) == 600


def test_a_listed_tool_that_exists_but_was_not_listed_still_runs() -> None:
    plan = '1. warehouse_7.restock(item="bolts")\n2. join()<END_OF_PLAN>'
    planner = Planner(plan)
    out = run(planner, QUESTION, select_tools=5)
    assert "warehouse_7.restock" not in listed(planner.seen[0])
    assert CALLS == [("warehouse_7.restock", {"item": "bolts"})]
    result = next(m for m in out["messages"] if isinstance(m, ToolMessage))
    assert result.status == "success"


def test_tools_used_earlier_in_the_thread_stay_listed() -> None:
    first = '1. warehouse_7.restock(item="bolts")\n2. join()<END_OF_PLAN>'
    planner = Planner(first, PLAN)
    run(planner, "Restock aisle 7 with bolts.", QUESTION, joins=[FINISH, FINISH], select_tools=5)
    assert "warehouse_7.restock" in listed(planner.seen[1])
    assert len(listed(planner.seen[1])) == 6


def test_a_missing_tool_is_found_on_the_replan() -> None:
    # "bucks" and "yen" share no word with fx.swap_money: the first selection misses it.
    question = "How many yen do I get for 100 bucks?"
    gave_up = "Thought: missing tool: convert money between currencies\n1. join()<END_OF_PLAN>"
    swap = '2. fx.swap_money(amount=100, source="USD", target="JPY")\n3. join()<END_OF_PLAN>'
    replan = "Thought: no tool listed.\nAction: Replan(need a tool to convert currencies)"
    planner = Planner(gave_up, swap)
    out = run(planner, question, joins=[replan, FINISH], select_tools=10)
    assert "fx.swap_money" not in listed(planner.seen[0])
    assert "fx.swap_money" in added(planner.seen[1])
    # The question's list stays as it was, so a provider's cache serves the replan's prompt
    # up to its rounds; the tools found come after them.
    assert planner.seen[1][0] == planner.seen[0][0]
    assert "Tools found for what was missing" in str(planner.seen[1][-1].content)
    assert CALLS == [("fx.swap_money", {"amount": 100.0, "source": "USD", "target": "JPY"})]
    assert out["messages"][-1].content == "done"


def test_a_call_of_an_invented_tool_widens_the_next_selection() -> None:
    question = "How many yen do I get for 100 bucks?"
    invented = '1. currency_swap(amount=100, currency="JPY")\n2. join()<END_OF_PLAN>'
    swap = '3. fx.swap_money(amount=100, source="USD", target="JPY")\n4. join()<END_OF_PLAN>'
    replan = "Thought: the tool failed.\nAction: Replan(try again)"
    planner = Planner(invented, swap)
    out = run(planner, question, joins=[replan, FINISH], select_tools=10)
    error = next(m for m in out["messages"] if isinstance(m, ToolMessage))
    assert error.status == "error"
    assert len(str(error.content)) < 1_000  # not the names of all 600 tools
    assert "fx.swap_money" in added(planner.seen[1])


def test_examples_are_filtered_to_the_listed_tools() -> None:
    examples = (
        "Question: primes?\n1. math_toolkit.product_of_primes(count=3)\n2. join()<END_OF_PLAN>\n"
        "###\n"
        'Question: restock?\n1. warehouse_3.restock(item="nails")\n2. join()<END_OF_PLAN>'
    )
    planner = Planner(PLAN)
    run(planner, QUESTION, select_tools=10, examples=examples)
    system = system_text(planner.seen[0])
    assert "Question: primes?" in system
    assert "Question: restock?" not in system


def test_tool_call_plans_bind_only_the_selected_tools() -> None:
    call = AIMessage(
        content="",
        tool_calls=[
            {"name": "math_toolkit.product_of_primes", "args": {"count": 5}, "id": "c1"},
        ],
    )
    run(Planner(call), QUESTION, plan_format="tool_calls", select_tools=10)
    assert CALLS == [("math_toolkit.product_of_primes", {"count": 5})]
    # The tools bound to the model count in its input tokens: ten tools, not six hundred.
    every_schema = prompt_tokens([], [convert_to_openai_tool(t) for t in TOOLS])
    assert PLANNER_MODEL.events[-1].input_tokens * 20 < every_schema


class BagOfWords(Embeddings):
    """A fake embeddings model where texts sharing words are near (hashed word counts)."""

    size = 256

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self.size
        for word in re.findall(r"[a-z]+", text.lower()):
            vector[int(hashlib.sha1(word.encode()).hexdigest(), 16) % self.size] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


def test_a_store_with_a_semantic_index_selects_the_tools_async() -> None:
    store = InMemoryStore(index={"dims": BagOfWords.size, "embed": BagOfWords()})
    planner = Planner(PLAN)
    Script.planner, Script.joins = planner, [FINISH]
    # No store of its own: the selector uses the graph's.
    some = [t for t in TOOLS[:60] if not t.name.startswith("math_toolkit.")] + [
        t for t in TOOLS if t.name.startswith("math_toolkit.")
    ]
    graph = create_llm_compiler(
        PLANNER_MODEL,
        some,
        joiner_model=JOINER_MODEL,
        store=store,
        select_tools=StoreToolSelector(k=10),
    )
    out = asyncio.run(graph.ainvoke({"messages": [("user", QUESTION)]}))
    assert out["messages"][-1].content == "done"
    shown = listed(planner.seen[0])
    assert len(shown) == 10
    assert {"math_toolkit.sum_of_multiples", "math_toolkit.product_of_primes"} <= set(shown)


class CountingEmbedding(DeterministicFakeEmbedding):
    embedded: int = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return super().embed_documents(texts)


def test_the_store_embeds_each_tool_once() -> None:
    embeddings = CountingEmbedding(size=32)
    store = InMemoryStore(index={"dims": 32, "embed": embeddings})
    selector = StoreToolSelector(store, k=3)
    tools = TOOLS[:40]
    first = selector("anything", tools)
    assert embeddings.embedded == 40
    assert len(first) == 3
    # The same text as a tool's indexed text is its nearest item.
    from llmcompiler_graph.store_selection import tool_text

    assert selector(tool_text(tools[17]), tools)[0] == tools[17].name
    # A new selector on the same store reads what is there and embeds nothing again.
    StoreToolSelector(store, k=3)("anything", tools)
    assert embeddings.embedded == 40


def test_a_failing_selector_falls_back_to_the_lexical_search(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(query: str, tools: Sequence[BaseTool]) -> list[str]:
        raise ConnectionError("embeddings service down")

    planner = Planner(PLAN)
    out = run(planner, QUESTION, select_tools=broken)
    assert out["messages"][-1].content == "done"
    assert "math_toolkit.sum_of_multiples" in listed(planner.seen[0])
    assert "embeddings service down" in caplog.text


def test_a_plain_function_selects() -> None:
    def pick(query: str, tools: Sequence[BaseTool]) -> list[str]:
        return ["math_toolkit.product_of_primes", "math_toolkit.sum_of_multiples", "nope"]

    planner = Planner(PLAN)
    run(planner, QUESTION, select_tools=pick)
    assert listed(planner.seen[0]) == [
        "math_toolkit.sum_of_multiples",
        "math_toolkit.product_of_primes",
    ]
