"""What every node that runs tool tasks shares: earlier results, events, jobs and units.

A planning round (:mod:`llmcompiler_graph.nodes.round`) and an approval pass
(:mod:`llmcompiler_graph.nodes.approve`) each hold a :class:`TaskRun` (composition: neither
derives from the other) and run their jobs through it.
"""

from __future__ import annotations

import contextvars
import inspect
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any, NotRequired, TypedDict, TypeVar, Unpack

from langchain_core.messages import BaseMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import var_child_runnable_config
from langchain_core.tools import BaseTool
from langgraph.errors import GraphBubbleUp

from llmcompiler_graph.context import Settings
from llmcompiler_graph.executor.effects import tool_effects
from llmcompiler_graph.executor.receiving import Artifact
from llmcompiler_graph.executor.toolbox import NodeTools, Toolbox
from llmcompiler_graph.executor.toolcall import (
    CallRecord,
    TaskInterrupted,
    resolved_arguments,
    tool_job,
    tool_text,
)
from llmcompiler_graph.fetching.aio import AsyncTaskFetchingUnit
from llmcompiler_graph.fetching.hazards import Hazards
from llmcompiler_graph.fetching.jobs import BatchForm, Job, Outcome, TaskEvent
from llmcompiler_graph.fetching.limits import RateLimit
from llmcompiler_graph.fetching.threads import TaskFetchingUnit
from llmcompiler_graph.nodes.events import EventRelay, EventSink
from llmcompiler_graph.nodes.journal import Entry, Journal, replayed_outcomes, task_key
from llmcompiler_graph.nodes.transcript import direct_answer, result_message
from llmcompiler_graph.planner.tasks import PlannedTask
from llmcompiler_graph.planner.tool_specs import tool_schema
from llmcompiler_graph.state import Turn, result_record

__all__ = [
    "CANCEL_EVENT_KEY",
    "BatchTool",
    "TaskRun",
    "TaskRunArgs",
    "arun_jobs",
    "in_run_context",
    "prior_outcomes",
    "replay_job",
    "run_jobs",
]

CANCEL_EVENT_KEY = "llmcompiler_cancel_event"
"""Key of the run's cancel event (a ``threading.Event``) in a tool's ``config["configurable"]``.

It is set when the run is cancelled or abandoned (an asyncio cancel, leaving a ``stream``
early): a long-running sync tool may check ``event.is_set()`` (or ``event.wait(s)``) and
stop early. Its result would be discarded anyway.
"""

Unit = TypeVar("Unit", TaskFetchingUnit, AsyncTaskFetchingUnit)

BatchCall = Callable[[list[Any]], Any]
BatchTool = BatchCall | tuple[BatchCall, BatchCall]
"""A tool's batched form: ``many(inputs) -> results`` (sync or async), or ``(sync, async)``.

Each input is the task's only argument's value if it has one argument (``search_many``
gets the queries), else its argument dict; it returns one result per input, in order (an
``Exception`` in the list fails that task alone). If the call raises, or returns a list of
another length, every fused task fails with that error; tasks are never retried singly.
"""


def prior_outcomes(turn: Turn) -> dict[int, Outcome]:
    """Rebuild outcomes of this question's earlier results, for ``$N`` references to them."""
    outcomes: dict[int, Outcome] = {}
    for round_ in turn.rounds:
        for message in round_.results:
            artifact = result_record(message)
            index = artifact.get("index")
            if not isinstance(index, int) or index <= 0:
                continue
            status = artifact.get("status", "error" if message.status == "error" else "ok")
            value = artifact["value"] if "value" in artifact else message.content
            if "value" in artifact and artifact is not message.artifact:
                # The tool made its own artifact: "$N" in text is the content, as it was.
                value = Artifact(value, tool_text(message.content))
            elif status == "ok" and "value" not in artifact:
                # Only a text (an MCP result without structured content; see result_message).
                value = Artifact(None, tool_text(message.content))
            outcomes[index] = Outcome(index, str(message.name or ""), status, value=value)
    return outcomes


