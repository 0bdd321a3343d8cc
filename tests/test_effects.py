"""Tools that share state through the graph: ``tool_effects``, tool metadata, prompt, events.

The issue's plan: ``write_file``, ``read_file`` and ``delete_file`` on one file, planned at
once. Without effects the three would run together (the read before the write ends);
declared, they keep their plan order while an unrelated search runs beside them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from fakes.apps import is_joiner
from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command, interrupt

from llmcompiler_graph import ConfigurationError, Context, create_llm_compiler
from llmcompiler_graph.executor.effects import EFFECTS_METADATA_KEY
from llmcompiler_graph.executor.toolbox import Toolbox
from llmcompiler_graph.nodes.round import PlanRound
from llmcompiler_graph.nodes.task_runs import TaskRun
from llmcompiler_graph.planner.tool_specs import tool_spec
from llmcompiler_graph.sim import ScriptedChatModel
from llmcompiler_graph.state import current_turn, planned_tasks

pytestmark = pytest.mark.timeout(60)

PLAN = (
    '1. write_file(path="a.txt", text="x")\n'
    '2. read_file(path="a.txt")\n'
    '3. delete_file(path="a.txt")\n'
    '4. search(query="weather")\n'
    "5. join()<END_OF_PLAN>"
)
EFFECTS = {
    "write_file": {"writes": ["fs"]},
    "read_file": {"reads": ["fs"]},
    "delete_file": {"writes": ["fs"]},
}
QUESTION = {"messages": [("user", "q")]}


class Disk:
    """Files, and a log of when each call started and ended."""

    def __init__(self, *, metadata: bool = False, ask: bool = False) -> None:
        self.files: dict[str, str] = {}
        self.log: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.metadata = metadata
        self.ask = ask

    def note(self, what: str, name: str) -> None:
        with self.lock:
            self.log.append((what, name))

    def tools(self) -> list[BaseTool]:
        def write_file(path: str, text: str) -> str:
            """Write a file."""
            if self.ask:
                interrupt(f"write {path}?")
            self.note("start", "write_file")
            time.sleep(0.2)  # long enough that an unordered read would come first
            self.files[path] = text
            self.note("end", "write_file")
            return "written"

        def read_file(path: str) -> str:
            """Read a file."""
            self.note("start", "read_file")
            text = self.files.get(path, "(missing)")
            self.note("end", "read_file")
            return text

        def delete_file(path: str) -> str:
            """Delete a file."""
            self.note("start", "delete_file")
            self.files.pop(path, None)
            self.note("end", "delete_file")
            return "deleted"

        def search(query: str) -> str:
            """Search the web."""
            self.note("start", "search")
            self.note("end", "search")
            return "sunny"

        made = []
        for fn in (write_file, read_file, delete_file, search):
            declared = EFFECTS.get(fn.__name__)
            metadata = {EFFECTS_METADATA_KEY: declared} if declared and self.metadata else None
            made.append(StructuredTool.from_function(fn, metadata=metadata))
        return made

    def position(self, what: str, name: str) -> int:
        return self.log.index((what, name))


def app_for(disk: Disk, prompts: list[list[BaseMessage]] | None = None, **options: Any) -> Any:
    def reply(messages: list[BaseMessage]) -> str:
        if is_joiner(messages):
            return "Action: Finish(done)"
        if prompts is not None:
            prompts.append(messages)
        return PLAN

    model = ScriptedChatModel(responses=reply)
    return create_llm_compiler(model, disk.tools(), **options)


def stream(app: Any, mode: str, *args: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    final: dict[str, Any] = {}

    def seen(kind: str, data: Any) -> None:
        if kind == "custom":
            events.append(data)
        else:
            final.update(data)

    inputs = args[0] if args else QUESTION
    config = args[1] if len(args) > 1 else None
    if mode == "sync":
        for kind, data in app.stream(inputs, config, stream_mode=["custom", "values"]):
            seen(kind, data)
    else:

        async def go() -> None:
            async for kind, data in app.astream(inputs, config, stream_mode=["custom", "values"]):
                seen(kind, data)

        asyncio.run(go())
    return final, events


def results(state: dict[str, Any]) -> dict[int, str]:
    return {
        int(m.artifact["index"]): str(m.content)
        for m in state["messages"]
        if isinstance(m, ToolMessage)
    }


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("declared", ["setting", "metadata"])
def test_calls_that_share_a_file_keep_their_plan_order(mode: str, declared: str) -> None:
    disk = Disk(metadata=declared == "metadata")
    options = {"tool_effects": EFFECTS} if declared == "setting" else {}
    final, events = stream(app_for(disk, **options), mode)
    assert results(final) == {1: "written", 2: "x", 3: "deleted", 4: "sunny"}
    assert disk.position("end", "write_file") < disk.position("start", "read_file")
    assert disk.position("end", "read_file") < disk.position("start", "delete_file")
    # The search shares nothing: it did not wait for the write.
    assert disk.position("end", "search") < disk.position("end", "write_file")
    waits = {e["index"]: e["waits_for"] for e in events if e["event"] == "planned"}
    assert waits == {1: [], 2: [1], 3: [1, 2], 4: []}
    plan = next(m for m in final["messages"] if m.name == "planner")
    assert [t.get("after", []) for t in planned_tasks(plan)] == [[], [1], [1, 2], []]


def test_the_setting_replaces_a_tools_metadata_and_a_run_can_change_it() -> None:
    disk = Disk(metadata=True)
    app = app_for(disk, tool_effects={"read_file": {}})  # reads nothing shared: not ordered
    _, events = stream(app, "sync")
    waits = {e["index"]: e["waits_for"] for e in events if e["event"] == "planned"}
    assert waits == {1: [], 2: [], 3: [1], 4: []}
    out = app.invoke(QUESTION, context={"tool_effects": EFFECTS})  # this run orders the read
    assert results(out)[2] == "x"


def test_the_planner_is_told_which_tools_share_state() -> None:
    prompts: list[list[BaseMessage]] = []
    stream(app_for(Disk(), prompts, tool_effects=EFFECTS), "sync")
    system = prompts[0][0].text
    assert system.endswith(
        "Tools that share state: a step that changes a resource runs after every earlier step "
        "that uses it, and later steps that use it wait for it; steps that only read it run "
        "in parallel. Write such steps in the order they must happen.\n"
        "- fs: changed by delete_file, write_file; read by read_file"
    )
    prompts.clear()
    stream(app_for(Disk(), prompts), "sync")
    assert "share state" not in prompts[0][0].text


def test_declarations_are_checked_when_the_graph_is_built() -> None:
    tools = Disk().tools()
    model = ScriptedChatModel(responses=["x"])
    with pytest.raises(ConfigurationError, match=r"unknown tool 'write_files' \(did you mean"):
        create_llm_compiler(model, tools, tool_effects={"write_files": {"writes": ["fs"]}})
    with pytest.raises(ConfigurationError, match=r"tool_effects .*unknown key\(s\) \['write'\]"):
        create_llm_compiler(model, tools, tool_effects={"write_file": {"write": ["fs"]}})
    with pytest.raises(ConfigurationError, match=r"\['writes'\] must be a list"):
        create_llm_compiler(model, tools, tool_effects={"write_file": {"writes": "fs"}})

    def odd(x: str) -> str:
        """Odd."""
        return x

    bad = StructuredTool.from_function(odd, metadata={EFFECTS_METADATA_KEY: ["fs"]})
    with pytest.raises(ConfigurationError, match=r"tool 'odd': metadata\['llmcompiler_effects'\]"):
        create_llm_compiler(model, [bad])


def test_a_writer_held_for_approval_holds_what_must_follow_it() -> None:
    disk = Disk()
    app = app_for(
        disk,
        tool_effects=EFFECTS,
        interrupt_before_tools=["write_file"],
        checkpointer=InMemorySaver(),
    )
    config = {"configurable": {"thread_id": "t"}}
    out = app.invoke(QUESTION, config)
    assert "__interrupt__" in out
    assert results(out) == {4: "sunny"}  # read and delete wait behind the held write
    assert [name for what, name in disk.log if what == "start"] == ["search"]
    out = app.invoke(Command(resume={"decisions": [{"type": "approve"}]}), config)
    assert results(out) == {1: "written", 2: "x", 3: "deleted", 4: "sunny"}
    assert disk.position("end", "write_file") < disk.position("start", "read_file")
    assert disk.position("end", "read_file") < disk.position("start", "delete_file")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_writer_that_asks_for_input_holds_what_must_follow_it(mode: str) -> None:
    disk = Disk(ask=True)
    app = app_for(disk, tool_effects=EFFECTS, checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": f"ask-{mode}"}}
    out, _ = stream(app, mode, QUESTION, config)
    assert results(out) == {4: "sunny"}  # the read and the delete wait for the write
    assert [name for what, name in disk.log if what == "start"] == ["search"]
    out, _ = stream(app, mode, Command(resume="yes"), config)
    assert results(out) == {1: "written", 2: "x", 3: "deleted", 4: "sunny"}
    assert disk.position("end", "write_file") < disk.position("start", "read_file")
    assert disk.position("end", "read_file") < disk.position("start", "delete_file")


def test_the_plan_picture_draws_ordering_edges_dashed() -> None:
    pytest.importorskip("matplotlib")
    from llmcompiler_graph.viz import plot_plan_dag

    final, _ = stream(app_for(Disk(), tool_effects=EFFECTS), "sync")
    figure = plot_plan_dag(final)
    arrows = [a for a in figure.axes[0].texts if getattr(a, "arrow_patch", None) is not None]
    dashed = [a for a in arrows if a.arrow_patch.get_linestyle() == "--"]
    assert len(dashed) == 3  # 1 -> 2, 1 -> 3, 2 -> 3
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert "runs after (shared resource)" in legend


def test_a_journal_replay_gives_the_same_edges() -> None:
    # After a crash the round is rebuilt from the chunks its journal recorded: the same
    # tasks in the same order, so the same ordering edges (events, plan record, holding).
    tools = Disk().tools()
    by_name = Toolbox(tools)
    settings = Context(tool_effects=EFFECTS)

    def round_() -> PlanRound:
        run = TaskRun(
            turn=current_turn([HumanMessage("q")]),
            settings=settings,
            tools=by_name,
            config={},
            emit=lambda data: None,
        )
        return PlanRound(run, specs={n: tool_spec(t) for n, t in by_name.items()})

    chunks = [[PLAN[i : i + 7], None] for i in range(0, len(PLAN), 7)]  # as the journal keeps
    first = round_()
    jobs = [job for piece, _ in chunks for job in first.feed(piece, record=False)]
    jobs += first.close()
    again = round_()
    replayed, state = again.replay([{"kind": "plan_end", "chunks": chunks, "error": None}])
    assert state == "ended"
    assert first.run.after == again.run.after == {2: (1,), 3: (1, 2)}
    assert [j.effects for j in jobs] == [j.effects for j in replayed]
