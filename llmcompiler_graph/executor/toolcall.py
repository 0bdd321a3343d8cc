"""Turn a planned task into a scheduler job that calls its tool."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Mapping

from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import patch_config
from langchain_core.tools import BaseTool

from llmcompiler_graph.fetching.jobs import Job
from llmcompiler_graph.planner.parser import PlannedTask
from llmcompiler_graph.planner.references import substitute, to_text

__all__ = ["async_only", "has_async", "message_text", "result_text", "tool_job"]


def tool_job(
    task: PlannedTask,
    tools: Mapping[str, BaseTool],
    config: RunnableConfig,
    *,
    asynchronous: bool = False,
) -> Job:
    """Make a scheduler job that calls ``task``'s tool with its references substituted.

    The call gets the node's config (callbacks, tags) with ``run_name`` set to the tool and
    ``metadata["llmcompiler_task"]`` set to the task number, so traces show each tool call
    as a child of the node. With ``asynchronous``, tools that have a native async
    implementation are awaited on the event loop; other tools always run on a thread.
    Without it, an async-only tool runs on its worker thread in an event loop of its own.
    """
    tool = tools.get(task.name) if task.error is None else None
    if tool is None:
        error = task.error or f"task {task.index} '{task.name}': no tool named {task.name!r}"
        return Job(task.index, task.name or "?", None, frozenset(), error, task.args)
    tool_config = patch_config(config, run_name=tool.name)
    tool_config["metadata"] = {**tool_config.get("metadata", {}), "llmcompiler_task": task.index}

    def arguments(deps: Mapping[int, object]) -> object:
        return substitute(task.args, task.deps, deps, result_text)

    if asynchronous and has_async(tool):

        async def acall(deps: Mapping[int, object]) -> object:
            return await tool.ainvoke(arguments(deps), tool_config)  # type: ignore[arg-type]

        return Job(task.index, task.name, acall, task.deps, None, task.args, resolve=arguments)
    # The call runs in a copy of the node's context so LangGraph's stream writer and
    # tracing context reach the tool on its worker thread.
    context = contextvars.copy_context()

    if async_only(tool):  # e.g. @tool on an async def, called from invoke(): own loop

        def run_loop(deps: Mapping[int, object]) -> object:
            coroutine = tool.ainvoke(arguments(deps), tool_config)  # type: ignore[arg-type]
            return context.run(asyncio.run, coroutine)

        return Job(task.index, task.name, run_loop, task.deps, None, task.args, resolve=arguments)

    def call(deps: Mapping[int, object]) -> object:
        return context.run(tool.invoke, arguments(deps), tool_config)  # type: ignore[arg-type]

    return Job(task.index, task.name, call, task.deps, None, task.args, resolve=arguments)


def async_only(tool: BaseTool) -> bool:
    """Tell whether ``tool`` can only be awaited (a ``StructuredTool`` without ``func``)."""
    return getattr(tool, "coroutine", None) is not None and getattr(tool, "func", None) is None


def has_async(tool: BaseTool) -> bool:
    """Tell whether ``tool`` has a native async implementation (else it runs on a thread)."""
    if getattr(tool, "coroutine", None) is not None:  # Tool / StructuredTool
        return True
    if hasattr(tool, "coroutine"):  # a Tool without one falls back to a thread pool
        return False
    return inspect.getattr_static(type(tool), "_arun") is not inspect.getattr_static(
        BaseTool, "_arun"
    )


def result_text(value: object) -> str:
    """Render a tool's return value as text (message contents unwrapped)."""
    if isinstance(value, ToolMessage | AIMessage):
        return message_text(value.content)
    return to_text(value)


def message_text(content: object) -> str:
    """Return the text of a message's content (a string or a list of content blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(
            b if isinstance(b, str) else str(b.get("text", ""))
            for b in content
            if isinstance(b, str | dict)
        )
    return str(content)
