"""The ``plan_and_schedule`` round: stream a plan and run each task as soon as it is parsed.

:class:`PlanRound` keeps one round's bookkeeping (parser, tasks held for approval,
transcript) and is shared by the sync round (:func:`run_round`: worker threads) and the
async one (:func:`arun_round`: the event loop; async tools are awaited on it, sync tools
run on worker threads, so nothing blocks the loop). What it shares with an approval pass
(earlier results, task events, jobs, units) is its :class:`~.task_runs.TaskRun`.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncGenerator, Iterable, Mapping
from typing import Any, Literal

from langchain_core.messages import AIMessageChunk, BaseMessage

from llmcompiler_graph.executor.toolcall import message_text
from llmcompiler_graph.fetching.aio import AsyncTaskFetchingUnit
from llmcompiler_graph.fetching.jobs import MAX_ERROR_CHARS, Job, Outcome, TaskEvent
from llmcompiler_graph.fetching.threads import TaskFetchingUnit
from llmcompiler_graph.nodes.cancel import STREAM_SCOPE, CancelScope
from llmcompiler_graph.nodes.events import task_event
from llmcompiler_graph.nodes.journal import Entry
from llmcompiler_graph.nodes.planner_call import PlannerModel, astream_plan, stream_plan
from llmcompiler_graph.nodes.reader import PlanReader
from llmcompiler_graph.nodes.task_runs import TaskRun
from llmcompiler_graph.nodes.transcript import call_id, code_block, plan_message
from llmcompiler_graph.planner.bounds import PlanLimits
from llmcompiler_graph.planner.parser import PlanParser
from llmcompiler_graph.planner.syntax import ToolSpec
from llmcompiler_graph.planner.tasks import PlannedTask
from llmcompiler_graph.planner.tool_calls import ToolCallPlanReader
from llmcompiler_graph.redact import redact_clipped

__all__ = ["PlanRound", "arun_round", "run_round"]

CUT_BY_CRASH = (
    "the planner's stream was cut short when the process running this round stopped; the "
    "plan is what had been received before (later tasks were never planned): replan if "
    "something is missing"
)
"""The plan's error after a crash cut its stream: the recorded part is kept, not re-asked."""

MAX_TRAILING_CHARS = 2_000
"""Text a planner may stream after its plan ended before the stream is closed early."""


