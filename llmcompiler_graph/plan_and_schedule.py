"""The ``plan_and_schedule`` round: stream a plan and run each task as soon as it is parsed.

:class:`PlanRound` keeps one round's bookkeeping (parser, tasks held for approval, task
events, transcript) and is shared by the sync round (:func:`run_round`: worker threads) and
the async one (:func:`arun_round`: the event loop; async tools are awaited on it, sync tools
run on worker threads, so nothing blocks the loop). Its base,
:class:`TaskPass`, is what a round has in common with an approval pass: earlier results,
task events, and how tasks become jobs and which unit runs them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Generator, Iterable, Mapping
from typing import NotRequired, TypedDict, TypeVar, Unpack

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool

from llmcompiler_graph.context import Settings
from llmcompiler_graph.events import EventRelay, EventSink, task_event
from llmcompiler_graph.executor.toolcall import CallRecord, message_text, tool_job
from llmcompiler_graph.fetching.aio import AsyncTaskFetchingUnit
from llmcompiler_graph.fetching.jobs import Job, Outcome, TaskEvent
from llmcompiler_graph.fetching.threads import TaskFetchingUnit
from llmcompiler_graph.planner import prompts
from llmcompiler_graph.planner.parser import PlannedTask, PlanParser, ToolSpec
from llmcompiler_graph.render import describe_tools, render_rounds
from llmcompiler_graph.state import Turn, result_record
from llmcompiler_graph.transcript import call_id, direct_answer, plan_message, result_message

__all__ = [
    "PlanRound",
    "TaskPass",
    "TaskPassArgs",
    "arun_jobs",
    "arun_round",
    "build_planner_messages",
    "prior_outcomes",
    "run_jobs",
    "run_round",
]

MAX_TRAILING_CHARS = 2_000
"""Text a planner may stream after its plan ended before the stream is closed early."""

Unit = TypeVar("Unit", TaskFetchingUnit, AsyncTaskFetchingUnit)


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
            artifact = result_record(message)
            index = artifact.get("index")
            if not isinstance(index, int) or index <= 0:
                continue
            status = artifact.get("status", "error" if message.status == "error" else "ok")
            value = artifact["value"] if "value" in artifact else message.content
            outcomes[index] = Outcome(index, str(message.name or ""), status, value=value)
    return outcomes


class TaskPassArgs(TypedDict):
    """What a node hands a :class:`TaskPass`: the question so far and how to run tools."""

    turn: Turn
    settings: Settings
    tools: Mapping[str, BaseTool]
    config: RunnableConfig
    emit: EventSink
    asynchronous: NotRequired[bool]


class TaskPass:
    """What a node running tasks needs, however they run: earlier results, events, jobs."""

    def __init__(self, **args: Unpack[TaskPassArgs]) -> None:
        """Prepare a pass; create it on the node's thread (see :class:`EventRelay`)."""
        self.prior = prior_outcomes(args["turn"])
        self.events = EventRelay(args["emit"])
        self.config = args["config"]
        self._settings = args["settings"]
        self._tools = args["tools"]
        self._asynchronous = args.get("asynchronous", False)
        self.record = CallRecord()

    def unit(self, kind: type[Unit]) -> Unit:
        """Create a task fetching unit of ``kind`` that reports to this pass's events."""
        return kind(
            max_concurrency=self._settings.max_concurrency,
            timeout=self._settings.task_timeout,
            on_event=self.events,
            completed=self.prior,
        )

    def _job(self, task: PlannedTask, the_id: str | None = None) -> Job:
        return tool_job(
            task,
            self._tools,
            self.config,
            asynchronous=self._asynchronous,
            call_id=the_id,
            record=self.record,
        )

    def waiting(self, tasks: Iterable[PlannedTask]) -> set[int]:
        """Return the tasks whose tool asked for input (``interrupt``) and all that need them.

        They get no result now: they run again after the human's answer (``approve`` node).
        """
        waiting = set(self.record.interrupts)
        for task in tasks:  # in plan order: a task's dependencies come before it
            if task.deps & waiting:
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


class PlanRound(TaskPass):
    """One planning round's bookkeeping, independent of how its tasks are run."""

    def __init__(self, *, specs: Mapping[str, ToolSpec], **args: Unpack[TaskPassArgs]) -> None:
        """Prepare a round that parses plans for the tools in ``specs``."""
        super().__init__(**args)
        self.parser = PlanParser(specs, planned=list(self.prior))
        self.held: set[int] = set()
        self.stream_error: str | None = None
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
        waiting = self.waiting(self.parser.tasks)
        plan = plan_message(
            self.parser.tasks,
            content,
            tag=self._tag,
            thought=self.parser.final_thought,
            error=self.stream_error,
            held=sorted(self.held | waiting),
            interrupted=sorted(self.record.interrupts),
        )
        pairs = zip(self.parser.tasks, plan.tool_calls, strict=True)
        return [plan, *self.results(((t, str(c["id"])) for t, c in pairs), outcomes)]

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
            jobs.append(self._job(task, call_id(self._tag, task.index)))
        return jobs


def run_jobs(task_pass: TaskPass, jobs: Iterable[Job]) -> dict[int, Outcome]:
    """Run jobs known up front on worker threads; return their outcomes by index."""
    with task_pass.unit(TaskFetchingUnit) as tfu:
        for job in jobs:
            tfu.submit(job)
        tfu.close()
        return tfu.wait()


def run_round(
    model: BaseChatModel, messages: list[BaseMessage], round_: PlanRound
) -> list[BaseMessage]:
    """Stream one plan, run its tasks on threads, and return the plan and its results.

    Tasks held for approval get no result here; the ``approve`` node runs them later.
    """
    with round_.unit(TaskFetchingUnit) as tfu:
        try:
            stream = model.stream(messages, round_.config)
            try:
                for chunk in stream:
                    for job in round_.feed(chunk.content):
                        tfu.submit(job)
                    if round_.done:
                        break
            finally:
                if isinstance(stream, Generator):  # stop the model's stream early
                    stream.close()
        except Exception as exc:  # the model's failure is an observation, not a crash
            round_.fail(exc)
        for job in round_.close():
            tfu.submit(job)
        tfu.close()
        outcomes = tfu.wait()
    return round_.transcript(outcomes)


async def arun_jobs(task_pass: TaskPass, jobs: Iterable[Job]) -> dict[int, Outcome]:
    """Run jobs known up front on the event loop; return their outcomes by index."""
    async with task_pass.unit(AsyncTaskFetchingUnit) as tfu:
        for job in jobs:
            tfu.submit(job)
        tfu.close()
        return await tfu.wait()


async def arun_round(
    model: BaseChatModel, messages: list[BaseMessage], round_: PlanRound
) -> list[BaseMessage]:
    """Do what :func:`run_round` does on the event loop (``model.astream``)."""
    async with round_.unit(AsyncTaskFetchingUnit) as tfu:
        try:
            stream = model.astream(messages, round_.config)
            try:
                async for chunk in stream:
                    for job in round_.feed(chunk.content):
                        tfu.submit(job)
                    if round_.done:
                        break
            finally:
                if isinstance(stream, AsyncGenerator):  # stop the model's stream early
                    await stream.aclose()
        except Exception as exc:  # the model's failure is an observation, not a crash
            round_.fail(exc)
        for job in round_.close():
            tfu.submit(job)
        tfu.close()
        outcomes = await tfu.wait()
    return round_.transcript(outcomes)
