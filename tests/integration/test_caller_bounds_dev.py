"""``langgraph dev`` + SDK as an untrusted caller: a run may tighten the deployer's settings.

The served graph asks before ``send_email`` and runs at most 2 tools at once; a caller's
context (per run, or an assistant's) that drops the approval or raises a limit is refused
before anything runs, one that adds approvals or lowers limits is honoured, and a setting
the deployer opted into caller control (``caller_may_loosen``) may be raised.
"""

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
    """A deployer's graph: send_email needs approval, at most 2 tools at once."""
    from pathlib import Path

    from langchain_core.messages import BaseMessage
    from langchain_core.tools import tool

    from llmcompiler_graph import create_llm_compiler
    from llmcompiler_graph.sim import ScriptedChatModel

    HERE = Path(__file__).parent
    PLAN = '1. lookup(who="ada")\\n2. send_email(to="$1")\\njoin()'


    def reply(messages: list[BaseMessage]) -> str:
        if "Finish(" in messages[0].text:
            return "Thought: done.\\nAction: Finish(finished)"
        return PLAN


    @tool
    def lookup(who: str) -> str:
        """Find an address (each call is logged)."""
        with (HERE / "lookup.log").open("a") as log:
            log.write(who + "\\n")
        return f"{who}@example.test"


    @tool
    def send_email(to: str) -> str:
        """Send an email (each call is logged)."""
        with (HERE / "send_email.log").open("a") as log:
            log.write(to + "\\n")
        return "sent"


    graph = create_llm_compiler(
        ScriptedChatModel(responses=reply),
        [lookup, send_email],
        interrupt_before_tools=["send_email"],
        max_concurrency=2,
        caller_may_loosen=["max_replans"],
    )
    '''
)
QUESTION: dict[str, Any] = {"messages": [{"role": "user", "content": "Mail Ada."}]}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevServer, Path]]:
    """The deployer's graph under ``langgraph dev``, and the folder its tools log to."""
    workdir = tmp_path_factory.mktemp("langgraph-dev-bounds")
    (workdir / "deployed.py").write_text(GRAPH_MODULE)
    config = workdir / "langgraph.json"
    config.write_text(
        json.dumps({"dependencies": [str(REPO)], "graphs": {"deployed": "./deployed.py:graph"}})
    )
    with dev_server(workdir, config, offline_env()) as server:
        yield server, workdir


def logged(workdir: Path, tool: str) -> list[str]:
    log = workdir / f"{tool}.log"
    return log.read_text().split() if log.exists() else []


def paused(client: Any, thread: str) -> bool:
    state = client.threads.get_state(thread)
    return any(task.get("interrupts") for task in state["tasks"])


@pytest.mark.parametrize(
    "context",
    [
        {"interrupt_before_tools": []},
        {"interrupt_before_tools": ["lookup"]},
        {"interrupt_on": {"send_email": {"allowed_decisions": ["approve", "respond"]}}},
        {"max_concurrency": 8},
        {"max_plan_tasks": 10_000},
    ],
    ids=["no-approval", "other-approval", "more-decisions", "more-concurrency", "more-tasks"],
)
def test_a_caller_cannot_loosen_the_deployer_s_settings(
    served: tuple[DevServer, Path], context: dict[str, Any]
) -> None:
    server, workdir = served
    client = get_sync_client(url=server.url)
    name = next(iter(context))
    for how in ("run", "assistant"):
        thread = client.threads.create()["thread_id"]
        assistant = "deployed"
        run_context: dict[str, Any] | None = context
        if how == "assistant":
            assistant = client.assistants.create("deployed", context=context)["assistant_id"]
            run_context = None
        result = client.runs.wait(
            thread, assistant, input=QUESTION, context=run_context, raise_error=False
        )
        assert isinstance(result, dict) and "__error__" in result, (how, result)
        message = result["__error__"]["message"]
        assert name in message and "caller_may_loosen" in message, message
        assert "\n" not in message
        # Refused before anything ran: no tool was called, nothing waits for approval.
        assert logged(workdir, "lookup") == logged(workdir, "send_email") == []
        assert not paused(client, thread)


def test_a_caller_may_tighten_and_use_what_the_deployer_opened(
    served: tuple[DevServer, Path],
) -> None:
    server, workdir = served
    client = get_sync_client(url=server.url)
    # More approvals and lower limits: honoured (lookup now waits for a human too).
    thread = client.threads.create()["thread_id"]
    context = {"interrupt_before_tools": ["lookup", "send_email"], "max_concurrency": 1}
    client.runs.wait(thread, "deployed", input=QUESTION, context=context)
    assert paused(client, thread)
    assert logged(workdir, "lookup") == logged(workdir, "send_email") == []
    # max_replans was opened to callers by the deployer: raising it is fine (and
    # send_email still waits for approval).
    thread = client.threads.create()["thread_id"]
    client.runs.wait(thread, "deployed", input=QUESTION, context={"max_replans": 10})
    assert paused(client, thread)
    assert logged(workdir, "lookup") == ["ada"]
    assert logged(workdir, "send_email") == []
