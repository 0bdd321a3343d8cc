"""Dependency bookkeeping, in the spirit of :mod:`graphlib`: which jobs wait, which are ready.

:class:`DependencyTracker` knows which jobs wait on which, which may start, how each one
ended, and which must be skipped because a dependency failed; optionally, how long a chain
of dependents (known so far) waits behind each job, for critical-path priority. Besides a
job's ``$N`` dependencies it waits for every earlier job it conflicts with on a shared
resource (:mod:`.hazards`): an ordering edge, not data, so it waits for that job to end
however it ended. A job *held* (it will run again later: a tool that asked for input) holds
what must follow it: its dependents and the jobs ordered after it are skipped too. It holds
no lock, runs nothing and knows no limits: :class:`~llmcompiler_graph.fetching.core.Scheduler`
decides which ready job starts when.

::

    dag = DependencyTracker()
    dag.add(Job(1, "search", fn=...))                     # None: ready to start
    dag.add(Job(2, "math", fn=..., deps=frozenset({1})))  # None: waits for 1
    launch = dag.start_next()                             # job 1, with its deps' values
    dag.finish(1, "ok", value=...)                        # [outcome of 1]; job 2 is ready
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import NamedTuple

from llmcompiler_graph.errors import SchedulerError
from llmcompiler_graph.fetching.hazards import Hazards
from llmcompiler_graph.fetching.jobs import Job, Outcome, Status

__all__ = ["DependencyTracker", "Launch"]

_VERB = {"error": "failed", "timeout": "timed out", "skipped": "was skipped", "ok": "succeeded"}


class Launch(NamedTuple):
    """A job taken off the ready queue: what to call it with, and when it started."""

    job: Job
    deps: dict[int, object]
    started_at: float


class DependencyTracker:
    """Track one run's jobs: which wait, which are ready, how each ended.

    Jobs are added one at a time (while a plan still streams); each may depend only on jobs
    added before it or on ``completed`` outcomes of earlier runs. Not thread-safe.
    """

    def __init__(
        self,
        completed: Mapping[int, Outcome] | None = None,
        *,
        clock: Callable[[], float] = time.perf_counter,
        track_chains: bool = False,
    ) -> None:
        """Start an empty run.

        Args:
            completed: Outcomes of earlier runs that new jobs may depend on.
            clock: Source of the times stored in outcomes.
            track_chains: Keep :meth:`chain` up to date (costs a walk over a new job's
                ancestors on each :meth:`add`).

        """
        self._clock = clock
        self._jobs: dict[int, Job] = {}
        self._submitted_at: dict[int, float] = {}
        self._started_at: dict[int, float] = {}
        self._outcomes: dict[int, Outcome] = dict(completed or {})
        self._prior = frozenset(self._outcomes)
        self._root_cause: dict[int, int] = {}  # skipped job -> the failure behind it
        self._waiting_on: dict[int, set[int]] = {}  # job -> unfinished deps
        self._dependents: dict[int, list[int]] = {}  # dep -> jobs waiting for it
        self._ready: dict[int, None] = {}  # insertion-ordered: the order jobs became ready
        self._chain: dict[int, int] | None = {} if track_chains else None
        self._closed = False
        self._hazards = Hazards()
        self._after: dict[int, tuple[int, ...]] = {}  # job -> its direct ordering edges
        self._followers: dict[int, list[int]] = {}  # job -> later jobs ordered after it
        self._held: set[int] = set()  # jobs that ended held, and what they held

    # -- adding jobs ------------------------------------------------------------------------

    def add(self, job: Job) -> Outcome | None:
        """Add a job: queue it as ready, let it wait, or end it at once.

        Returns:
            The job's outcome if it ended without running (a planning error, or a failed
            dependency: then it is skipped), else ``None``.

        Raises:
            SchedulerError: After :meth:`close`, for an index already used, or for a
                dependency that was neither added nor given as ``completed``.

        """
        if self._closed:
            raise SchedulerError(f"task {job.index} '{job.name}': submitted after close()")
        if job.index in self._jobs or job.index in self._outcomes:
            raise SchedulerError(f"task {job.index} '{job.name}': index already used")
        unknown = sorted(d for d in job.deps if d not in self._jobs and d not in self._outcomes)
        if unknown:
            raise SchedulerError(
                f"task {job.index} '{job.name}': depends on unknown task(s) {unknown}; "
                "submit dependencies first"
            )
        self._jobs[job.index] = job
        self._submitted_at[job.index] = self._clock()
        # Every job takes its place in plan order, even one that will not run, so the edges
        # are the same whatever ran (a journal's replay draws the plan it drew).
        edges = self._hazards.add(job.index, job.effects)
        if edges.after:
            self._after[job.index] = edges.after
        failed = [d for d in sorted(job.deps) if d in self._outcomes and not self._outcomes[d].ok]
        pending = {d for d in job.deps if d not in self._outcomes}
        ordered = {c for c in edges.conflicts if c not in self._outcomes}
        held = next((c for c in edges.conflicts if c in self._held), None)
        if job.fn is None or job.error is not None:
            return self._record(job.index, "error", None, job.error or "not runnable")
        if failed:
            if any(d in self._held for d in failed):
                self._held.add(job.index)
            return self._record(
                job.index, "skipped", None, self._skip_message(job.index, failed[0])
            )
        if held is not None:
            self._held.add(job.index)
            return self._record(job.index, "skipped", None, self._after_message(job.index, held))
        if self._chain is not None:
            self._lengthen_chains(job)
        if pending or ordered:
            self._waiting_on[job.index] = pending | ordered
            for d in pending:
                self._dependents.setdefault(d, []).append(job.index)
            for c in ordered:
                self._followers.setdefault(c, []).append(job.index)
        else:
            self._ready[job.index] = None
        return None

    def close(self) -> None:
        """Declare that no more jobs will be added."""
        self._closed = True

    # -- running them -----------------------------------------------------------------------

    def start_next(self) -> Launch | None:
        """Take the oldest ready job and mark it started; ``None`` if none is ready."""
        if not self._ready:
            return None
        return self.start(next(iter(self._ready)))

    def start(self, index: int, now: float | None = None) -> Launch:
        """Mark the ready job ``index`` started (at ``now``, default the clock's time).

        Raises:
            SchedulerError: If the job is not ready.

        """
        if index not in self._ready:
            raise SchedulerError(f"task {index}: start() of a job that is not ready")
        del self._ready[index]
        now = self._started_at[index] = self._clock() if now is None else now
        job = self._jobs[index]
        return Launch(job, {d: self._outcomes[d].value for d in job.deps}, now)

    def ready(self) -> Iterator[int]:
        """Iterate over the ready jobs in the order they became ready (start none meanwhile)."""
        return iter(self._ready)

    def chain(self, index: int) -> int:
        """Return the longest chain of dependents known behind a job (0 for none).

        Jobs ordered after it by a shared resource count as dependents.
        """
        return 0 if self._chain is None else self._chain.get(index, 0)

    def after(self, index: int) -> tuple[int, ...]:
        """Return the earlier jobs ``index`` is ordered after (direct edges, in plan order)."""
        return self._after.get(index, ())

    def held(self) -> set[int]:
        """Return the jobs that ended held, and those skipped because of them."""
        return set(self._held)

    def finish(
        self,
        index: int,
        status: Status,
        *,
        value: object = None,
        error: str | None = None,
        hold: bool = False,
    ) -> list[Outcome]:
        """Record how a started job ended, release its dependents, skip theirs if it failed.

        Dependents whose last dependency this was become ready (see :meth:`start_next`), and
        so do jobs ordered after it whose last earlier conflict this was, however it ended.
        With ``hold`` (the job will run again later), the jobs ordered after it are skipped
        too, and everything skipped because of it is held in turn (see :meth:`held`).

        Returns:
            The outcomes recorded, in order: this job's, then those of every job skipped
            because of it (transitively).

        Raises:
            SchedulerError: If the job was never started or already has an outcome.

        """
        if index not in self._started_at:
            raise SchedulerError(f"task {index}: finish() before start_next() handed it out")
        if index in self._outcomes:
            raise SchedulerError(f"task {index}: finish() called twice; a job ends only once")
        recorded: list[Outcome] = []
        # Iterative, so a long chain of skipped dependents cannot exhaust the stack.
        stack: list[tuple[int, Status, object, str | None, bool]] = [
            (index, status, value, error, hold)
        ]
        while stack:
            *ended, held = stack.pop()
            outcome = self._record(*ended)  # type: ignore[arg-type]
            recorded.append(outcome)
            if held:
                self._held.add(outcome.index)
            for dependent in self._dependents.pop(outcome.index, ()):
                pending = self._waiting_on.get(dependent)
                if pending is None:  # already skipped because another dependency failed
                    continue
                if not outcome.ok:
                    del self._waiting_on[dependent]
                    message = self._skip_message(dependent, outcome.index)
                    stack.append((dependent, "skipped", None, message, held))
                    continue
                self._release(dependent, pending, outcome.index)
            for follower in self._followers.pop(outcome.index, ()):
                pending = self._waiting_on.get(follower)
                if pending is None:  # already skipped, or released as a dependent
                    continue
                if held:
                    del self._waiting_on[follower]
                    message = self._after_message(follower, outcome.index)
                    stack.append((follower, "skipped", None, message, True))
                    continue
                self._release(follower, pending, outcome.index)
        return recorded

    def _release(self, index: int, pending: set[int], ended: int) -> None:
        """Note that ``ended`` no longer keeps ``index`` waiting; queue it if nothing does."""
        pending.discard(ended)
        if not pending:
            del self._waiting_on[index]
            self._ready[index] = None

    def cancel(self, reason: str) -> list[Outcome]:
        """End every job without an outcome: running ones as errors, the others as skipped.

        Returns:
            The outcomes recorded, in plan order.

        """
        self._closed = True
        self._ready.clear()
        self._waiting_on.clear()
        self._dependents.clear()
        self._followers.clear()
        recorded = []
        for index in self.unfinished():
            name = self._jobs[index].name
            if index in self._started_at:
                message = f"task {index} '{name}' was cancelled while running: {reason}"
                recorded.append(self._record(index, "error", None, message))
            else:
                message = f"task {index} '{name}' did not run: {reason}"
                recorded.append(self._record(index, "skipped", None, message))
        return recorded

    # -- state ------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Tell whether :meth:`close` was called."""
        return self._closed

    @property
    def all_done(self) -> bool:
        """Tell whether the run is closed and every job added has an outcome."""
        return self._closed and len(self._outcomes) - len(self._prior) == len(self._jobs)

    def is_running(self, index: int) -> bool:
        """Tell whether a job was started and has no outcome yet."""
        return index in self._started_at and index not in self._outcomes

    def is_finished(self, index: int) -> bool:
        """Tell whether a job (or an earlier run's task) has an outcome."""
        return index in self._outcomes

    def job(self, index: int) -> Job:
        """Return the job added under ``index``."""
        return self._jobs[index]

    def unfinished(self) -> list[int]:
        """Return the indices of jobs added that have no outcome yet, in order."""
        return sorted(i for i in self._jobs if i not in self._outcomes)

    def results(self) -> dict[int, Outcome]:
        """Return this run's outcomes by index (earlier runs' outcomes excluded)."""
        return {i: o for i, o in self._outcomes.items() if i not in self._prior}

    # -- internals --------------------------------------------------------------------------

    def _record(self, index: int, status: Status, value: object, error: str | None) -> Outcome:
        outcome = Outcome(
            index,
            self._jobs[index].name,
            status,
            value,
            error,
            submitted_at=self._submitted_at[index],
            started_at=self._started_at.get(index),
            finished_at=self._clock(),
        )
        self._outcomes[index] = outcome
        return outcome

    def _lengthen_chains(self, job: Job) -> None:
        # A new job has no dependents: each ancestor's chain grows to at least its distance.
        # Ordering edges count: a job with a long line of calls waiting behind it goes first.
        stack = [(d, 1) for d in self._before(job.index) if d in self._jobs]
        while stack:
            index, length = stack.pop()
            assert self._chain is not None
            if self._chain.get(index, 0) >= length:
                continue
            self._chain[index] = length
            stack.extend((d, length + 1) for d in self._before(index) if d in self._jobs)

    def _before(self, index: int) -> Iterator[int]:
        """Iterate over the jobs ``index`` waits for: its dependencies, then its edges."""
        yield from self._jobs[index].deps
        yield from self._after.get(index, ())

    def _after_message(self, index: int, held: int) -> str:
        self._root_cause[index] = self._root_cause.get(held, held)
        return (
            f"task {index} '{self._jobs[index].name}' did not run: it must run after task "
            f"{held} '{self._jobs[held].name}', which will run again later"
        )

    def _skip_message(self, index: int, failed_dep: int) -> str:
        # Name the dependency and the failure behind it.
        dep = self._outcomes[failed_dep]
        root = self._root_cause.get(failed_dep, failed_dep)
        self._root_cause[index] = root
        message = (
            f"task {index} '{self._jobs[index].name}' did not run: it depends on task "
            f"{failed_dep} '{dep.name}', which {_VERB[dep.status]}"
        )
        if root != failed_dep:
            cause = self._outcomes[root]
            message += f" (because task {root} '{cause.name}' {_VERB[cause.status]})"
        return message
