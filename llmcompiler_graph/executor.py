"""The ``plan_and_schedule`` round: stream a plan and run each task as soon as it is parsed.

:class:`PlanRound` keeps one round's bookkeeping (parser, tasks held for approval, task
events, transcript) and is shared by the sync round (:func:`run_round`: worker threads) and
the async one (:func:`llmcompiler_graph.aexecutor.arun_round`: the event loop).
"""

from __future__ import annotations

import contextvars
import inspect
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import patch_config
from langchain_core.tools import BaseTool

from llmcompiler_graph import prompts
from llmcompiler_graph.context import Settings
from llmcompiler_graph.jobs import Job, Outcome, TaskEvent
from llmcompiler_graph.planner import PlannedTask, PlanParser, ToolSpec
from llmcompiler_graph.references import substitute
from llmcompiler_graph.render import clip, describe_tools, render_rounds
from llmcompiler_graph.scheduler import TaskFetchingUnit
from llmcompiler_graph.state import Turn
from llmcompiler_graph.transcript import (
    jsonable,
    message_text,
    observation,
    plan_message,
    result_message,
    result_text,
)

__all__ = [
    "EventRelay",
    "EventSink",
    "PlanRound",
    "build_planner_messages",
    "prior_outcomes",
    "run_round",
    "task_event",
    "tool_job",
]

EventSink = Callable[[dict[str, Any]], None]

MAX_TRAILING_CHARS = 2_000
"""Text a planner may stream after its plan ended before the stream is closed early."""

# One offset from the monotonic clock to Unix time, so event times keep their true order.
_WALL_CLOCK_OFFSET = time.time() - time.perf_counter()


def build_planner_messages(
    turn: Turn, tools: list[BaseTool], settings: Settings
) -> list[BaseMessage]:
    """Build the planner's prompt: system rules and tools, history, question, earlier rounds."""
    next_index = turn.next_index
    examples = f"\nExamples:\n{settings.examples.strip()}\n" if settings.examples else ""
    system = prompts.fill(
        settings.planner_prompt,
        tools=describe_tools(tools),
        num_tools=len(tools),
        num_tools_plus_one=len(tools) + 1,
        examples=examples,
        next_index=next_index,
    )
    messages: list[BaseMessage] = [SystemMessage(system), *turn.history]
    question = turn.question.content if turn.question is not None else ""
    messages.append(HumanMessage(question))
    if turn.rounds:
        replan = prompts.fill(prompts.REPLAN_PROMPT, next_index=next_index)
        messages.append(HumanMessage(f"{render_rounds(turn.rounds)}\n\n{replan}"))
    return messages


def prior_outcomes(turn: Turn) -> dict[int, Outcome]:
    """Rebuild outcomes of this question's earlier results, for ``$N`` references to them."""
    outcomes: dict[int, Outcome] = {}
    for round_ in turn.rounds:
        for message in round_.results:
            artifact = message.artifact if isinstance(message.artifact, dict) else {}
            index = artifact.get("index")
            if not isinstance(index, int) or index <= 0:
                continue
            status = artifact.get("status", "error" if message.status == "error" else "ok")
            value = artifact["value"] if "value" in artifact else message.content
            outcomes[index] = Outcome(index, str(message.name or ""), status, value=value)
    return outcomes


