"""The hazard benchmark: file edits and reads on shared files, mixed with independent searches.

Calls of ``write_file``, ``append_file`` and ``read_file`` share the files (resource
``fs``, declared with ``tool_effects``); searches share nothing. Each run's results (every
task's value and the files at the end) are compared with running the plan sequentially,
step by step; its time with the ideal schedule under the same ordering edges. Simulated:
scripted models with a latency profile, tools that sleep. See :mod:`.suite`.
"""
