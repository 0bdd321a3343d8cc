"""``langgraph dev`` + SDK: a plan task whose tool calls ``interrupt()`` pauses and resumes."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import dev_server
from devserver import REPO, DevServer, offline_env
from langgraph_sdk import get_sync_client

pytestmark = pytest.mark.integration

GRAPH_MODULE = textwrap.dedent(
    '''
    """A served graph whose plan runs a tool that asks a human (interrupt)."""
    from pathlib import Path

    from langchain_core.messages import BaseMessage
    from langchain_core.tools import tool
    from langgraph.types import interrupt

    from llmcompiler_graph import create_llm_compiler
    from llmcompiler_graph.sim import ScriptedChatModel

    LOG = Path(__file__).with_name("runs.log")
    PLAN = '1. work(x="a")\\n2. ask_human(question="Which color?")\\n3. work(x="$2")\\njoin()'


    def reply(messages: list[BaseMessage]) -> str:
        if "Finish(" in messages[0].text:
            return "Thought: done.\\nAction: Finish(finished)"
        return PLAN


    @tool
    def ask_human(question: str) -> str:
        """Ask a human."""
        answer = interrupt({"question": question})
        return f"human said {answer}"


    @tool
    def work(x: str) -> str:
        """Do some work (each run is logged)."""
        with LOG.open("a") as log:
            log.write(x + "\\n")
        return f"worked {x}"


    graph = create_llm_compiler(ScriptedChatModel(responses=reply), [ask_human, work])
    '''
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevServer, Path]]:
    workdir = tmp_path_factory.mktemp("langgraph-dev-interrupt")
    (workdir / "interrupting.py").write_text(GRAPH_MODULE)
    config = workdir / "langgraph.json"
    config.write_text(
        json.dumps(
            {"dependencies": [str(REPO)], "graphs": {"interrupting": "./interrupting.py:graph"}}
        )
    )
    with dev_server(workdir, config, offline_env()) as server:
        yield server, workdir / "runs.log"


def test_a_tool_interrupt_pauses_the_run_and_resumes_with_the_answer(
    served: tuple[DevServer, Path],
) -> None:
    server, log = served
    client = get_sync_client(url=server.url)
    thread = client.threads.create()["thread_id"]
    question: dict[str, Any] = {"messages": [{"role": "user", "content": "Go."}]}
    client.runs.wait(thread, "interrupting", input=question)
    state = client.threads.get_state(thread)
    interrupts = [i for task in state["tasks"] for i in task.get("interrupts", [])]
    assert [i["value"] for i in interrupts] == [{"question": "Which color?"}]
    assert log.read_text().split() == ["a"]  # the round's other task ran once, and was kept

    final = client.runs.wait(thread, "interrupting", command={"resume": "blue"})
    assert isinstance(final, dict)
    results = {m["tool_call_id"]: m["content"] for m in final["messages"] if m["type"] == "tool"}
    assert "human said blue" in results.values()
    assert "worked human said blue" in results.values()
    assert final["messages"][-1]["content"] == "finished"
    assert log.read_text().split() == ["a", "human", "said", "blue"]  # nothing ran twice
