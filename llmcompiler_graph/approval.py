"""Human approval of tool calls: which tasks wait, what the reviewer sees, what they answer.

Design (see the README's approval section). A task whose tool is listed in
``interrupt_before_tools`` is *held*, and so is every task that needs its result:

1. ``plan_and_schedule`` streams the whole plan once and runs every task that is not held,
   to completion. Its plan message lists the held tasks; they get no result yet.
2. The ``approve`` node then calls LangGraph's ``interrupt`` *first*, before doing anything
   else, with the held tasks whose inputs are all known (arguments shown with ``$N``
   already substituted). The run pauses there and the checkpoint keeps everything done so
   far, because it was written by the earlier node.
3. On resume LangGraph re-runs ``approve`` from its start; ``interrupt`` now returns the
   reviewer's answer, and the node runs the approved tasks and everything that only waited
   for them. A rejected task becomes an error observation; its dependents are skipped.
   Tasks that needed another approved task's result are reviewed in a next ``approve``
   pass, with their real arguments.

A tool that calls ``interrupt()`` itself is handled the same way: the round (or pass) records
the interrupt instead of raising it, holds the task and what needs it, and marks it
``interrupted`` on the plan message; the ``approve`` node then runs it again alone, first,
with the interrupt let through (``propagate``), so the graph pauses with the tool's payload
and, on resume, the tool runs once more and ``interrupt()`` returns the answer.

Resuming repeats no work: the node does nothing before its interrupt, and when a crash
stops it after the answer, the calls that had finished are replayed from its journal
(:mod:`llmcompiler_graph.durable`); only calls in flight at the crash run again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.messages import BaseMessage

from llmcompiler_graph.approval_answers import (
    HOW_TO_ANSWER,
    Verdict,
    parse_verdicts,
)
from llmcompiler_graph.executor.toolcall import result_text, unwrap_artifacts
from llmcompiler_graph.fetching.jobs import Job, Outcome
from llmcompiler_graph.planner.references import substitute
from llmcompiler_graph.planner.tasks import PlannedTask
from llmcompiler_graph.state import KIND, Turn, planned_tasks
from llmcompiler_graph.task_runs import TaskRun
from llmcompiler_graph.transcript import jsonable

__all__ = [
    "APPROVAL_TYPE",
    "ApprovalPass",
    "pending_tasks",
]

APPROVAL_TYPE = "llmcompiler.approval"
"""The ``type`` of the interrupt value the ``approve`` node raises."""


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
        self.review = [
            t
            for t in self.pending
            if settings.needs_approval(t.name)
            and all(d in self.prior and self.prior[d].ok for d in t.deps)
        ]

    def request(self) -> dict[str, Any]:
        """Return the interrupt value: the tasks to review, with their actual arguments."""
        tasks = []
        for task in self.review:
            deps = {d: self.prior[d].value for d in task.deps}
            actual = substitute(task.args, task.deps, deps, result_text)
            tasks.append(
                {
                    "index": task.index,
                    "tool": task.name,
                    "args": jsonable(unwrap_artifacts(actual)),
                    "planned_args": task.args,
                    "deps": sorted(task.deps),
                    "thought": task.thought,
                    "line": task.line,
                }
            )
        names = ", ".join(f"{t['index']}. {t['tool']}" for t in tasks)
        return {
            "type": APPROVAL_TYPE,
            "question": f"Approve running {names}?",
            "tasks": tasks,
            "how_to_answer": HOW_TO_ANSWER,
        }

    def decide(self, value: object) -> None:
        """Record the reviewer's answer (the value ``interrupt`` returned).

        Raises:
            ApprovalAnswerError: If the answer cannot be read (see :func:`parse_verdicts`).

        """
        self.verdicts = parse_verdicts(value, [t.index for t in self.review])

    def jobs(self) -> list[Job]:
        """Return the jobs this pass runs: approved and rejected tasks, and what they unblock."""
        held: set[int] = set()
        known = set(self.prior)
        jobs: list[Job] = []
        for task in self.pending:
            if task.deps & held:
                held.add(task.index)
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
            elif verdict.approved:
                job = self.job(task)
            else:
                reason = f": {verdict.reason}" if verdict.reason else ""
                error = (
                    f"task {task.index} '{task.name}' was not run: the reviewer rejected it{reason}"
                )
                job = Job(task.index, task.name, None, frozenset(), error, task.args)
            self.run.events.deps[task.index] = sorted(task.deps)
            known.add(task.index)
            jobs.append(job)
        return jobs

    def job(self, task: PlannedTask) -> Job:
        """Return the job that runs ``task`` with its plan's tool call id."""
        return self.run.job(task, self._ids.get(task.index, f"llmc_approval_{task.index}"))

    def transcript(self, outcomes: Mapping[int, Outcome]) -> list[BaseMessage]:
        """Return one result message per task this pass finished, in plan order.

        Tasks whose tool asked for input (``interrupt``) get none and are marked on the
        plan message (replaced by id), so the next pass runs each alone, first.
        """
        pairs = ((t, self._ids.get(t.index, f"llmc_approval_{t.index}")) for t in self.pending)
        messages = self.run.results(pairs, outcomes)
        if self.run.record.interrupts and self._plan is not None:
            marker = dict(self._plan.additional_kwargs.get(KIND, {}))
            marker["interrupted"] = sorted(self._interrupted | set(self.run.record.interrupts))
            kwargs = {**self._plan.additional_kwargs, KIND: marker}
            messages.insert(0, self._plan.model_copy(update={"additional_kwargs": kwargs}))
        return messages
