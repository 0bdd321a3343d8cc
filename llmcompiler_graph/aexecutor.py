"""The async ``plan_and_schedule`` round, used by ``ainvoke``/``astream`` and ``langgraph dev``.

Same contract as :func:`llmcompiler_graph.executor.run_round`: the plan is streamed with
``model.astream`` and each task is handed to an
:class:`~llmcompiler_graph.async_scheduler.AsyncTaskFetchingUnit` the moment its line is
parsed. Tools with a native async implementation run on the event loop; sync tools run on
worker threads, so nothing blocks the loop.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool

from llmcompiler_graph.async_scheduler import AsyncTaskFetchingUnit
from llmcompiler_graph.context import Settings
from llmcompiler_graph.events import EventSink
from llmcompiler_graph.executor import PlanRound
from llmcompiler_graph.planner import ToolSpec
from llmcompiler_graph.state import Turn

__all__ = ["arun_round"]


async def arun_round(
    *,
    model: BaseChatModel,
    messages: list[BaseMessage],
    tools: Mapping[str, BaseTool],
    specs: Mapping[str, ToolSpec],
    turn: Turn,
    settings: Settings,
    config: RunnableConfig,
    emit: EventSink,
) -> list[BaseMessage]:
    """Stream one plan on the event loop, run its tasks, and return the plan and results."""
    round_ = PlanRound(
        tools=tools,
        specs=specs,
        turn=turn,
        settings=settings,
        config=config,
        emit=emit,
        asynchronous=True,
    )
    async with AsyncTaskFetchingUnit(
        max_concurrency=settings.max_concurrency,
        timeout=settings.task_timeout,
        on_event=round_.events,
        completed=round_.prior,
    ) as tfu:
        try:
            stream = model.astream(messages, config)
            try:
                async for chunk in stream:
                    for job in round_.feed(chunk.content):
                        tfu.submit(job)
                    if round_.done:
                        break
            finally:
                if isinstance(stream, AsyncGenerator):  # stop the model's stream early
                    await stream.aclose()
        except Exception as exc:  # the model's failure is an observation, not a crash
            round_.fail(exc)
        for job in round_.close():
            tfu.submit(job)
        tfu.close()
        outcomes = await tfu.wait()
    return round_.transcript(outcomes)