class PlanRound:
    """One planning round's bookkeeping, independent of how its tasks are run."""

    def __init__(self, run: TaskRun, *, specs: Mapping[str, ToolSpec]) -> None:
        """Prepare a round that parses plans for the tools in ``specs``."""
        self.run = run
        self.parser: PlanParser | ToolCallPlanReader = (
            ToolCallPlanReader(
                specs,
                start=run.turn.next_index,
                planned=list(run.prior),
                max_call_chars=run.settings.max_plan_line_chars,
            )
            if run.settings.plan_format == "tool_calls"
            else PlanParser(specs, planned=list(run.prior))
        )
        self.held: set[int] = set()
        self.stream_error: str | None = None
        self._text: list[str] = []
        self._trailing = 0
        self._tag = uuid.uuid4().hex[:8]
        self._unrecorded: list[list[Any]] = []  # chunks not yet in the journal
        self._unrecorded_lock = threading.Lock()  # the reader's and finished calls' threads
        self.record_due = False  # some of them completed a task: see record()
        run.before_result = self.record_all
        settings = run.settings
        self.limits = PlanLimits(
            settings.max_plan_tasks, settings.max_plan_line_chars, settings.max_plan_chars
        )

    @property
    def done(self) -> bool:
        """Tell whether to stop reading the stream.

        Not as soon as the plan ends: the rest of the stream is read (while the tasks run)
        so the model call ends normally, with its usage and its trace complete; only a
        model that keeps writing long after ``<END_OF_PLAN>`` is cut off.
        """
        cut = self.limits.error is not None
        return cut or (self.parser.done and self._trailing > MAX_TRAILING_CHARS)

    @property
    def takes_stop(self) -> bool:
        """Tell whether to ask for ``stop=["<END_OF_PLAN>"]`` (text plans; tool calls have none)."""
        return isinstance(self.parser, PlanParser)

    def feed(self, chunk: object, *, record: bool = True) -> list[Job]:
        """Add a streamed message chunk (or its content); return the jobs to submit now.

        With ``record``, the chunks are kept for the node's journal (see
        :mod:`llmcompiler_graph.nodes.journal`); once they complete a task, :attr:`record_due` is
        set and the caller calls :meth:`record` right after submitting the jobs, so a re-run
        after a crash rebuilds the same tasks without asking the planner again.
        """
        piece = message_text(chunk.content if isinstance(chunk, BaseMessage) else chunk)
        if isinstance(self.parser, ToolCallPlanReader):  # tool calls; the text is the thought
            calls = list(getattr(chunk, "tool_call_chunks", None) or ())
            if record and self.run.journal.enabled:
                self._keep(piece, calls)
            if not self.limits.admit_calls(piece, calls):
                return []
            self._text.append(piece)
            self.parser.feed_text(piece)
            tasks = self.parser.feed(calls)
            if getattr(chunk, "chunk_position", None) == "last":
                # LangChain's final chunk (langchain-core >= 1.0) comes before it merges the
                # chunks and runs the callbacks: no call can follow, so the last one is complete.
                tasks += self.parser.close()
            return self._jobs(self._note_due(tasks))
        if self.parser.done:
            self._trailing += len(piece)
            return []
        if record and self.run.journal.enabled:
            self._keep(piece, None)
        piece = self.limits.admit(piece)
        self._text.append(piece)
        return self._jobs(self._note_due(self.parser.feed(piece)))

    def replay(self, entries: list[Entry]) -> tuple[list[Job], Literal["none", "ended", "cut"]]:
        """Rebuild the plan an earlier attempt of this node recorded; return its jobs.

        Returns:
            The jobs of the recorded tasks (finished ones replay their outcomes), and how
            the recorded stream ended: ``"none"`` (nothing recorded: stream a plan now),
            ``"ended"`` (the whole plan was recorded) or ``"cut"`` (a crash cut the
            stream: the part recorded is kept as the plan, and the joiner may replan).

        """
        jobs: list[Job] = []
        state: Literal["none", "ended", "cut"] = "none"
        for entry in entries:
            if entry.get("kind") not in ("plan", "plan_end"):
                continue
            for piece, calls in entry.get("chunks", ()):
                chunk = AIMessageChunk(content=piece, tool_call_chunks=calls or [])
                jobs.extend(self.feed(chunk, record=False))
            state = "cut"
            if entry["kind"] == "plan_end":
                self.stream_error = entry.get("error")
                return jobs, "ended"
        if state == "cut":
            self.stream_error = CUT_BY_CRASH
        return jobs, state

    def end(self) -> None:
        """Record in the journal that the plan is complete (with any stream error)."""
        with self._unrecorded_lock:
            chunks, self._unrecorded, self.record_due = self._unrecorded, [], False
            entry = {"kind": "plan_end", "chunks": chunks, "error": self.stream_error}
            self.run.journal.record(entry)

    def record(self) -> None:
        """Hand the chunks kept so far to the journal, if they completed a task.

        Called once the jobs those chunks made were submitted, when their calls have
        started (the sync reader's next thread, a callback after the async round's new
        tasks), so waking the journal's writer costs a call nothing on its way to the
        tool. Each entry holds the chunks kept since the previous one (the journal saves
        them in order); a task's result is recorded after them (:meth:`record_all`).
        """
        if self.record_due:
            self.record_all()

    def record_all(self) -> None:
        """Hand every chunk kept so far to the journal (before a task's result is recorded)."""
        with self._unrecorded_lock:
            if self._unrecorded:
                chunks, self._unrecorded, self.record_due = self._unrecorded, [], False
                self.run.journal.record({"kind": "plan", "chunks": chunks})

    def _keep(self, piece: str, calls: list[Any] | None) -> None:
        with self._unrecorded_lock:
            self._unrecorded.append([piece, calls])

    def _note_due(self, tasks: Iterable[PlannedTask]) -> list[PlannedTask]:
        """Return ``tasks``; if there are any, the chunks kept so far await :meth:`record`."""
        tasks = list(tasks)
        if tasks and self._unrecorded:
            self.record_due = True
        return tasks

    def close(self) -> list[Job]:
        """End the stream; return the jobs of any last task."""
        if isinstance(self.parser, ToolCallPlanReader):
            return self._jobs(self.parser.close())
        return self._jobs(self.parser.close(cut=self.stream_error is not None))

    def fail(self, exc: Exception) -> None:
        """Record that the planner's stream failed (it becomes part of the plan message)."""
        text = f"the planner's stream failed: {type(exc).__name__}: {exc}"
        self.stream_error = redact_clipped(text, MAX_ERROR_CHARS)

    def transcript(self, outcomes: Mapping[int, Outcome]) -> list[BaseMessage]:
        """Return the plan message and one result message per finished task."""
        content = "".join(self._text)
        error = self.stream_error or self.limits.error
        if error is not None:
            content = f"{content}\n[{error}]"
        if isinstance(self.parser, PlanParser):  # a tool-call plan's text is the model's prose
            content = code_block(content)
        waiting = self.run.waiting(self.parser.tasks)
        plan = plan_message(
            self.parser.tasks,
            content,
            tag=self._tag,
            thought=self.parser.final_thought,
            error=error,
            held=sorted(self.held | waiting),
            interrupted=sorted(self.run.record.interrupts),
            after=self.run.after,
        )
        pairs = zip(self.parser.tasks, plan.tool_calls, strict=True)
        return [plan, *self.run.results(((t, str(c["id"])) for t, c in pairs), outcomes)]

    def _jobs(self, tasks: Iterable[PlannedTask]) -> list[Job]:
        jobs: list[Job] = []
        for task in tasks:
            self.run.events.deps[task.index] = sorted(task.deps)
            after = self.run.order(task)
            if (too_many := self.limits.task_error(task)) is not None:
                jobs.append(Job(task.index, task.name, None, frozenset(), too_many, task.args))
                continue
            approval = task.error is None and self.run.settings.needs_approval(task.name)
            follows = task.deps.union(after)
            if approval or (task.error is None and follows & self.held):
                # Held until a human approves (or until the task it needs, or must run
                # after because they share a resource, is approved).
                self.held.add(task.index)
                planned = TaskEvent("planned", task.index, task.name, task.args)
                extra = {"awaiting_approval": approval}
                self.run.events.send(
                    task_event(planned, deps=task.deps, waits_for=after, extra=extra)
                )
                continue
            jobs.append(self.run.job(task, call_id(self._tag, task.index)))
        return jobs


