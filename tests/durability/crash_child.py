"""A process the crash tests start, kill with SIGKILL, and start again on the same thread.

Usage: ``python crash_child.py SCENARIO PHASE STORE LOG [sync|async]``. Every side effect
(a tool call, a plan asked of the planner) is appended to LOG, one line each, so the parent
counts them across processes. In phase ``crash`` the process stops itself at the scenario's
kill point and prints ``READY`` once everything finished before that point is saved in the
checkpointer (a saver that signals its writes: no timing involved); the parent then kills
it. Phase ``resume`` (and ``pause``/``approve`` for approval) run normally.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.tools import tool
from langgraph.types import Command

from llmcompiler_graph import create_llm_compiler

SCENARIO, PHASE, STORE, LOG = sys.argv[1:5]
MODE = sys.argv[5] if len(sys.argv) > 5 else "sync"
CRASH = PHASE == "crash"
CONFIG = {"configurable": {"thread_id": "crash-test"}}

_saved = threading.Condition()
_journal: list[dict[str, Any]] = []  # journal entries the saver has written
_said_ready = False


def log(line: str) -> None:
    with open(LOG, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())


def saved_results() -> set[int]:
    return {e["index"] for e in _journal if e.get("kind") == "result"}


def saved_kinds() -> set[str]:
    return {str(e.get("kind")) for e in _journal}


def stop_here(ready: Any) -> None:
    """Wait until ``ready()`` holds for what is saved, say READY, and wait to be killed."""
    global _said_ready
    with _saved:
        if not _saved.wait_for(ready, timeout=120):
            print("NEVER-READY", flush=True)
            os._exit(3)
        # Several tools may get here at once: one line, written once, so the parent never
        # reads two READYs run together ("READYREADY") and waits forever.
        if not _said_ready:
            _said_ready = True
            sys.stdout.write("READY\n")
            sys.stdout.flush()
    threading.Event().wait()


def _signal(writes: Any) -> None:
    entries = [e for c, v in writes if c == "__llmcompiler_journal__" for e in v["entries"]]
    if entries:
        with _saved:
            _journal.extend(entries)
            _saved.notify_all()


def signalling(saver_cls: type) -> type:
    class Signalling(saver_cls):  # type: ignore[misc, valid-type]
        def put_writes(self, config: Any, writes: Any, task_id: str, task_path: str = "") -> None:
            super().put_writes(config, writes, task_id, task_path)
            _signal(writes)

        async def aput_writes(
            self, config: Any, writes: Any, task_id: str, task_path: str = ""
        ) -> None:
            await super().aput_writes(config, writes, task_id, task_path)
            _signal(writes)

    return Signalling


PLANS = {
    "inflight": (
        '1. effect(name="e1", delay=0.3)\n2. effect(name="e2", delay=0.2)\n'
        '3. effect(name="e3", delay=0.0)\n4. hang(name="h4")\n5. hang(name="h5")\n'
        '6. hang(name="h6")\n7. effect(name="e7", after="$1 $2 $3 $4")\n8. join()<END_OF_PLAN>'
    ),
    "midstream": (
        '1. effect(name="e1")\n2. effect(name="e2", delay=0.1)\n'
        "<<CUT>>"
        '3. effect(name="e3")\n4. join()<END_OF_PLAN>'
    ),
    "approval": (
        '1. effect(name="e1")\n2. send_email(to="a")\n3. send_email(to="b")\n'
        '4. hang_email(to="c")\n5. effect(name="e5", after="$2 $3 $4")\n6. join()<END_OF_PLAN>'
    ),
    "wide": "".join(f'{i}. hang(name="w{i}")\n' for i in range(1, 9)) + "9. join()<END_OF_PLAN>",
}


class Planner(BaseChatModel):
    """Streams the scenario's plan in small chunks; answers as the joiner."""

    @property
    def _llm_type(self) -> str:
        return "crash-test"

    def _is_joiner(self, messages: list[BaseMessage]) -> bool:
        return "Finish(" in messages[0].text

    def _answer(self, messages: list[BaseMessage]) -> str:
        observations = [
            line for line in messages[-1].text.splitlines() if line.startswith("Observation")
        ]
        log("joiner")
        return f"Thought: done.\nAction: Finish({len(observations)} observations)"

    def _generate(self, messages: list[BaseMessage], *a: Any, **k: Any) -> ChatResult:
        text = "".join(c.message.text for c in self._stream(messages))
        return ChatResult(generations=[ChatGeneration(message=AIMessageChunk(content=text))])

    def _stream(self, messages: list[BaseMessage], *a: Any, **k: Any) -> Iterator[Any]:
        if self._is_joiner(messages):
            yield ChatGenerationChunk(message=AIMessageChunk(content=self._answer(messages)))
            return
        log("plan")
        plan = PLANS[SCENARIO]
        head, _, tail = plan.partition("<<CUT>>")
        for i in range(0, len(head), 7):
            yield ChatGenerationChunk(message=AIMessageChunk(content=head[i : i + 7]))
        if tail and CRASH:  # the stream stops here until the process is killed
            stop_here(lambda: {1, 2} <= saved_results() and "plan" in saved_kinds())
        for i in range(0, len(tail), 7):
            yield ChatGenerationChunk(message=AIMessageChunk(content=tail[i : i + 7]))


