"""The Executor (paper section 3.3): run the task fetching unit's tasks on tools.

:mod:`.workers` holds the daemon worker threads and the timeout watchdog the drivers run
calls on (stdlib only, below :mod:`llmcompiler_graph.fetching`); :mod:`.toolcall` turns a
planned task into a job that substitutes its ``$N`` inputs and calls its LangChain tool with
the node's config, so traces show every tool call under its node.
"""
