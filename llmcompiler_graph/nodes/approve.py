"""Human approval of tool calls: which tasks wait, what the reviewer sees, what they answer.

Design (see the docs' Approval guide). A task whose tool is listed in
``interrupt_before_tools`` or ``interrupt_on`` is *held*, and so is every task that needs its
result:

1. ``plan_and_schedule`` streams the whole plan once and runs every task that is not held,
   to completion. Its plan message lists the held tasks; they get no result yet.
2. The ``approve`` node then calls LangGraph's ``interrupt`` *first*, before doing anything
   else, with the held tasks whose inputs are all known (arguments shown with ``$N``
   already substituted). The run pauses there and the checkpoint keeps everything done so
   far, because it was written by the earlier node.
3. On resume LangGraph re-runs ``approve`` from its start; ``interrupt`` now returns the
   reviewer's answer, and the node runs the approved (or edited) tasks and everything that
   only waited for them. A rejected task becomes an error observation; its dependents are
   skipped. Tasks that needed another approved task's result are reviewed in a next
   ``approve`` pass, with their real arguments.

The request and the answer are LangChain's human-in-the-loop format (``HITLRequest``,
``HITLResponse``; see :mod:`llmcompiler_graph.nodes.review`).

A tool that calls ``interrupt()`` itself is handled the same way: the round (or pass) records
the interrupt instead of raising it, holds the task and what needs it, and marks it
``interrupted`` on the plan message; the ``approve`` node then runs it again alone, first,
with the interrupt let through (``propagate``), so the graph pauses with the tool's payload
and, on resume, the tool runs once more and ``interrupt()`` returns the answer.

Resuming repeats no work: the node does nothing before its interrupt, and when a crash
stops it after the answer, the calls that had finished are replayed from its journal
(:mod:`llmcompiler_graph.nodes.journal`); only calls in flight at the crash run again.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from langchain_core.messages import BaseMessage, ToolMessage

from llmcompiler_graph.errors import ApprovalAnswerError
from llmcompiler_graph.executor.toolcall import resolved_arguments, result_text
from llmcompiler_graph.fetching.jobs import Job, Outcome
from llmcompiler_graph.joiner.rounds import clip
from llmcompiler_graph.nodes.review import Review, Verdict, hitl_request, read_decisions
from llmcompiler_graph.nodes.task_runs import TaskRun
from llmcompiler_graph.nodes.transcript import jsonable
from llmcompiler_graph.planner.tasks import PlannedTask
from llmcompiler_graph.state import KIND, Turn, planned_tasks

__all__ = [
    "HOW_TO_ANSWER",
    "ApprovalPass",
    "check_approval_names",
    "normalize_resume",
    "pending_tasks",
]

DEPENDENCY_CHARS = 300
"""Most characters of an earlier result quoted in a review's description."""

HOW_TO_ANSWER = (
    'Resume with Command(resume={"decisions": [...]}) (LangChain\'s HITLResponse), one decision '
    'per action shown, in order: {"type": "approve"}, {"type": "edit", "edited_action": '
    '{"name": <the tool>, "args": {...}}} or {"type": "reject", "message": "<why>"}.'
)


def check_approval_names(names: Iterable[str], tools: Iterable[str], source: str) -> None:
    """Refuse approval names that are not tools (``"*"`` means every tool).

    Approval must fail closed: a misspelt name would otherwise let that tool run unasked.

    Raises:
        ValueError: Naming each unknown name, with the closest tool name when there is one.

    """
    known = sorted(tools)
    unknown = sorted(set(names) - set(known) - {"*"})
    if not unknown:
        return
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name.replace("-", "_"), known, n=1, cutoff=0.6)
        hints.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    raise ValueError(
        f"{source} names unknown tool(s) {unknown}: {', '.join(hints)}; "
        f"the tools are: {', '.join(known) or 'none'} (or '*' for every tool)"
    )


