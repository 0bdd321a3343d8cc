"""The Task Fetching Unit (paper section 3.2): start each task as soon as its inputs exist.

Pure Python, no LangChain types. :mod:`.jobs` is the vocabulary (a :class:`~.jobs.Job`, its
:class:`~.jobs.Outcome`, lifecycle :class:`~.jobs.TaskEvent`, the concurrency ceiling);
:mod:`.dependencies` the dependency bookkeeping in the spirit of :mod:`graphlib` (which tasks
wait, which are ready, which are skipped because a dependency failed); :mod:`.hazards` the
ordering edges between calls that share a resource (:class:`~.hazards.Effects`: what a tool
reads and writes; one writes, so they keep their plan order); :mod:`.limits` the
per-tool concurrency and rate limits; :mod:`.core` the sans-IO scheduler that decides what
starts and what is emitted (cap, priority, fusion, timeouts, cancellation), answering with
a step (the calls to make, one job or a fused batch each, and the events to deliver); and two
thin drivers do the I/O with one API (:mod:`.options`; shared parts in :mod:`.driver`):
:mod:`.threads` on worker threads (:mod:`.workers`: daemon threads and the timeout watchdog)
and :mod:`.aio` on an asyncio event loop. Jobs are submitted one at a time while the plan
still streams; nothing polls.
"""

from llmcompiler_graph.fetching.aio import AsyncTaskFetchingUnit
from llmcompiler_graph.fetching.hazards import Effects
from llmcompiler_graph.fetching.jobs import Job, Outcome, TaskEvent
from llmcompiler_graph.fetching.threads import TaskFetchingUnit

__all__ = ["AsyncTaskFetchingUnit", "Effects", "Job", "Outcome", "TaskEvent", "TaskFetchingUnit"]