def task_event(
    event: TaskEvent, *, deps: Collection[int] = (), extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Turn a scheduler event into a JSON-friendly custom stream event.

    Keys: ``type`` (``"llmcompiler.task"``), ``event`` (``planned``/``started``/``finished``),
    ``index``, ``tool``, ``args``, ``deps``, ``time`` (Unix seconds), and once finished
    ``status``, ``ok``, ``duration`` (seconds), ``error`` and ``observation`` (clipped).
    """
    data: dict[str, Any] = {
        "type": "llmcompiler.task",
        "event": event.kind,
        "index": event.index,
        "tool": event.name,
        "args": jsonable(event.args),
        "deps": sorted(deps),
        "time": round(_WALL_CLOCK_OFFSET + event.time, 6),
    }
    if event.outcome is not None:
        data.update(
            status=event.outcome.status,
            ok=event.outcome.ok,
            duration=round(event.outcome.duration, 6),
            error=event.outcome.error,
            observation=clip(observation(event.outcome), 500),
        )
    data.update(extra or {})
    return data


class EventRelay:
    """Send task events to LangGraph's stream writer from any thread.

    The writer reads the node's context (``get_config()``), which worker threads do not
    have, so each event is sent inside a fresh copy of the node's context.
    """

    def __init__(self, sink: EventSink) -> None:
        """Capture the calling node's context; create this on the node's thread."""
        self._sink = sink
        self._context = contextvars.copy_context()
        self.deps: dict[int, Collection[int]] = {}

    def send(self, data: dict[str, Any]) -> None:
        """Send one event dict; a failing writer never breaks the run."""
        try:
            self._context.copy().run(self._sink, data)
        except Exception:
            pass

    def __call__(self, event: TaskEvent) -> None:
        """Send a scheduler event (the scheduler's ``on_event``)."""
        self.send(task_event(event, deps=self.deps.get(event.index, ())))


def tool_job(
    task: PlannedTask,
    tools: Mapping[str, BaseTool],
    config: RunnableConfig,
    *,
    asynchronous: bool = False,
) -> Job:
    """Make a scheduler job that calls ``task``'s tool with its references substituted.

    The call gets the node's config (callbacks, tags) with ``run_name`` set to the tool and
    ``metadata["llmcompiler_task"]`` set to the task number, so traces show each tool call
    as a child of the node. With ``asynchronous``, tools that have a native async
    implementation are awaited on the event loop; other tools always run on a thread.
    """
    tool = tools.get(task.name) if task.error is None else None
    if tool is None:
        error = task.error or f"task {task.index} '{task.name}': no tool named {task.name!r}"
        return Job(task.index, task.name or "?", None, frozenset(), error, task.args)
    tool_config = patch_config(config, run_name=tool.name)
    tool_config["metadata"] = {**tool_config.get("metadata", {}), "llmcompiler_task": task.index}

    def arguments(deps: Mapping[int, object]) -> object:
        return substitute(task.args, task.deps, deps, result_text)

    if asynchronous and has_async(tool):

        async def acall(deps: Mapping[int, object]) -> object:
            return await tool.ainvoke(arguments(deps), tool_config)  # type: ignore[arg-type]

        return Job(task.index, task.name, acall, task.deps, None, task.args)
    # The call runs in a copy of the node's context so LangGraph's stream writer and
    # tracing context reach the tool on its worker thread.
    context = contextvars.copy_context()

    def call(deps: Mapping[int, object]) -> object:
        return context.run(tool.invoke, arguments(deps), tool_config)  # type: ignore[arg-type]

    return Job(task.index, task.name, call, task.deps, None, task.args)


def has_async(tool: BaseTool) -> bool:
    """Tell whether ``tool`` has a native async implementation (else it runs on a thread)."""
    if getattr(tool, "coroutine", None) is not None:  # Tool / StructuredTool
        return True
    if hasattr(tool, "coroutine"):  # a Tool without one falls back to a thread pool
        return False
    return inspect.getattr_static(type(tool), "_arun") is not inspect.getattr_static(
        BaseTool, "_arun"
    )


class PlanRound:
    """One planning round's bookkeeping, independent of how its tasks are run."""

    def __init__(
        self,
        *,
        tools: Mapping[str, BaseTool],
        specs: Mapping[str, ToolSpec],
        turn: Turn,
        settings: Settings,
        config: RunnableConfig,
        emit: EventSink,
        asynchronous: bool = False,
    ) -> None:
        """Prepare a round; create it on the node's thread (see :class:`EventRelay`)."""
        self.prior = prior_outcomes(turn)
        self.parser = PlanParser(specs, planned=list(self.prior))
        self.events = EventRelay(emit)
        self.held: set[int] = set()
        self.stream_error: str | None = None
        self._tools = tools
        self._settings = settings
        self._config = config
        self._asynchronous = asynchronous
        self._text: list[str] = []
        self._trailing = 0
        self._tag = uuid.uuid4().hex[:8]

    @property
    def done(self) -> bool:
        """Tell whether to stop reading the stream.

        Not as soon as the plan ends: the rest of the stream is read (while the tasks run)
        so the model call ends normally, with its usage and its trace complete; only a
        model that keeps writing long after ``<END_OF_PLAN>`` is cut off.
        """
        return self.parser.done and self._trailing > MAX_TRAILING_CHARS

    def feed(self, content: object) -> list[Job]:
        """Add a streamed chunk's content; return the jobs to submit now."""
        piece = message_text(content)
        if self.parser.done:
            self._trailing += len(piece)
            return []
        self._text.append(piece)
        return self._jobs(self.parser.feed(piece))

    def close(self) -> list[Job]:
        """End the stream; return the jobs of any last task."""
        return self._jobs(self.parser.close())

    def fail(self, exc: Exception) -> None:
        """Record that the planner's stream failed (it becomes part of the plan message)."""
        self.stream_error = f"the planner's stream failed: {type(exc).__name__}: {exc}"

    def transcript(self, outcomes: Mapping[int, Outcome]) -> list[BaseMessage]:
        """Return the plan message and one result message per finished task."""
        content = "".join(self._text)
        if self.stream_error is not None:
            content = f"{content}\n[{self.stream_error}]"
        plan = plan_message(
            self.parser.tasks,
            content,
            tag=self._tag,
            thought=self.parser.final_thought,
            error=self.stream_error,
            held=sorted(self.held),
        )
        results = [
            result_message(str(call["id"]), task.name, outcomes[task.index])
            for task, call in zip(self.parser.tasks, plan.tool_calls, strict=True)
            if task.index in outcomes
        ]
        return [plan, *results]

    def _jobs(self, tasks: Iterable[PlannedTask]) -> list[Job]:
        jobs: list[Job] = []
        for task in tasks:
            self.events.deps[task.index] = sorted(task.deps)
            approval = task.error is None and self._settings.needs_approval(task.name)
            if approval or (task.error is None and task.deps & self.held):
                # Held until a human approves (or until the task it needs is approved).
                self.held.add(task.index)
                planned = TaskEvent("planned", task.index, task.name, task.args)
                self.events.send(
                    task_event(planned, deps=task.deps, extra={"awaiting_approval": approval})
                )
                continue
            job = tool_job(task, self._tools, self._config, asynchronous=self._asynchronous)
            jobs.append(job)
        return jobs


def run_round(
    *,
    model: BaseChatModel,
    messages: list[BaseMessage],
    tools: Mapping[str, BaseTool],
    specs: Mapping[str, ToolSpec],
    turn: Turn,
    settings: Settings,
    config: RunnableConfig,
    emit: EventSink,
) -> list[BaseMessage]:
    """Stream one plan, run its tasks on threads, and return the plan and its results.

    Tasks held for approval get no result here; the ``approve`` node runs them later.
    """
    round_ = PlanRound(
        tools=tools, specs=specs, turn=turn, settings=settings, config=config, emit=emit
    )
    with TaskFetchingUnit(
        max_concurrency=settings.max_concurrency,
        timeout=settings.task_timeout,
        on_event=round_.events,
        completed=round_.prior,
    ) as tfu:
        try:
            for chunk in model.stream(messages, config):
                for job in round_.feed(chunk.content):
                    tfu.submit(job)
                if round_.done:
                    break
        except Exception as exc:  # the model's failure is an observation, not a crash
            round_.fail(exc)
        for job in round_.close():
            tfu.submit(job)
        tfu.close()
        outcomes = tfu.wait()
    return round_.transcript(outcomes)
