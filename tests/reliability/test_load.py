"""Load and isolation: 50 concurrent runs of one compiled graph, from threads and asyncio.

Tools record which run called them (from the run's config) and which keys they were given
(from the plan); every run must see only its own results and events, and memory and thread
counts must come back to where they started.
"""

from __future__ import annotations

import asyncio
import gc
import random
import re
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from langchain_core.messages import BaseMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.sim import ScriptedChatModel

from .support import run_bounded, settle_threads

pytestmark = pytest.mark.timeout(240)

RUNS = 50


def question_id(messages: list[BaseMessage]) -> str:
    match = re.search(r"run-\d+", next(m.text for m in messages if m.type == "human"))
    assert match is not None
    return match.group(0)


def planner_reply(messages: list[BaseMessage]) -> str:
    run = question_id(messages)
    return (
        f'1. lookup(key="{run}-a")\n2. lookup(key="{run}-b")\n'
        f'3. combine(left="$1", right="$2")\n4. join()<END_OF_PLAN>'
    )


def joiner_reply(messages: list[BaseMessage]) -> str:
    found = sorted(set(re.findall(r"value\(run-\d+-[ab]\)", messages[-1].text)))
    return f"Thought: done.\nAction: Finish({' '.join(found)})"


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mixups: list[str] = []
        self.calls = 0
        self.in_flight: dict[str, int] = {}
        self.peak_runs = 0  # most runs with a lookup in flight at once
        self.barrier = threading.Barrier(RUNS)

        @tool
        def lookup(key: str, config: RunnableConfig) -> str:
            """Look a key up (sleeps a little, so runs interleave)."""
            self.check(config, key)
            run = config.get("metadata", {}).get("run")
            with self.lock:
                self.in_flight[run] = self.in_flight.get(run, 0) + 1
                self.peak_runs = max(self.peak_runs, len(self.in_flight))
            if key.endswith("-a"):
                # Every run of a batch meets here: all 50 are in flight at the same moment.
                self.barrier.wait(timeout=60)
            time.sleep(random.uniform(0.001, 0.01))
            with self.lock:
                self.in_flight[run] -= 1
                if not self.in_flight[run]:
                    del self.in_flight[run]
            return f"value({key})"

        @tool
        def combine(left: str, right: str, config: RunnableConfig) -> str:
            """Combine two results."""
            self.check(config, left, right)
            return f"{left}+{right}"

        self.tools = [lookup, combine]

    def check(self, config: RunnableConfig, *texts: str) -> None:
        run = config.get("metadata", {}).get("run")
        with self.lock:
            self.calls += 1
            for text in texts:
                if f"{run}-" not in text or re.search(rf"run-(?!{run[4:]}-)\d+", text):
                    self.mixups.append(f"{run} got {text}")


def build() -> tuple[Any, Recorder, list[ScriptedChatModel]]:
    recorder = Recorder()
    planner = ScriptedChatModel(responses=planner_reply)
    joiner = ScriptedChatModel(responses=joiner_reply)
    app = create_llm_compiler(planner, recorder.tools, joiner_model=joiner, max_concurrency=4)
    return app, recorder, [planner, joiner]


def check_answer(run: str, messages: list[BaseMessage]) -> None:
    # Results first: if one failed, its error message is what the assertion shows.
    for m in messages:
        if isinstance(m, ToolMessage):
            assert m.status == "success", f"{run}: {m.content}"
            assert run in m.content and not re.search(rf"run-(?!{run[4:]}-)\d+", m.content)
    assert messages[-1].content == f"value({run}-a) value({run}-b)", messages


def forget(*models: ScriptedChatModel) -> None:
    # The scripted models keep every prompt for inspection; that is test bookkeeping.
    for model in models:
        model.calls.clear()
        model.events.clear()


def threaded_batch(app: Any, first: int) -> None:
    def one(i: int) -> None:
        run = f"run-{i}"
        out = app.invoke({"messages": [("user", f"Question {run}?")]}, {"metadata": {"run": run}})
        check_answer(run, out["messages"])

    with ThreadPoolExecutor(max_workers=RUNS) as pool:
        list(pool.map(one, range(first, first + RUNS)))


async def async_batch(app: Any, first: int) -> None:
    async def one(i: int) -> None:
        run = f"run-{i}"
        final: dict[str, Any] = {}
        async for kind, data in app.astream(
            {"messages": [("user", f"Question {run}?")]},
            {"metadata": {"run": run}},
            stream_mode=["custom", "values"],
        ):
            if kind == "values":
                final = data
            else:  # task events of this run only
                assert own_runs_only(run, data), data
        check_answer(run, final["messages"])

    await asyncio.gather(*(one(i) for i in range(first, first + RUNS)))


def own_runs_only(run: str, data: object) -> bool:
    return all(found == run for found in re.findall(r"run-\d+", str(data)))


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["threads", "asyncio"])
def test_fifty_concurrent_runs_stay_isolated_and_release_resources(mode: str) -> None:
    before = threading.enumerate()
    app, recorder, models = build()

    def batch(first: int) -> None:
        if mode == "threads":
            threaded_batch(app, first)
        else:
            asyncio.run(async_batch(app, first))

    run_bounded(lambda: batch(0), 120)  # warm-up: imports, caches, lazy singletons
    forget(*models)
    tracemalloc.start()
    try:
        gc.collect()
        baseline = tracemalloc.get_traced_memory()[0]
        growth = []
        for n in (1, 2):
            run_bounded(lambda n=n: batch(n * RUNS), 120)
            forget(*models)
            gc.collect()
            growth.append(tracemalloc.get_traced_memory()[0] - baseline)
    finally:
        tracemalloc.stop()
    assert recorder.mixups == []
    assert recorder.calls == 3 * RUNS * 3  # 3 batches x 50 runs x 3 tool calls
    print(
        f"\n{mode}: traced memory growth after 1 and 2 batches of {RUNS}: "
        f"{[g // 1024 for g in growth]} KiB; up to {recorder.peak_runs} runs at once"
    )
    # Steady state: 100 more runs keep (almost) nothing: no per-run state is retained.
    assert growth[-1] < 2 * 1024 * 1024, growth
    assert recorder.peak_runs == RUNS  # all runs of a batch were in flight together
    assert settle_threads(before) == []
    assert threading.active_count() <= len(before)
