"""Sweep the crash moment: kill a run at every checkpointer write and every tool call.

Usage: ``python -m tests.durability.sweep SCENARIO FORMAT MODE DIR``, from the repository
root (SCENARIO ``round`` or ``approval``, FORMAT ``text`` or ``tool_calls``, MODE ``sync``
or ``async``). Prints one line, ``SWEEP {json}``: the kill points tried and what went wrong.

This process imports everything once, then forks a child per phase (fork is cheap, the
imports are not, and the parent starts no thread before forking). A crash child counts
the checkpointer's writes (LangGraph's checkpoints and pending writes, and the journal's
entries) and the tool calls, and kills itself with SIGKILL right after the k-th write has
returned, or inside the k-th tool call once its side effect is done: no timing involved.
For k = 1, 2, ... until a run ends before its kill point, a resume child then runs the
thread to its end with ``invoke(None)`` on the same SQLite file, and the parent checks:

* a tool call whose result the journal had saved never runs again, and no call runs more
  than twice (once before the crash, at most once after);
* every task of the final plan has a result, the value its own call returns (results
  never go to another task), and the run answers;
* a plan whose end the journal had saved is replayed whole (not cut), and a plan any of
  whose text was saved is not asked for again;
* in ``approval`` the crash comes after the reviewer's answer, in the ``approve`` pass.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolCall
from langchain_core.tools import tool
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.types import Command

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.nodes.journal import JOURNAL_CHANNEL
from llmcompiler_graph.sim import ScriptedChatModel

CONFIG = {"configurable": {"thread_id": "sweep"}}

# (index, tool, id, after): "after" references earlier results; "mail" needs approval.
TASKS: dict[str, list[tuple[int, str, str, str]]] = {
    "round": [
        (1, "work", "a", ""),
        (2, "work", "b", ""),
        (3, "work", "c", "$1 $2"),
        (4, "work", "d", ""),
        (5, "work", "e", "$3 $4"),
        (6, "work", "f", ""),
    ],
    "approval": [
        (1, "work", "a", ""),
        (2, "mail", "b", ""),
        (3, "mail", "c", "$1"),
        (4, "work", "d", "$2 $3"),
        (5, "work", "e", ""),
    ],
}


def expected(scenario: str) -> dict[int, str]:
    """Return what each task's own call returns (its references substituted)."""
    values: dict[int, str] = {}
    for index, name, ident, after in TASKS[scenario]:
        for ref in sorted({int(p[1:]) for p in after.split()}, reverse=True):
            after = after.replace(f"${ref}", values[ref])
        values[index] = f"{name} {ident}" + (f" after [{after}]" if after else "")
    return values


def text_plan(scenario: str) -> str:
    lines = []
    for index, name, ident, after in TASKS[scenario]:
        extra = f', after="{after}"' if after else ""
        lines.append(f'{index}. {name}(ident="{ident}"{extra})\n')
    return "".join(lines) + f"{len(lines) + 1}. join()<END_OF_PLAN>"


def tool_call_plan(scenario: str) -> AIMessage:
    calls = [
        ToolCall(name=name, args={"ident": ident, "after": after}, id=f"call_{index}")
        for index, name, ident, after in TASKS[scenario]
    ]
    return AIMessage(content="Doing these.", tool_calls=calls)


# -- a child's phase --------------------------------------------------------------------


