"""The Executor (paper section 3.3): run the task fetching unit's tasks on tools.

:mod:`.toolbox` gives each node its tools (copies that accept the node's config and injected
arguments, as LangGraph's ``ToolNode`` does), and :mod:`.toolcall` turns a planned task into a
job that substitutes its ``$N`` inputs and calls its LangChain tool with the node's config,
so traces show every tool call under its node. The worker threads the calls run on belong to
the task fetching unit's thread driver (:mod:`llmcompiler_graph.fetching.workers`).
"""