def normalize_resume(value: object) -> object:
    """Make a resume value safe to hand to LangGraph, before anything runs.

    LangGraph itself fails on ``Command(resume=None)`` and on dict keys that are not strings,
    and reads ``{}`` as answering no interrupt; ``None`` and ``{}`` are refused with the
    accepted shape, other keys become strings (the node then says what is wrong).

    Raises:
        ApprovalAnswerError: For ``None`` and ``{}``.

    """
    if value is None or (isinstance(value, Mapping) and not value):
        raise ApprovalAnswerError(
            f"Command(resume={value!r}) is not an approval answer; nothing was run. {HOW_TO_ANSWER}"
        )
    if isinstance(value, Mapping) and not all(isinstance(k, str) for k in value):
        return {str(k): v for k, v in value.items()}
    return value


def pending_tasks(turn: Turn) -> list[PlannedTask]:
    """Return the latest round's held tasks that have no result yet, in plan order."""
    if not turn.rounds:
        return []
    round_ = turn.rounds[-1]
    answered = {m.tool_call_id for m in round_.results}
    marker = round_.plan.additional_kwargs.get("llmcompiler", {})
    held = set(marker.get("held", ())) if isinstance(marker, dict) else set()
    return [
        PlannedTask(
            index=int(record["index"]),
            name=str(record.get("name") or ""),
            args=dict(record.get("args") or {}),
            deps=frozenset(int(d) for d in record.get("deps", ())),
            thought=record.get("thought"),
            line=str(record.get("line") or ""),
        )
        for record in planned_tasks(round_.plan)
        if record.get("index") in held and record.get("id") not in answered
    ]


