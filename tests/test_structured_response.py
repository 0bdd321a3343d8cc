"""``response_format=``: a validated ``structured_response`` beside the answer (create_agent)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any

import pytest
from langchain.agents.structured_output import ProviderStrategy, ToolStrategy
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.sim import ScriptedChatModel
from llmcompiler_graph.state import KIND, kind_of

MODES = ["sync", "async"]
QUESTION = {"messages": [("user", "Who is in the text, and where?")]}
TEXT = "Ada Lovelace met Charles Babbage in London at the Analytical Society."


class Person(BaseModel):
    name: str
    role: str | None = None


class Entities(BaseModel):
    """Everyone, every place and every organization a text names."""

    people: list[Person]
    places: list[str]
    organizations: list[str] = Field(default_factory=list)


ENTITIES = {
    "people": [{"name": "Ada Lovelace"}, {"name": "Charles Babbage"}],
    "places": ["London"],
    "organizations": ["Analytical Society"],
}


def is_structured(messages: list[BaseMessage]) -> bool:
    return "structured data" in messages[0].text


def is_joiner(messages: list[BaseMessage]) -> bool:
    return "Finish(" in messages[0].text


def call(name: str, args: dict[str, Any]) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": f"so_{name}"}])


@dataclass
class Script:
    """Plans for the planner, decisions for the joiner, replies for the structured call."""

    plans: list[str]
    joins: list[str | Exception]
    structured: list[AIMessage | str | Exception]

    def __post_init__(self) -> None:
        self.counts = {"plan": 0, "join": 0, "structured": 0}
        self.prompts: list[list[BaseMessage]] = []

    def __call__(self, messages: list[BaseMessage]) -> AIMessage | str:
        role = (
            "structured" if is_structured(messages) else "join" if is_joiner(messages) else "plan"
        )
        replies: list[Any] = {"plan": self.plans, "join": self.joins}.get(role, self.structured)
        index = min(self.counts[role], len(replies) - 1)
        self.counts[role] += 1
        if role == "structured":
            self.prompts.append(list(messages))
        reply = replies[index]
        if isinstance(reply, Exception):
            raise reply
        return reply  # type: ignore[no-any-return]


def extractors(together: int = 3) -> list[Any]:
    """Extractors that return once ``together`` of them are running (else they time out)."""
    barrier = threading.Barrier(together, timeout=20)

    @tool
    def extract_people(text: str) -> list[dict[str, str]]:
        """List the people a text names."""
        barrier.wait()
        return [{"name": "Ada Lovelace"}, {"name": "Charles Babbage"}]

    @tool
    def extract_places(text: str) -> list[str]:
        """List the places a text names."""
        barrier.wait()
        return ["London"]

    @tool
    def extract_organizations(text: str) -> list[str]:
        """List the organizations a text names."""
        barrier.wait()
        return ["Analytical Society"]

    return [extract_people, extract_places, extract_organizations]


PLAN = (
    f'1. extract_people(text="{TEXT}")\n'
    f'2. extract_places(text="{TEXT}")\n'
    f'3. extract_organizations(text="{TEXT}")\n'
    "join()"
)
FINISH = "Thought: all three are back.\nAction: Finish(Ada Lovelace and Charles Babbage, London.)"


def run(app: Any, mode: str, value: Any = QUESTION, config: Any = None) -> dict[str, Any]:
    if mode == "sync":
        return app.invoke(value, config)  # type: ignore[no-any-return]
    return asyncio.run(app.ainvoke(value, config))  # type: ignore[no-any-return]


def build(script: Script, response_format: Any = Entities, together: int = 3, **kw: Any) -> Any:
    model = ScriptedChatModel(responses=script)
    tools = extractors(together)
    return create_llm_compiler(model, tools, response_format=response_format, **kw)


@pytest.mark.parametrize("mode", MODES)
def test_parallel_extractors_merge_into_one_validated_object(mode: str) -> None:
    script = Script([PLAN], [FINISH], [call("Entities", ENTITIES)])
    out = run(build(script), mode)
    assert out["structured_response"] == Entities.model_validate(ENTITIES)
    answer = out["messages"][-1]
    assert (
        kind_of(answer) == "answer"
        and answer.content == "Ada Lovelace and Charles Babbage, London."
    )
    # The structured call read the question, every result and the answer.
    (prompt,) = script.prompts
    body = prompt[-1].text
    assert "Who is in the text" in body and "Analytical Society" in body and "London." in body
    assert script.counts == {"plan": 1, "join": 1, "structured": 1}


@pytest.mark.parametrize("mode", MODES)
def test_after_a_replan_the_structured_call_reads_every_round(mode: str) -> None:
    plans = [
        f'1. extract_people(text="{TEXT}")\njoin()',
        f'2. extract_places(text="{TEXT}")\njoin()',
    ]
    joins = ["Thought: places too.\nAction: Replan(find the places)", FINISH]
    script = Script(plans, joins, [call("Entities", ENTITIES)])
    out = run(build(script, together=1), mode)
    assert out["structured_response"].places == ["London"]
    assert script.counts == {"plan": 2, "join": 2, "structured": 1}  # once, after the finish
    body = script.prompts[0][-1].text
    assert "Charles Babbage" in body and "London" in body


@pytest.mark.parametrize("mode", MODES)
def test_an_invalid_reply_is_retried_once_with_the_error(mode: str) -> None:
    bad = call("Entities", {"people": [{"name": "Ada", "role": 7}], "places": "London"})
    script = Script([PLAN], [FINISH], [bad, call("Entities", ENTITIES)])
    out = run(build(script), mode)
    assert out["structured_response"] == Entities.model_validate(ENTITIES)
    first, second = script.prompts
    retry = second[len(first) :]
    assert retry[0] == bad or retry[0].tool_calls == bad.tool_calls  # the model's own reply
    assert isinstance(retry[1], ToolMessage) and retry[1].tool_call_id == "so_Entities"
    # The error names each field that failed and what it got.
    assert "people.0.role: Input should be a valid string (got 7)" in retry[1].text
    assert "places: Input should be a valid list (got 'London')" in retry[1].text


@pytest.mark.parametrize("mode", MODES)
def test_two_invalid_replies_end_the_run_with_the_answer_and_the_reason(mode: str) -> None:
    script = Script([PLAN], [FINISH], ["I think it is Ada.", call("Entities", {"people": []})])
    out = run(build(script), mode)
    assert out["structured_response"] is None
    answer = out["messages"][-1]
    assert answer.content.startswith("Ada Lovelace and Charles Babbage, London.")
    reason = answer.additional_kwargs[KIND]["structured_error"]
    assert "did not match Entities twice" in reason and "places: Field required" in reason
    assert reason in answer.content
    assert [kind_of(m) for m in out["messages"]].count("answer") == 1  # replaced, same id
    assert script.counts["structured"] == 2  # no third try


@pytest.mark.parametrize("mode", MODES)
def test_a_failing_structured_call_is_reported_not_raised(mode: str) -> None:
    script = Script([PLAN], [FINISH], [ConnectionError("the provider hung up")])
    out = run(build(script), mode)
    assert out["structured_response"] is None
    reason = out["messages"][-1].additional_kwargs[KIND]["structured_error"]
    assert "ConnectionError: the provider hung up" in reason


class Place(TypedDict):
    city: str
    population: int


@pytest.mark.parametrize("mode", MODES)
def test_a_typed_dict_is_validated_and_a_json_schema_is_returned_as_written(mode: str) -> None:
    script = Script([PLAN], [FINISH], [call("Place", {"city": "London", "population": "9"})])
    assert run(build(script, Place), mode)["structured_response"] == {
        "city": "London",
        "population": 9,
    }
    schema = {
        "title": "Summary",
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
    }
    script = Script([PLAN], [FINISH], [call("Summary", {"text": "two people"})])
    assert run(build(script, schema), mode)["structured_response"] == {"text": "two people"}


def test_explicit_strategies_are_accepted() -> None:
    script = Script([PLAN], [FINISH], [call("Entities", ENTITIES)])
    out = run(build(script, ToolStrategy(Entities)), "sync")
    assert out["structured_response"].places == ["London"]
    # ProviderStrategy asks for the provider's JSON output: the reply is the JSON text.
    script = Script([PLAN], [FINISH], ['{"people": [], "places": ["Paris"]}'])
    out = run(build(script, ProviderStrategy(Entities)), "sync")
    assert out["structured_response"] == Entities(people=[], places=["Paris"])


def test_each_turn_has_its_own_structured_response() -> None:
    script = Script([PLAN], [FINISH], [call("Entities", ENTITIES), "no", "still no"])
    app = build(script, checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    assert run(app, "sync", config=config)["structured_response"] is not None
    again = {"messages": [("user", "And now?")]}
    assert run(app, "sync", again, config)["structured_response"] is None  # not the stale one


def test_without_response_format_there_is_no_structured_response() -> None:
    script = Script([PLAN], [FINISH], [])
    model = ScriptedChatModel(responses=script)
    out = create_llm_compiler(model, extractors()).invoke(QUESTION)
    assert "structured_response" not in out
    assert script.counts["structured"] == 0


def test_an_unusable_response_format_fails_when_the_graph_is_built() -> None:
    with pytest.raises(ValueError, match=r"response_format: .*Pydantic model"):
        build(Script([PLAN], [FINISH], []), int)


def test_the_structure_node_exists_only_with_a_response_format() -> None:
    with_format = build(Script([PLAN], [FINISH], []))
    assert "structure" in with_format.get_graph().nodes
    without = create_llm_compiler(ScriptedChatModel(responses=["x"]), extractors())
    assert "structure" not in without.get_graph().nodes
    # Every way out goes through it: no edge reaches the end but its own.
    edges = {(e.source, e.target) for e in with_format.get_graph().edges}
    assert {e for e in edges if e[1] == "__end__"} == {("structure", "__end__")}
    assert {("join", "structure"), ("join", "plan_and_schedule")} <= edges
    assert {("plan_and_schedule", "structure"), ("approve", "structure")} <= edges


@pytest.mark.parametrize("mode", MODES)
def test_an_approved_run_is_structured_after_the_resume(mode: str) -> None:
    script = Script([PLAN], [FINISH], [call("Entities", ENTITIES)])
    app = build(
        script,
        interrupt_before_tools=["extract_organizations"],
        checkpointer=InMemorySaver(),
        together=1,
    )
    config = {"configurable": {"thread_id": f"approve-{mode}"}}
    paused = run(app, mode, config=config)
    assert "__interrupt__" in paused and "structured_response" not in paused
    out = run(app, mode, Command(resume={"decisions": [{"type": "approve"}]}), config)
    assert out["structured_response"] == Entities.model_validate(ENTITIES)
    assert script.counts["structured"] == 1


@pytest.mark.parametrize("mode", MODES)
def test_the_structured_call_is_not_streamed_as_a_message(mode: str) -> None:
    script = Script([PLAN], [FINISH], [call("Entities", ENTITIES)])
    app = build(script)

    async def collect() -> list[Any]:
        return [part async for part in app.astream(QUESTION, stream_mode="messages")]

    parts = (
        list(app.stream(QUESTION, stream_mode="messages"))
        if mode == "sync"
        else asyncio.run(collect())
    )
    nodes = {metadata["langgraph_node"] for _, metadata in parts}
    assert "join" in nodes and "structure" not in nodes
    assert script.counts["structured"] == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_direct_answer_is_structured_too(mode: str) -> None:
    @tool(return_direct=True)
    def lookup(text: str) -> str:
        """Answer directly."""
        return "Ada Lovelace, London"

    script = Script(['1. lookup(text="x")\njoin()'], [FINISH], [call("Entities", ENTITIES)])
    app = create_llm_compiler(
        ScriptedChatModel(responses=script), [lookup], response_format=Entities
    )
    out = run(app, mode)
    assert script.counts["join"] == 0
    assert out["structured_response"].places == ["London"]
    assert "Answer: Ada Lovelace, London" in script.prompts[0][-1].text


@pytest.mark.parametrize("mode", MODES)
def test_no_structured_call_when_the_joiner_failed(mode: str) -> None:
    script = Script([PLAN], [RuntimeError("joiner down")], [call("Entities", ENTITIES)])
    out = run(build(script), mode)
    assert out["structured_response"] is None
    assert script.counts["structured"] == 0
    answer = out["messages"][-1]
    assert "no answer to structure" in answer.additional_kwargs[KIND]["structured_error"]


def test_a_json_schema_reply_must_be_an_object() -> None:
    schema = {"title": "Summary", "type": "object", "properties": {"text": {"type": "string"}}}
    script = Script([PLAN], [FINISH], ['["not", "an", "object"]', '{"text": "ok"}'])
    out = run(build(script, ProviderStrategy(schema)), "sync")
    assert out["structured_response"] == {"text": "ok"}
    assert "expected a JSON object for Summary" in script.prompts[1][-1].text
