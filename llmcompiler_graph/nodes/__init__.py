"""The LangGraph layer: the nodes that run the paper's parts inside a compiled graph.

:mod:`.wiring` holds the nodes (``plan_and_schedule``, ``approve``, ``join``), each with a sync
and an async implementation, and the routing between them. :mod:`.round` is one
``plan_and_schedule`` round: the planner's stream (asked through :mod:`.planner_call`, read by
:mod:`.reader` on worker threads or in asyncio) feeds the task fetching unit as each task is
parsed (paper sections 3.1-3.3); :mod:`.task_runs` is what every node that runs tasks shares;
:mod:`.approve` holds tasks for a human's answer (LangChain's HITL format: :mod:`.review`), and
:mod:`.settle` ends those an earlier question left waiting; :mod:`.transcript` records a round
in the conversation as tool calls and tool messages; :mod:`.events` sends task events on the
``custom`` stream; :mod:`.journal` makes a round crash-safe with LangGraph's own task results;
:mod:`.cancel` ends a round when a sync stream's consumer stops reading.
"""