def block_after(names: set[int]) -> None:
    if CRASH:
        stop_here(lambda: names <= saved_results() and "plan_end" in saved_kinds())


@tool
def effect(name: str, delay: float = 0.0, after: str = "") -> str:
    """A side effect that returns its own name."""
    threading.Event().wait(delay)
    log(f"effect {name}")
    return f"did {name}"


@tool
def hang(name: str) -> str:
    """A side effect in flight at the crash."""
    log(f"effect {name}")
    if SCENARIO == "wide":
        block_after(set())
    block_after({1, 2, 3})
    return f"did {name}"


@tool
def send_email(to: str) -> str:
    """Send an email (needs approval)."""
    log(f"email {to}")
    return f"sent to {to}"


@tool
def hang_email(to: str) -> str:
    """Send an email, then get stuck (needs approval)."""
    log(f"email {to}")
    if CRASH:
        stop_here(lambda: {2, 3} <= saved_results())
    return f"sent to {to}"


@contextmanager
def checkpointer() -> Iterator[Any]:
    if STORE.startswith("postgresql://"):
        from langgraph.checkpoint.postgres import PostgresSaver

        with signalling(PostgresSaver).from_conn_string(STORE) as saver:
            saver.setup()
            yield saver
    else:
        from langgraph.checkpoint.sqlite import SqliteSaver

        with signalling(SqliteSaver).from_conn_string(STORE) as saver:
            yield saver


@asynccontextmanager
async def acheckpointer() -> AsyncIterator[Any]:
    if STORE.startswith("postgresql://"):
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        async with signalling(AsyncPostgresSaver).from_conn_string(STORE) as saver:
            await saver.setup()
            yield saver
    else:
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        async with signalling(AsyncSqliteSaver).from_conn_string(STORE) as saver:
            yield saver


def build(saver: Any) -> Any:
    approval = ["send_email", "hang_email"] if SCENARIO == "approval" else []
    return create_llm_compiler(
        Planner(),
        [effect, hang, send_email, hang_email],
        checkpointer=saver,
        interrupt_before_tools=approval,
    )


def payload() -> Any:
    if PHASE == "pause" or (PHASE == "crash" and SCENARIO != "approval"):
        return {"messages": [("user", "go")]}
    if PHASE == "approve" or (PHASE == "crash" and SCENARIO == "approval"):
        return Command(resume={"decisions": [{"type": "approve"}] * 3})  # tasks 2, 3, 4
    return None


async def arun() -> Any:
    async with acheckpointer() as saver:
        return await build(saver).ainvoke(payload(), CONFIG)


def main() -> None:
    if MODE == "async":
        report(asyncio.run(arun()))
        return
    with checkpointer() as saver:
        report(build(saver).invoke(payload(), CONFIG))


def report(out: Any) -> None:
    results = {
        m.artifact["index"]: [m.status, m.content] for m in out["messages"] if m.type == "tool"
    }
    plans = [m for m in out["messages"] if m.type == "ai" and m.name == "planner"]
    summary = {"results": results, "interrupt": "__interrupt__" in out}
    summary["plan_error"] = plans[-1].additional_kwargs["llmcompiler"].get("error")
    summary["answer"] = out["messages"][-1].content
    print("RESULT " + json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