def run_round(
    model: PlannerModel, messages: list[BaseMessage], round_: PlanRound
) -> list[BaseMessage]:
    """Stream one plan, run its tasks on threads, and return the plan and its results.

    Tasks held for approval get no result here; the ``approve`` node runs them later.
    Re-run after a crash, it first replays what the crashed attempt recorded.
    """
    run = round_.run
    scope = STREAM_SCOPE.get() or CancelScope()  # cancelled if a sync stream's reader leaves
    try:
        with run.unit(TaskFetchingUnit) as tfu:
            forget = scope.on_cancel(tfu.cancel)
            entries = run.journal.replay()
            run.resume(entries)
            jobs, recorded = round_.replay(entries)
            for job in jobs:
                tfu.submit(job)
            if recorded == "none":
                try:
                    stream = stream_plan(model, messages, run.config, stop=round_.takes_stop)
                    PlanReader(stream, round_, tfu, scope).run()  # calls start on its threads
                except Exception as exc:  # the model's failure is an observation, not a crash
                    round_.fail(exc)
            if recorded != "cut":  # a cut plan's last line may be incomplete: leave it out
                for job in round_.close():
                    tfu.submit(job)  # ignored once cancelled
            if recorded != "ended":
                round_.end()
            tfu.close()
            outcomes = tfu.wait()
            forget()
    except BaseException:  # a cancel or an interrupt: the writer stops
        run.journal.close()
        raise
    run.journal.flush()
    return round_.transcript(outcomes)


async def arun_round(
    model: PlannerModel, messages: list[BaseMessage], round_: PlanRound
) -> list[BaseMessage]:
    """Do what :func:`run_round` does on the event loop (``model.astream``)."""
    run = round_.run
    try:
        async with run.unit(AsyncTaskFetchingUnit) as tfu:
            entries = await run.journal.areplay()
            run.resume(entries)
            jobs, recorded = round_.replay(entries)
            for job in jobs:
                tfu.submit(job)
            if recorded == "none":
                try:
                    stream = astream_plan(model, messages, run.config, stop=round_.takes_stop)
                    loop = asyncio.get_running_loop()
                    try:
                        async for chunk in stream:
                            for job in round_.feed(chunk):
                                tfu.submit(job)
                            if round_.record_due:  # after the new tasks' first steps
                                loop.call_soon(round_.record)
                            if round_.done:
                                break
                    finally:
                        if isinstance(stream, AsyncGenerator):  # stop the model's stream early
                            await stream.aclose()
                except Exception as exc:  # the model's failure is an observation, not a crash
                    round_.fail(exc)
            if recorded != "cut":
                for job in round_.close():
                    tfu.submit(job)
            if recorded != "ended":
                round_.end()
            tfu.close()
            outcomes = await tfu.wait()
    except BaseException:  # a cancel or an interrupt: the writer stops
        run.journal.close()
        raise
    await run.journal.aflush()
    return round_.transcript(outcomes)
