"""The hazard workload: a plan of file edits and reads on shared files, and searches.

A :class:`HazardCase` is one question's plan: searches, and ``write_file``,
``append_file`` (a read-modify-write: two overlapping appends lose one line) and
``read_file`` calls on three files, in a seeded random order; some appends write a
search's result (``$N``), some writes copy what a read returned. :func:`run_sequentially`
is the reference: the plan run step by step, in plan order. :func:`make_tools` builds the
tools on a :class:`Files` store, sleeping like real ones (sync and async).
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

from llmcompiler_graph.sim import simulated_latency

__all__ = [
    "FILES",
    "TOOL_EFFECTS",
    "FileTimings",
    "Files",
    "HazardCase",
    "HazardStep",
    "hazard_case",
    "make_tools",
    "run_sequentially",
]

FILES: Mapping[str, str] = {
    "notes.md": "# Notes\n",
    "todo.md": "# To do\n- check the sources\n",
    "report.md": "# Report\n",
}
"""The files every run starts from."""

TOOL_EFFECTS: Mapping[str, Mapping[str, list[str]]] = {
    "write_file": {"writes": ["fs"]},
    "append_file": {"writes": ["fs"]},
    "read_file": {"reads": ["fs"]},
}
"""What the benchmark declares (``tool_effects``): every file tool shares ``fs``."""

_TOPICS = (
    "tidal power in Brittany",
    "the history of the bicycle",
    "Baltic amber trade",
    "alpine glacier retreat",
    "the first transatlantic cable",
    "urban beekeeping",
    "Roman concrete",
    "the Hanseatic League",
    "desert locust swarms",
    "Antarctic krill",
)


@dataclass(frozen=True)
class HazardStep:
    """One call of the plan: its tool, arguments (``"$N"`` for a result) and ``$N`` inputs."""

    index: int
    tool: str
    args: Mapping[str, str]
    deps: tuple[int, ...] = ()


@dataclass(frozen=True)
class HazardCase:
    """One question: its plan's steps in order, and the seed of the search latencies."""

    id: str
    question: str
    steps: tuple[HazardStep, ...]
    seed: int
    answer: str = "The notes, the to-do list and the report are up to date."

    @property
    def plan(self) -> str:
        """Return the planner's reply: a thought, the numbered steps, ``join()``."""
        lines = ["Thought: I search and update the files in the order the edits must happen."]
        for s in self.steps:
            args = ", ".join(f"{k}={json.dumps(v)}" for k, v in s.args.items())
            lines.append(f"{s.index}. {s.tool}({args})")
        lines.append(f"{len(self.steps) + 1}. join()<END_OF_PLAN>")
        return "\n".join(lines)

    @property
    def joiner(self) -> str:
        """Return the joiner's reply."""
        return f"Thought: Every edit and search is done.\nAction: Finish({self.answer})"


def hazard_case(seed: int, searches: int = 6, file_ops: int = 12) -> HazardCase:
    """Build a plan of ``searches`` searches and ``file_ops`` file calls in a seeded order."""
    rnd = random.Random(seed)
    kinds = ["search"] * searches + [
        rnd.choice(("write", "copy", "append", "append", "read", "read", "read"))
        for _ in range(file_ops)
    ]
    rnd.shuffle(kinds)
    steps: list[HazardStep] = []
    found: list[int] = []
    reads: list[int] = []
    for i, kind in enumerate(kinds, start=1):
        path = rnd.choice(tuple(FILES))
        if kind == "search":
            topic = _TOPICS[(seed + i) % len(_TOPICS)]
            steps.append(HazardStep(i, "search", {"query": f"{topic} ({seed}.{i})"}))
            found.append(i)
        elif kind == "read" or (kind == "copy" and not reads):
            steps.append(HazardStep(i, "read_file", {"path": path}))
            reads.append(i)
        elif kind == "copy":
            source = rnd.choice(reads)
            steps.append(
                HazardStep(i, "write_file", {"path": path, "text": f"${source}"}, (source,))
            )
        elif kind == "write":
            steps.append(HazardStep(i, "write_file", {"path": path, "text": f"# {path} v{i}\n"}))
        elif found and rnd.random() < 0.6:
            source = rnd.choice(found)
            steps.append(
                HazardStep(i, "append_file", {"path": path, "line": f"${source}"}, (source,))
            )
        else:
            steps.append(HazardStep(i, "append_file", {"path": path, "line": f"- item {i}"}))
    question = f"Research the topics and keep my notes, to-do list and report up to date ({seed})."
    return HazardCase(f"hazards-{seed}", question, tuple(steps), seed)


