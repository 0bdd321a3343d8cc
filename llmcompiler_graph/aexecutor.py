"""The async ``plan_and_schedule`` round, used by ``ainvoke``/``astream`` and ``langgraph dev``.

Same contract as :func:`llmcompiler_graph.executor.run_round`: the plan is streamed with
``model.astream`` and each task is handed to an
:class:`~llmcompiler_graph.async_scheduler.AsyncTaskFetchingUnit` the moment its line is
parsed. Tools with a native async implementation run on the event loop; sync tools run on
worker threads, so nothing blocks the loop.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from llmcompiler_graph.async_scheduler import AsyncTaskFetchingUnit
from llmcompiler_graph.executor import PlanRound, TaskPass
from llmcompiler_graph.jobs import Job, Outcome

__all__ = ["arun_jobs", "arun_round"]


async def arun_jobs(task_pass: TaskPass, jobs: Iterable[Job]) -> dict[int, Outcome]:
    """Run jobs known up front on the event loop; return their outcomes by index."""
    async with task_pass.unit(AsyncTaskFetchingUnit) as tfu:
        for job in jobs:
            tfu.submit(job)
        tfu.close()
        return await tfu.wait()


async def arun_round(
    model: BaseChatModel, messages: list[BaseMessage], round_: PlanRound
) -> list[BaseMessage]:
    """Stream one plan on the event loop, run its tasks, and return the plan and results."""
    async with round_.unit(AsyncTaskFetchingUnit) as tfu:
        try:
            stream = model.astream(messages, round_.config)
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
