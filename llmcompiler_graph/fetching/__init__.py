"""The Task Fetching Unit (paper section 3.2): start each task as soon as its inputs exist.

Pure Python, no LangChain types. :mod:`.jobs` is the vocabulary (a :class:`~.jobs.Job`, its
:class:`~.jobs.Outcome`, lifecycle :class:`~.jobs.TaskEvent`, the concurrency ceiling);
:mod:`.dependencies` the dependency bookkeeping in the spirit of :mod:`graphlib` (which tasks
wait, which are ready, which are skipped because a dependency failed); :mod:`.limits` the
per-tool concurrency and rate limits; :mod:`.core` the sans-IO scheduler that decides what
starts and what is emitted (cap, priority, fusion, timeouts, cancellation), answering with
:mod:`.calls` (a call to make, one job or a fused batch, and the driver's next step); and two
thin drivers do the I/O with one API (:mod:`.options`; shared parts in :mod:`.driver`):
:mod:`.threads` on worker threads and :mod:`.aio` on an asyncio event loop. Jobs are
submitted one at a time while the plan still streams; nothing polls.
"""