class ApprovalPass:
    """One pass of the ``approve`` node over the latest round's held tasks."""

    def __init__(self, run: TaskRun) -> None:
        """Work out which held tasks can be reviewed now; create it on the node's thread."""
        self.run = run
        self.prior = run.prior
        turn, settings = run.turn, run.settings
        self.pending = pending_tasks(turn)
        self._ids = (
            {int(r["index"]): str(r["id"]) for r in planned_tasks(turn.rounds[-1].plan)}
            if turn.rounds
            else {}
        )
        self._plan = turn.rounds[-1].plan if turn.rounds else None
        marker = self._plan.additional_kwargs.get(KIND, {}) if self._plan is not None else {}
        marked = marker.get("interrupted", ()) if isinstance(marker, dict) else ()
        self._interrupted = set(marked)
        self.resumable = [
            t
            for t in self.pending
            if t.index in self._interrupted
            and all(d in self.prior and self.prior[d].ok for d in t.deps)
        ]
        """Tasks whose tool asked for input (``interrupt``), ready to run again, in order."""
        self.verdicts: dict[int, Verdict] = {}
        self.edited: dict[int, dict[str, Any]] = {}
        """The reviewer's arguments of the tasks they edited, by task index."""
        self.review = [
            t
            for t in self.pending
            if settings.needs_approval(t.name)
            and all(d in self.prior and self.prior[d].ok for d in t.deps)
        ]

    def reviews(self) -> list[Review]:
        """Return the tasks to review as the reviewer sees them, arguments substituted."""
        reviews = []
        for task in self.review:
            deps = {d: self.prior[d].value for d in task.deps}
            actual = resolved_arguments(task, deps, self.run.schema)  # as the call gets them
            reviews.append(
                Review(
                    index=task.index,
                    name=task.name,
                    args=jsonable(actual),
                    allowed=self.run.settings.allowed_decisions(task.name),
                    description=self._description(task),
                )
            )
        return reviews

    def _description(self, task: PlannedTask) -> str:
        entries = self.run.settings.interrupt_on or {}
        entry = entries.get(task.name, entries.get("*"))
        given = entry.get("description") if isinstance(entry, Mapping) else None
        lines = [given] if given else []
        call = _PLAN_NUMBER.sub("", task.line).strip() or task.name
        lines.append(f"Task {task.index} of the plan: {_code(call)}")
        for dep in sorted(task.deps):
            result = clip(result_text(self.prior[dep].value), DEPENDENCY_CHARS)
            name = self.prior[dep].name
            lines.append(
                f"{_code(f'${dep}')} is the result of task {dep} ({name}): {_code(result)}"
            )
        if task.thought:
            lines.append(f"The planner's thought: {task.thought}")
        return "\n\n".join(lines)

    def request(self, error: str | None = None) -> dict[str, Any]:
        """Return the interrupt value: a ``HITLRequest`` (with ``error`` when asking again)."""
        return hitl_request(self.reviews(), error)

    def decide(self, value: object) -> None:
        """Record the reviewer's answer (the value ``interrupt`` returned).

        Raises:
            ApprovalAnswerError: If the answer is not a ``HITLResponse`` for these actions
                (see :func:`~llmcompiler_graph.review.read_decisions`).

        """
        self.verdicts = read_decisions(value, self.reviews(), self.run.tools)

    def jobs(self) -> list[Job]:
        """Return the jobs this pass runs: approved and rejected tasks, and what they unblock."""
        held: set[int] = set()
        known = set(self.prior)
        jobs: list[Job] = []
        for task in self.pending:
            if task.deps.union(self.run.order(task)) & held:
                held.add(task.index)  # it needs, or must run after, a task still held
                continue
            missing = sorted(task.deps - known)
            verdict = self.verdicts.get(task.index)
            failed_dep = any(d in self.prior and not self.prior[d].ok for d in task.deps)
            if missing:
                error = f"task {task.index} '{task.name}': results of task(s) {missing} are missing"
                job = Job(task.index, task.name, None, frozenset(), error, task.args)
            elif not self.run.settings.needs_approval(task.name) or failed_dep:
                job = self.job(task)  # the scheduler skips it if a dependency failed
            elif verdict is None:
                held.add(task.index)
                continue
            else:
                job = self._decided(task, verdict)
            self.run.events.deps[task.index] = sorted(task.deps)
            known.add(task.index)
            jobs.append(job)
        return jobs

    def _decided(self, task: PlannedTask, verdict: Verdict) -> Job:
        if verdict.type == "approve":
            return self.job(task)
        if verdict.type == "edit" and verdict.args is not None:
            # The reviewer's arguments are the actual ones: nothing left to substitute.
            self.edited[task.index] = verdict.args
            return self.job(replace(task, args=dict(verdict.args), deps=frozenset()))
        if verdict.type == "respond":
            answer = verdict.message
            return Job(task.index, task.name, lambda _deps: answer, frozenset(), None, task.args)
        reason = f": {verdict.message}" if verdict.message else ""
        error = f"task {task.index} '{task.name}' was not run: the reviewer rejected it{reason}"
        return Job(task.index, task.name, None, frozenset(), error, task.args)

    def job(self, task: PlannedTask) -> Job:
        """Return the job that runs ``task`` with its plan's tool call id."""
        return self.run.job(task, self._ids.get(task.index, f"llmc_approval_{task.index}"))

    def transcript(self, outcomes: Mapping[int, Outcome]) -> list[BaseMessage]:
        """Return one result message per task this pass finished, in plan order.

        Tasks whose tool asked for input (``interrupt``) get none and are marked on the
        plan message (replaced by id), so the next pass runs each alone, first.
        """
        pairs = ((t, self._ids.get(t.index, f"llmc_approval_{t.index}")) for t in self.pending)
        messages = [self._marked(m) for m in self.run.results(pairs, outcomes)]
        if self.run.record.interrupts and self._plan is not None:
            marker = dict(self._plan.additional_kwargs.get(KIND, {}))
            marker["interrupted"] = sorted(self._interrupted | set(self.run.record.interrupts))
            kwargs = {**self._plan.additional_kwargs, KIND: marker}
            messages.insert(0, self._plan.model_copy(update={"additional_kwargs": kwargs}))
        return messages

    def _marked(self, message: BaseMessage) -> BaseMessage:
        """Mark an edited task's result with the arguments it ran with (for the joiner)."""
        marker = message.additional_kwargs.get(KIND)
        if not isinstance(message, ToolMessage) or not isinstance(marker, dict):
            return message
        edited = self.edited.get(marker.get("index", 0))
        if edited is None:
            return message
        kwargs = {**message.additional_kwargs, KIND: {**marker, "edited_args": edited}}
        return message.model_copy(update={"additional_kwargs": kwargs})


_PLAN_NUMBER = re.compile(r"^\s*-?\d+\s*[.)]\s*")


def _code(text: str) -> str:
    """Return ``text`` as a Markdown code span (so ``$1`` is not read as math)."""
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"
