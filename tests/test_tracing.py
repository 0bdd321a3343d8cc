"""Tracing: tool calls are child runs of the node that ran them; nothing is sent unless enabled."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fakes.apps import scripted_app
from fakes.recording_server import RecordingServer
from langchain_core.callbacks import BaseCallbackHandler
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

REPO = Path(__file__).resolve().parents[1]


class Runs(BaseCallbackHandler):
    """Record every chain and tool run with its parent and metadata."""

    def __init__(self) -> None:
        self.runs: dict[UUID, dict[str, Any]] = {}

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        name = kwargs.get("name") or (serialized or {}).get("name")
        self.runs[run_id] = {"kind": "chain", "name": name, "parent": parent_run_id}

    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.runs[run_id] = {
            "kind": "tool",
            "name": kwargs.get("name") or serialized.get("name"),
            "parent": parent_run_id,
            "task": (metadata or {}).get("llmcompiler_task"),
            "input": input_str,
        }

    def tools(self) -> list[dict[str, Any]]:
        return [r for r in self.runs.values() if r["kind"] == "tool"]

    def node_of(self, run: dict[str, Any]) -> tuple[str, UUID]:
        parent = run["parent"]
        return self.runs[parent]["name"], parent


PLANS = [
    '1. search(query="a")\n2. math(problem="1 + 1")\n3. join()<END_OF_PLAN>',
    '4. search(query="$1 again")\n5. join()<END_OF_PLAN>',
]


def build(**options: Any) -> Any:
    joins = ["Action: Replan(need more)", "Action: Finish(done)"]
    return scripted_app(PLANS, joins=joins, latency_s=0.01, **options).app


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_tool_runs_are_children_of_the_scheduling_node(mode: str) -> None:
    app = build()
    handler = Runs()
    config: Any = {"callbacks": [handler]}
    question = {"messages": [("user", "q")]}
    if mode == "sync":
        app.invoke(question, config)
    else:
        asyncio.run(app.ainvoke(question, config))
    by_task = {run["task"]: run for run in handler.tools()}
    assert sorted(by_task) == [1, 2, 4]
    assert {i: r["name"] for i, r in by_task.items()} == {1: "search", 2: "math", 4: "search"}
    nodes = {i: handler.node_of(r) for i, r in by_task.items()}
    assert {name for name, _ in nodes.values()} == {"plan_and_schedule"}
    # Tasks of one round share their node run; the replan's task is under the second run.
    assert nodes[1][1] == nodes[2][1] != nodes[4][1]
    graph_runs = [r for r in handler.runs.values() if r["name"] == "LLMCompiler"]
    assert len(graph_runs) == 1
    for _, node_run in nodes.values():
        assert handler.runs[node_run]["parent"] in handler.runs  # the graph run


def test_approved_tool_runs_are_children_of_the_approve_node() -> None:
    app = build(interrupt_before_tools=["math"], checkpointer=InMemorySaver())
    handler = Runs()
    config: Any = {"callbacks": [handler], "configurable": {"thread_id": "t"}}
    app.invoke({"messages": [("user", "q")]}, config)
    app.invoke(Command(resume={"decisions": [{"type": "approve"}]}), config)
    nodes = {run["task"]: handler.node_of(run)[0] for run in handler.tools()}
    assert nodes == {1: "plan_and_schedule", 2: "approve", 4: "plan_and_schedule"}


SCRIPT = textwrap.dedent(
    """
    from langchain_core.tracers.langchain import wait_for_all_tracers
    from llmcompiler_graph import create_llm_compiler
    from llmcompiler_graph.sim import ScriptedChatModel, simulated_search_tool

    model = ScriptedChatModel(responses=[
        '1. search(query="traced")\\n2. join()<END_OF_PLAN>',
        "Action: Finish(done)",
    ])
    app = create_llm_compiler(model, [simulated_search_tool(latency_s=0.01, jitter_s=0.0)])
    print(app.invoke({"messages": [("user", "q")]})["messages"][-1].content)
    wait_for_all_tracers()
    """
)


@pytest.mark.integration
@pytest.mark.parametrize("enabled", [False, True])
def test_langsmith_receives_runs_only_when_enabled(enabled: bool) -> None:
    # A fresh interpreter per case: LangSmith reads its environment once per process.
    with RecordingServer() as langsmith:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(Path.home()),
            "LANGSMITH_ENDPOINT": langsmith.url,
            "LANGSMITH_API_KEY": "lsv2_fake_key",
            "LANGSMITH_PROJECT": "llmcompiler-tests",
            "LANGSMITH_TRACING": "true" if enabled else "false",
        }
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "done"
        posted = langsmith.posted
    if not enabled:
        assert langsmith.requests == []
        return
    assert b'"llmcompiler_task"' in posted
    assert b'"plan_and_schedule"' in posted and b'"search"' in posted
