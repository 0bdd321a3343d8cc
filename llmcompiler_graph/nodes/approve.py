"""Human approval of tool calls: which tasks wait, what the reviewer sees, what they answer.

Design (see the docs' Approval guide). A task whose tool is listed in
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
(:mod:`llmcompiler_graph.nodes.journal`); only calls in flight at the crash run again.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from langchain_core.messages import BaseMessage

from llmcompiler_graph.errors import ApprovalAnswerError
from llmcompiler_graph.executor.toolcall import result_text, unwrap_artifacts
from llmcompiler_graph.fetching.jobs import Job, Outcome
from llmcompiler_graph.nodes.task_runs import TaskRun
from llmcompiler_graph.nodes.transcript import jsonable
from llmcompiler_graph.planner.references import substitute
from llmcompiler_graph.planner.tasks import PlannedTask
from llmcompiler_graph.state import KIND, Turn, planned_tasks

__all__ = [
    "APPROVAL_TYPE",
    "HOW_TO_ANSWER",
    "ApprovalPass",
    "Verdict",
    "check_approval_names",
    "normalize_resume",
    "parse_verdicts",
    "pending_tasks",
]


_YES = {"approve", "approved", "accept", "accepted", "yes", "y", "ok", "allow", "run"}
_NO = {"reject", "rejected", "deny", "denied", "no", "n", "cancel", "skip"}

HOW_TO_ANSWER = (
    "Resume with Command(resume=...): 'approve' or 'reject' (or True / False) for all tasks "
    "shown; {'action': 'approve' | 'reject', 'reason': '...'} for all; a non-empty list of "
    "these in the order shown; or a dict from task index to one of these, e.g. "
    "{'3': 'approve', '4': {'action': 'reject', 'reason': 'not now'}}; tasks left out are "
    "asked again."
)


@dataclass(frozen=True)
class Verdict:
    """A reviewer's decision on one task."""

    approved: bool
    reason: str | None = None


def parse_verdicts(value: object, indices: Sequence[int]) -> dict[int, Verdict]:
    """Read a resume value into verdicts for the tasks ``indices`` (those shown).

    Accepted: ``"approve"``/``True`` or ``"reject"``/``False`` for all; a dict
    ``{"action": "approve" | "reject", "reason": ...}`` for all; a non-empty list in the order
    shown; or a dict from task index (a string or an integer) to any of these. A task not
    mentioned gets no verdict and is asked about again.

    Raises:
        ApprovalAnswerError: For anything else (``None``, ``[]``, ``{}``, unknown words,
            indices not shown): the message names the accepted shapes, and the ``approve``
            node asks again rather than deciding anything.

    """
    shown = list(indices)
    single = _verdict(value)
    if single is not None:
        return dict.fromkeys(shown, single)
    if isinstance(value, list | tuple) and value:
        if len(value) > len(shown):
            _refuse(value, f"it has {len(value)} items for {len(shown)} task(s) shown")
        verdicts = {}
        for position, item in zip(shown, value, strict=False):
            verdicts[position] = _verdict(item) or _refuse(value, f"item {item!r} is not a verdict")
        return verdicts
    if isinstance(value, Mapping) and value and not _is_single(value):
        by_index: dict[int, Verdict] = {}
        for key, item in value.items():
            index = _index(key)
            if index is None or index not in shown:
                _refuse(value, f"key {key!r} is not a task shown ({_listing(shown)})")
            by_index[index] = _verdict(item) or _refuse(
                value, f"the answer for task {index}, {item!r}, is not a verdict"
            )
        return by_index
    return _refuse(value, "it decides nothing" if _empty(value) else "its shape is unknown")


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
    accepted shapes, integer task indices become strings.

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


def _verdict(item: object) -> Verdict | None:
    if isinstance(item, bool):
        return Verdict(item)
    if isinstance(item, str) and item.strip().lower() in _YES | _NO:
        return Verdict(item.strip().lower() in _YES)
    if isinstance(item, Mapping) and _is_single(item):
        action = item.get("action", item.get("type", item.get("decision")))
        if isinstance(action, str) and action.strip().lower() in _YES | _NO:
            reason = item.get("reason", item.get("message"))
            return Verdict(action.strip().lower() in _YES, str(reason) if reason else None)
    return None


def _is_single(item: Mapping[Any, Any]) -> bool:
    return any(key in item for key in ("action", "type", "decision"))


def _index(key: object) -> int | None:
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key
    if isinstance(key, str) and key.strip().isdigit():
        return int(key)
    return None


def _empty(value: object) -> bool:
    return value is None or (isinstance(value, list | tuple | Mapping | str) and not value)


def _listing(shown: Sequence[int]) -> str:
    return ", ".join(str(i) for i in shown) or "none"


def _refuse(value: object, why: str) -> NoReturn:
    text = repr(value)
    if len(text) > 200:
        text = text[:200] + "..."
    raise ApprovalAnswerError(
        f"the approval answer {text} was not understood: {why}. {HOW_TO_ANSWER}"
    )


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