class TaskRunArgs(TypedDict):
    """What a node hands a :class:`TaskRun`: the question so far and how to run tools."""

    turn: Turn
    settings: Settings
    tools: Mapping[str, BaseTool]
    config: RunnableConfig
    emit: EventSink
    asynchronous: NotRequired[bool]
    propagate_interrupts: NotRequired[bool]
    batches: NotRequired[Mapping[str, BatchTool]]


class TaskRun:
    """Earlier results, task events, and how planned tasks become jobs and which unit runs them."""

    def __init__(self, **args: Unpack[TaskRunArgs]) -> None:
        """Prepare; create it on the node's thread (see :class:`EventRelay`)."""
        self.turn = args["turn"]
        self.settings = args["settings"]
        self.prior = prior_outcomes(self.turn)
        self.events = EventRelay(args["emit"])
        self.config = args["config"]
        self.cancel_event = threading.Event()
        configurable = {**self.config.get("configurable", {}), CANCEL_EVENT_KEY: self.cancel_event}
        self._tool_config: RunnableConfig = {**self.config, "configurable": configurable}
        self._tools = args["tools"]
        # What every tool call of this node shares, read once (on the node's thread).
        self._calls: NodeTools | Mapping[str, BaseTool] = (
            NodeTools(self._tools, self._tool_config)
            if isinstance(self._tools, Toolbox)
            else self._tools
        )
        self._asynchronous = args.get("asynchronous", False)
        self._batches = args.get("batches", {}) if self.settings.fuse != "off" else {}
        self.record = CallRecord()
        self.propagate_interrupts = args.get("propagate_interrupts", False)
        """Let a tool's interrupt end the node (else it is recorded; see :meth:`waiting`)."""
        self.journal = Journal(self.config, asynchronous=self._asynchronous)
        self.recorded: dict[int, tuple[str, Outcome]] = {}
        """Outcomes an earlier attempt of this node saved: ``{index: (task key, outcome)}``."""
        self.replayed: set[int] = set()
        """Tasks whose job replays a saved outcome instead of calling the tool."""
        self.before_result: Callable[[], None] = _nothing
        """Called before a result is journaled (a round first records the plan text)."""
        self._keys: dict[int, str] = {}
        self._saved_messages: dict[int, ToolMessage] = {}
        self.effects = tool_effects(self._tools.values(), self.settings.tool_effects)
        """Each tool's shared resources (its metadata, then ``tool_effects``)."""
        self._hazards = Hazards()
        self.after: dict[int, tuple[int, ...]] = {}
        """Per task placed with :meth:`order`, the earlier tasks it must run after."""

    @property
    def tools(self) -> Mapping[str, BaseTool]:
        """Return the tools by name."""
        return self._tools

    def resume(self, entries: list[Entry]) -> None:
        """Take the outcomes an earlier attempt of this node recorded (see :mod:`.journal`)."""
        self.recorded = replayed_outcomes(entries)
        for entry in entries:
            message = entry.get("message") if entry.get("kind") == "result" else None
            if isinstance(message, ToolMessage) and entry.get("index") in self.recorded:
                self._saved_messages[int(entry["index"])] = message

    def order(self, task: PlannedTask) -> tuple[int, ...]:
        """Place ``task`` next in plan order; return the earlier tasks it must run after.

        Those share a resource with it, one of them writing it (``tool_effects``; direct
        edges, as drawn and sent in events as ``waits_for``). Call it once per task, in plan
        order, whether the task runs now or not.
        """
        effects = self.effects.get(task.name) if task.error is None else None
        after = self._hazards.add(task.index, effects).after
        if after:
            self.after[task.index] = after
            self.events.waits_for[task.index] = after
        return after

    def job(self, task: PlannedTask, call_id: str | None = None) -> Job:
        """Make the job that calls ``task``'s tool (fusable if the tool has a batched form).

        ``call_id`` is the plan's tool call id for the task. After a crash, a task whose
        outcome the journal recorded replays it instead. The job carries the tool's effects
        (``tool_effects``), so the scheduler orders it after the calls it conflicts with.
        """
        effects = self.effects.get(task.name)
        job = self._job(task, call_id)
        return replace(job, effects=effects) if effects and job.fn is not None else job

    def _job(self, task: PlannedTask, call_id: str | None) -> Job:
        key = task_key(task.name, task.args) if self.journal.enabled else ""
        self._keys[task.index] = key
        saved = self.recorded.get(task.index)
        if saved is not None and saved[0] == key and task.error is None:
            # The same task (tool and arguments) ended before a crash: replay its outcome.
            self.replayed.add(task.index)
            if (message := self._saved_messages.get(task.index)) is not None:
                self.record.messages[task.index] = message
            return replay_job(task, saved[1])
        job = tool_job(
            task,
            self._calls,
            self._tool_config,
            asynchronous=self._asynchronous,
            call_id=call_id,
            record=self.record,
            catch_interrupts=not self.propagate_interrupts,
        )
        batched = self._batches.get(task.name)
        if batched is None or job.fn is None:
            return job
        sync, asynchronous = batched if isinstance(batched, tuple) else (batched, batched)
        call = in_run_context(asynchronous if self._asynchronous else sync, self._tool_config)

        def argument(deps: Mapping[int, object]) -> object:
            args = resolved_arguments(task, deps, self.schema)
            if isinstance(args, Mapping) and len(args) == 1:
                return next(iter(args.values()))
            return args

        whole_plan = self.settings.fuse == "plan"
        return replace(job, batch=BatchForm(task.name, argument, call, whole_plan=whole_plan))

    def schema(self, name: str) -> object:
        """Return the JSON schema of tool ``name``'s arguments (``None``: no such tool)."""
        tool = self._tools.get(name)
        if isinstance(self._tools, Toolbox):
            return self._tools.schema(name)
        return tool_schema(tool) if tool is not None else None

    def on_event(self, event: TaskEvent) -> None:
        """Relay a task event, and record in the journal how each task that ran ended."""
        self.events(event)
        outcome = event.outcome
        if (
            event.kind == "finished"
            and outcome is not None
            and outcome.started_at is not None  # it ran (not skipped, not a planning error)
            and outcome.index not in self.replayed
            and outcome.index in self._keys
            and outcome.index not in self.record.interrupts  # it runs again after the answer
            and not self.cancel_event.is_set()  # a cancelled call did not finish: run it again
        ):
            self.before_result()  # its plan line is saved before its result
            key = self._keys[outcome.index]
            message = self.record.messages.get(outcome.index)
            if message is not None and _plain_message(message, outcome):
                message = None  # the value says it all: result_message rebuilds the same
            self.journal.record_outcome(outcome, key, message)

    def unit(self, kind: type[Unit]) -> Unit:
        """Create a task fetching unit of ``kind`` that reports to this run's events."""
        return kind(
            max_concurrency=self.settings.max_concurrency,
            timeout=self.settings.task_timeout,
            # Without a listener or a journal, the unit need not hand its events on at all.
            on_event=None if self.events.silent and not self.journal.enabled else self.on_event,
            completed=self.prior,
            cancel_event=self.cancel_event,
            propagate=(GraphBubbleUp,) if self.propagate_interrupts else (),
            # A recorded interrupt: the task runs again later, so what must follow it waits.
            hold=() if self.propagate_interrupts else (TaskInterrupted,),
            tool_limits=self.settings.tool_limits,
            rate_limits={n: _rate(r) for n, r in (self.settings.tool_rate_limits or {}).items()},
            priority="critical_path" if self.settings.priority == "critical_path" else "fifo",
        )

    def waiting(self, tasks: Iterable[PlannedTask]) -> set[int]:
        """Return the tasks whose tool asked for input (``interrupt``) and all that follow them.

        That is every task that needs their results, or must run after them because they
        share a resource (:meth:`order`). They get no result now: they run again after the
        human's answer (``approve`` node).
        """
        waiting = set(self.record.interrupts)
        for task in tasks:  # in plan order: what a task follows comes before it
            if task.deps & waiting or waiting.intersection(self.after.get(task.index, ())):
                waiting.add(task.index)
        return waiting

    def results(
        self, tasks: Iterable[tuple[PlannedTask, str]], outcomes: Mapping[int, Outcome]
    ) -> list[BaseMessage]:
        """Return the result messages of ``(task, call id)`` pairs that finished, in order.

        When a task of a ``return_direct`` tool succeeded, the first such result also
        becomes the answer (an ``AIMessage``), and the joiner is not called.
        """
        pairs = list(tasks)
        waiting = self.waiting(task for task, _ in pairs)
        messages: list[BaseMessage] = []
        direct: BaseMessage | None = None
        for task, the_id in pairs:
            if task.index not in outcomes or task.index in waiting:
                continue
            outcome = outcomes[task.index]
            message = result_message(
                the_id, task.name, outcome, self.record.messages.get(task.index)
            )
            messages.append(message)
            tool = self._tools.get(task.name)
            if direct is None and outcome.ok and tool is not None and tool.return_direct:
                direct = direct_answer(message)
        return [*messages, direct] if direct is not None else messages