@dataclass(frozen=True)
class FileTimings:
    """Simulated latencies (seconds); a search's jitter is seeded by its query."""

    search_s: float = 1.0
    search_jitter_s: float = 0.2
    read_s: float = 0.6
    write_s: float = 1.0

    def duration(self, step: HazardStep, seed: int) -> float:
        """Return how long ``step``'s call takes."""
        if step.tool == "search":
            query = step.args["query"]
            return simulated_latency(
                query, latency_s=self.search_s, jitter_s=self.search_jitter_s, seed=seed
            )
        return self.read_s if step.tool == "read_file" else self.write_s


@dataclass
class Files:
    """An in-memory set of text files, shared by the file tools of one run."""

    contents: dict[str, str] = field(default_factory=lambda: dict(FILES))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def read(self, path: str) -> str:
        with self.lock:
            return self.contents.get(path, f"(no file named {path})")

    def write(self, path: str, text: str) -> None:
        with self.lock:
            self.contents[path] = text


def search_result(query: str) -> str:
    """Return the simulated search result for ``query``."""
    return f"{query}: a summary of what the sources say about it."


def _calls(files: Files) -> dict[str, Callable[..., Callable[[], str]]]:
    """Each tool as a call that starts it and returns what ends it, after its wait.

    A read returns what the file holds when its wait ends; a write stores its text then;
    an append reads the file before its wait and writes it back after (so two appends that
    overlap lose a line, as with a real read-modify-write).
    """

    def read_file(path: str) -> Callable[[], str]:
        return lambda: files.read(path)

    def write_file(path: str, text: str) -> Callable[[], str]:
        def done() -> str:
            files.write(path, text)
            return f"wrote {len(text)} characters to {path}"

        return done

    def append_file(path: str, line: str) -> Callable[[], str]:
        before = files.read(path)

        def done() -> str:
            text = before + line.rstrip("\n") + "\n"
            files.write(path, text)
            return f"{path} now has {text.count(chr(10))} lines"

        return done

    def search(query: str) -> Callable[[], str]:
        return lambda: search_result(query)

    return {
        "read_file": read_file,
        "write_file": write_file,
        "append_file": append_file,
        "search": search,
    }


_DESCRIPTIONS = {
    "search": "search(query: str) -> str: searches the web for the query.",
    "read_file": "read_file(path: str) -> str: returns the text of a file.",
    "write_file": "write_file(path: str, text: str) -> str: replaces a file's text.",
    "append_file": "append_file(path: str, line: str) -> str: adds a line at the end of a file.",
}


def make_tools(files: Files, timings: FileTimings, seed: int) -> list[BaseTool]:
    """Build the four tools on ``files``, each sleeping its simulated latency (sync and async)."""
    tools: list[BaseTool] = []
    for name, begin in _calls(files).items():

        def latency(kwargs: Mapping[str, Any], name: str = name) -> float:
            step = HazardStep(0, name, {k: str(v) for k, v in kwargs.items()})
            return timings.duration(step, seed)

        def func(begin: Any = begin, latency: Any = latency, **kwargs: Any) -> str:
            done = begin(**kwargs)
            time.sleep(latency(kwargs))
            return str(done())

        async def coroutine(begin: Any = begin, latency: Any = latency, **kwargs: Any) -> str:
            done = begin(**kwargs)
            await asyncio.sleep(latency(kwargs))
            return str(done())

        tools.append(_tool(name, func, coroutine))
    return tools


def _tool(name: str, func: Callable[..., str], coroutine: Callable[..., Any]) -> BaseTool:
    from pydantic import create_model

    params = {"search": ("query",), "read_file": ("path",), "write_file": ("path", "text")}
    fields = params.get(name, ("path", "line"))
    schema = create_model(f"{name}_args", **{f: (str, ...) for f in fields})  # type: ignore[call-overload]
    return StructuredTool(
        name=name,
        description=_DESCRIPTIONS[name],
        args_schema=schema,
        func=lambda **kw: func(**kw),
        coroutine=lambda **kw: coroutine(**kw),
    )


def run_sequentially(case: HazardCase) -> tuple[dict[int, str], dict[str, str]]:
    """Run the plan step by step, in plan order: each task's result and the files at the end."""
    files = Files()
    calls = _calls(files)
    results: dict[int, str] = {}
    for step in case.steps:
        args = {
            k: results[int(v[1:])] if v.startswith("$") and v[1:].isdigit() else v
            for k, v in step.args.items()
        }
        done = calls[step.tool](**args)
        results[step.index] = done()
    return results, dict(files.contents)