class Phase:
    """What one child process does: run, count, and maybe kill itself."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.lock = threading.Lock()
        self.writes = 0
        self.calls = 0

    def log(self, line: str) -> None:
        with open(self.spec["log"], "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())

    def wrote(self) -> None:
        with self.lock:
            self.writes += 1
            if self.spec.get("kill") == ["write", self.writes]:
                os.kill(os.getpid(), signal.SIGKILL)

    def called(self) -> None:
        with self.lock:
            self.calls += 1
            if self.spec.get("kill") == ["call", self.calls]:
                os.kill(os.getpid(), signal.SIGKILL)

    def saver_class(self) -> type:
        phase = self
        base: type = AsyncSqliteSaver if self.spec["mode"] == "async" else SqliteSaver

        class Counting(base):  # type: ignore[misc, valid-type]
            def put(self, *a: Any, **k: Any) -> Any:
                out = super().put(*a, **k)
                phase.wrote()
                return out

            def put_writes(self, *a: Any, **k: Any) -> None:
                super().put_writes(*a, **k)
                phase.wrote()

            async def aput(self, *a: Any, **k: Any) -> Any:
                out = await super().aput(*a, **k)
                phase.wrote()
                return out

            async def aput_writes(self, *a: Any, **k: Any) -> None:
                await super().aput_writes(*a, **k)
                phase.wrote()

        return Counting

    def model(self) -> ScriptedChatModel:
        scenario, fmt = self.spec["scenario"], self.spec["format"]

        def reply(messages: list[BaseMessage]) -> str | AIMessage:
            if "Finish(" in messages[0].text:
                return "Thought: done.\nAction: Finish(done)"
            self.log("plan")
            return tool_call_plan(scenario) if fmt == "tool_calls" else text_plan(scenario)

        return ScriptedChatModel(responses=reply, stream_tool_calls=fmt == "tool_calls")

    def tools(self) -> list[Any]:
        phase = self

        @tool
        def work(ident: str, after: str = "") -> str:
            """Do a piece of work (a side effect) and say what was done."""
            phase.log(f"work {ident}")
            phase.called()
            return f"work {ident}" + (f" after [{after}]" if after else "")

        @tool
        def mail(ident: str, after: str = "") -> str:
            """Send an email (needs approval)."""
            phase.log(f"mail {ident}")
            phase.called()
            return f"mail {ident}" + (f" after [{after}]" if after else "")

        return [work, mail]

    def payload(self) -> Any:
        step = self.spec["step"]
        if step == "start":
            return {"messages": [("user", "go")]}
        if step == "approve":
            return Command(resume={"decisions": [{"type": "approve"}] * 2})  # mail b, mail c
        return None

    def build(self, saver: Any) -> Any:
        return create_llm_compiler(
            self.model(),
            self.tools(),
            checkpointer=saver,
            plan_format=self.spec["format"],
            interrupt_before_tools=["mail"],
        )

    def run(self) -> dict[str, Any]:
        store = self.spec["store"]
        if self.spec["mode"] == "async":

            async def go() -> Any:
                async with self.saver_class().from_conn_string(store) as saver:
                    return await self.build(saver).ainvoke(
                        self.payload(), CONFIG, durability="sync"
                    )

            out = asyncio.run(go())
        else:
            with self.saver_class().from_conn_string(store) as saver:
                out = self.build(saver).invoke(self.payload(), CONFIG, durability="sync")
        results = {
            str(m.artifact["index"]): [m.status, m.content]
            for m in out["messages"]
            if m.type == "tool"
        }
        plans = [m for m in out["messages"] if m.type == "ai" and m.name == "planner"]
        return {
            "results": results,
            "interrupt": "__interrupt__" in out,
            "plan_error": plans[-1].additional_kwargs["llmcompiler"].get("error")
            if plans
            else None,
            "answer": out["messages"][-1].content,
            "writes": self.writes,
            "calls": self.calls,
        }


def in_child(spec: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
    """Run a phase in a forked child; return its exit status and its report."""
    report = Path(spec["log"]).with_suffix(f".{spec['step']}.json")
    report.unlink(missing_ok=True)
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            report.write_text(json.dumps(Phase(spec).run()))
            code = 0
        except BaseException as exc:  # reported to the parent through the file
            report.write_text(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    data = json.loads(report.read_text()) if report.exists() else None
    return status, data


def effects(log: Path) -> Counter[str]:
    return Counter(log.read_text().splitlines() if log.exists() else ())


def saved_journal(store: str) -> list[dict[str, Any]]:
    """Return the journal entries saved in ``store`` (read straight from SQLite)."""
    serde = JsonPlusSerializer()
    with sqlite3.connect(store) as conn:
        try:
            rows = conn.execute(
                "SELECT type, value FROM writes WHERE channel = ?", (JOURNAL_CHANNEL,)
            ).fetchall()
        except sqlite3.OperationalError:  # nothing was written: no table yet
            return []
    batches = [serde.loads_typed((kind, value)) for kind, value in rows]
    return [entry for batch in batches for entry in batch["entries"]]


# -- the sweep ----------------------------------------------------------------------------


def one_case(base: dict[str, Any], kill: list[Any], workdir: Path, problems: list[str]) -> bool:
    """Crash at ``kill``, resume, check; return whether the kill point was reached."""
    name = f"{kill[0]}{kill[1]}"
    store, log = workdir / f"{name}.sqlite", workdir / f"{name}.log"
    spec = {**base, "store": str(store), "log": str(log)}
    scenario = base["scenario"]
    if scenario == "approval":
        status, paused = in_child({**spec, "step": "start"})
        if status != 0 or not paused or not paused.get("interrupt"):
            problems.append(f"{name}: the first run did not pause for approval: {paused}")
            return False
        status, crashed = in_child({**spec, "step": "approve", "kill": kill})
    else:
        status, crashed = in_child({**spec, "step": "start", "kill": kill})
    if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL):
        if crashed and "error" in crashed:
            problems.append(f"{name}: the run failed before its kill point: {crashed['error']}")
        return False  # past the last write or call: the sweep is complete
    before = effects(log)
    journal = saved_journal(str(store))
    status, out = in_child({**spec, "step": "resume"})
    if status == 0 and out is not None and out.get("interrupt") and scenario == "approval":
        # The crash came before LangGraph had saved the answer itself: it asks again.
        status, out = in_child({**spec, "step": "approve"})
    if status != 0 or out is None or "error" in out:
        problems.append(f"{name}: the resumed run failed: {out}")
        return True
    after = effects(log)
    check(name, scenario, journal, before, after, out, problems)
    return True


def check(
    name: str,
    scenario: str,
    journal: list[dict[str, Any]],
    before: Counter[str],
    after: Counter[str],
    out: dict[str, Any],
    problems: list[str],
) -> None:
    """Add to ``problems`` what the resumed run got wrong."""
    tasks = {index: f"{tool} {ident}" for index, tool, ident, _ in TASKS[scenario]}
    saved = {e["index"] for e in journal if e.get("kind") == "result"}
    for index in saved:
        if after[tasks[index]] != 1:
            problems.append(
                f"{name}: task {index}'s result was saved, yet it ran {after[tasks[index]]} times"
            )
    for effect, count in after.items():
        if effect != "plan" and count > 2:
            problems.append(f"{name}: {effect!r} ran {count} times")
    if any(e.get("kind") in ("plan", "plan_end") for e in journal) and after["plan"] != 1:
        problems.append(f"{name}: the plan was asked {after['plan']} times though it was saved")
    if out.get("interrupt"):
        problems.append(f"{name}: the resumed run paused again")
        return
    want = expected(scenario)
    ended = any(e.get("kind") == "plan_end" for e in journal)
    cut = out.get("plan_error") is not None
    if ended and cut:
        problems.append(f"{name}: the saved end of plan was ignored: {out['plan_error']}")
    results = {int(i): tuple(v) for i, v in out["results"].items()}
    for index, value in want.items():
        got = results.get(index)
        if got is None:
            if not cut:
                problems.append(f"{name}: task {index} has no result (plan not cut)")
            continue
        if got != ("success", value):
            problems.append(f"{name}: task {index} got {got}, expected {value!r}")
    if out.get("answer") != "done":
        problems.append(f"{name}: no answer: {out.get('answer')!r}")


def sweep(scenario: str, fmt: str, mode: str, workdir: Path) -> dict[str, Any]:
    base = {"scenario": scenario, "format": fmt, "mode": mode}
    problems: list[str] = []
    tried = {"write": 0, "call": 0}
    for kind in ("write", "call"):
        k = 1
        while k < 200 and one_case(base, [kind, k], workdir, problems):
            tried[kind] = k
            k += 1
    return {"tried": tried, "problems": problems}


def main() -> None:
    scenario, fmt, mode = sys.argv[1:4]
    workdir = Path(sys.argv[4]) if len(sys.argv) > 4 else Path(tempfile.mkdtemp())
    workdir.mkdir(parents=True, exist_ok=True)
    print("SWEEP " + json.dumps(sweep(scenario, fmt, mode, workdir)), flush=True)


if __name__ == "__main__":
    main()