def _nothing() -> None:
    return None


def _plain_message(message: ToolMessage, outcome: Outcome) -> bool:
    """Tell whether a tool's message is only its value as text (nothing else to keep)."""
    return (
        message.artifact is None
        and isinstance(message.content, str)
        and isinstance(outcome.value, str)
        and message.content == outcome.value
    )


def replay_job(task: PlannedTask, recorded: Outcome) -> Job:
    """Make a job that ends as ``recorded`` without calling the tool again."""
    if not recorded.ok:
        return Job(task.index, task.name, None, frozenset(), recorded.error, task.args)
    value = recorded.value
    return Job(task.index, task.name, lambda _deps: value, frozenset(), None, task.args)


def in_run_context(call: BatchCall, config: RunnableConfig) -> BatchCall:
    """Return ``call`` made to run as a single tool call does: in the node's context.

    A sync batched call runs on a worker thread; there it sees the run's config
    (``get_config()``), context (``get_runtime()``), stream writer and tracing, from a copy
    of the context it was made in (the node's). Async ones run in the node's task already.
    """
    if inspect.iscoroutinefunction(call):
        return call
    context = contextvars.copy_context()

    def run(inputs: list[Any]) -> Any:
        def inside() -> Any:
            var_child_runnable_config.set(config)
            return call(inputs)

        return context.copy().run(inside)

    return run


def _rate(value: object) -> RateLimit:
    # A number of requests per second, or a langchain_core InMemoryRateLimiter's numbers.
    per_second = getattr(value, "requests_per_second", value)
    burst = getattr(value, "max_bucket_size", 1)
    return RateLimit(float(per_second), burst=max(1, int(burst)))  # type: ignore[arg-type]


def run_jobs(run: TaskRun, jobs: Iterable[Job]) -> dict[int, Outcome]:
    """Run jobs known up front on worker threads; return their outcomes by index."""
    try:
        with run.unit(TaskFetchingUnit) as tfu:
            for job in jobs:
                tfu.submit(job)
            tfu.close()
            outcomes = tfu.wait()
    except BaseException:
        run.journal.close()
        raise
    run.journal.flush()
    return outcomes


async def arun_jobs(run: TaskRun, jobs: Iterable[Job]) -> dict[int, Outcome]:
    """Run jobs known up front on the event loop; return their outcomes by index."""
    try:
        async with run.unit(AsyncTaskFetchingUnit) as tfu:
            for job in jobs:
                tfu.submit(job)
            tfu.close()
            outcomes = await tfu.wait()
    except BaseException:
        run.journal.close()
        raise
    await run.journal.aflush()
    return outcomes
