"""The Task Fetching Unit (paper section 3.2): start each task as soon as its inputs exist.

Pure Python, no LangChain types. :mod:`.jobs` is the vocabulary (a :class:`~.jobs.Job`, its
:class:`~.jobs.Outcome`, lifecycle :class:`~.jobs.TaskEvent`), :mod:`.core` the dependency
bookkeeping in the spirit of :mod:`graphlib` (which tasks wait, which may start, which are
skipped because a dependency failed), and two thin drivers run the jobs: :mod:`.threads`
on worker threads and :mod:`.aio` on an asyncio event loop. Jobs are submitted one at a time
while the plan still streams; nothing polls.
"""
