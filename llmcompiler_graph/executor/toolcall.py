"""Turn a planned task into a scheduler job that calls its tool the way ``ToolNode`` does.

Each call goes through LangGraph's own :class:`~langgraph.prebuilt.ToolNode` (built once per
graph, in :class:`Toolbox`; one call at a time through its per-call method, so the call
runs on the scheduler's worker, not on a thread pool ToolNode would start) with a full
``ToolCall`` (``{"name", "args", "id", "type":
"tool_call"}``; the id is the one in the plan's ``AIMessage.tool_calls``). So everything a
tool can ask for under ``ToolNode`` works in a plan: ``InjectedToolCallId``,
``InjectedState`` (the graph's state as the node saw it), ``InjectedStore``, ``ToolRuntime``
(state, context, config, stream writer, tool call id, store), returning its own
``ToolMessage``, ``handle_tool_error``/``ToolException`` and
``response_format="content_and_artifact"``.

What a task's result is (its value for ``$N``):

* a ``ToolMessage`` with ``status="error"`` (a handled ``ToolException``, or a tool's own
  error message) makes the task fail with that text; its dependents are skipped;
* for a ``content_and_artifact`` tool (MCP tools loaded with ``langchain-mcp-adapters``
  among them) or a tool that returned its own ``ToolMessage`` with an artifact, the result
  is an :class:`Artifact`: an exact ``"$N"`` argument receives the content's text or the
  artifact, whichever the receiving parameter's schema takes (see
  :mod:`llmcompiler_graph.executor.receiving`), and ``$N`` inside text receives the text;
* otherwise an exact ``"$N"`` receives the object the tool function returned (for ``@tool``
  and ``StructuredTool`` functions; for other ``BaseTool`` classes, the message content).

A tool that calls LangGraph's ``interrupt()`` raises ``GraphInterrupt``; the job records it
in its :class:`CallRecord` (the node decides what to do, see :mod:`llmcompiler_graph.nodes.approve`)
and the task ends with :class:`TaskInterrupted`.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from langchain_core.messages import AIMessage, ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.errors import GraphBubbleUp
from langgraph.types import Command

from llmcompiler_graph.errors import LLMCompilerError
from llmcompiler_graph.executor.receiving import Artifact, fit_arguments, holds_artifact
from llmcompiler_graph.executor.toolbox import RAW, NodeTools, Toolbox
from llmcompiler_graph.fetching.jobs import Job
from llmcompiler_graph.planner.references import substitute, to_text
from llmcompiler_graph.planner.tasks import PlannedTask

__all__ = [
    "CallRecord",
    "TaskInterrupted",
    "ToolError",
    "async_only",
    "has_async",
    "message_text",
    "resolved_arguments",
    "result_text",
    "tool_job",
    "tool_text",
]


class ToolError(LLMCompilerError):
    """Raise for a tool call whose ``ToolMessage`` has ``status="error"`` (its content)."""


class TaskInterrupted(LLMCompilerError):
    """Raise for a task whose tool called ``interrupt()``; it runs again after the resume."""


@dataclass
class CallRecord:
    """What a node's tool calls produced besides their values, by task index."""

    messages: dict[int, ToolMessage] = field(default_factory=dict)
    interrupts: dict[int, GraphBubbleUp] = field(default_factory=dict)


def tool_job(
    task: PlannedTask,
    tools: NodeTools | Mapping[str, BaseTool],
    config: RunnableConfig,
    *,
    asynchronous: bool = False,
    call_id: str | None = None,
    record: CallRecord | None = None,
    catch_interrupts: bool = True,
) -> Job:
    """Make a scheduler job that calls ``task``'s tool with its references substituted.

    The call gets the node's config (callbacks, tags, LangGraph's runtime) with
    ``run_name`` set to the tool and ``metadata["llmcompiler_task"]`` set to the task
    number, so traces show each tool call as a child of the node. With ``asynchronous``,
    tools that have a native async implementation are awaited on the event loop; other
    tools always run on a thread. Without it, an async-only tool runs on its worker thread
    in an event loop of its own. ``call_id`` is the plan's tool call id for the task;
    ``record`` collects the tool's ``ToolMessage`` and, with ``catch_interrupts``, a
    tool's interrupt (the task then ends with :class:`TaskInterrupted`); without it the
    interrupt propagates (the unit's ``propagate`` passes it through ``wait()``). Pass the
    node's :class:`NodeTools` as ``tools`` (made with ``config``) so what its calls share is
    read once; a plain mapping of tools makes one for this job.
    """
    mapping = tools.box if isinstance(tools, NodeTools) else tools
    tool = mapping.get(task.name) if task.error is None else None
    if tool is None:
        error = task.error or f"task {task.index} '{task.name}': no tool named {task.name!r}"
        return Job(task.index, task.name or "?", None, frozenset(), error, task.args)
    if not isinstance(tools, NodeTools):
        tools = NodeTools(tools if isinstance(tools, Toolbox) else Toolbox([tool]), config)
    box, node = tools, tools.box.node
    tool_config = tools.config_for(tool.name, task.index)
    record = record if record is not None else CallRecord()
    the_id = call_id or f"llmc_task_{task.index}"

    def arguments(deps: Mapping[int, object]) -> object:
        return resolved_arguments(task, deps, box.box.schema)

    def call_of(deps: Mapping[int, object]) -> ToolCall:
        args = arguments(deps)
        assert isinstance(args, dict)  # a task's arguments are keyword arguments
        return ToolCall(name=tool.name, args=args, id=the_id, type="tool_call")

    def finish(output: object, raw: list[object]) -> object:
        return _result(task, tool, output, raw, record)

    def interrupted(exc: GraphBubbleUp) -> BaseException:
        if not catch_interrupts:
            return exc
        record.interrupts[task.index] = exc
        return TaskInterrupted(f"task {task.index} '{task.name}' asked for input (interrupt)")

    if asynchronous and has_async(tool):

        async def acall(deps: Mapping[int, object]) -> object:
            raw: list[object] = []
            token = RAW.set(raw)
            try:
                call, runtime = box.prepare(call_of(deps), tool_config)
                output = await node._arun_one(call, "tool_calls", runtime)
            except GraphBubbleUp as exc:
                raise interrupted(exc) from None
            except Exception:
                if not raw:
                    raise
                output = None  # the function returned; only making its message failed
            finally:
                RAW.reset(token)
            return finish(output, raw)

        return Job(task.index, task.name, acall, task.deps, None, task.args, resolve=arguments)
    # The call runs in a copy of the node's context so LangGraph's stream writer, config
    # and tracing context reach the tool on its worker thread.
    context = contextvars.copy_context()

    def run(deps: Mapping[int, object]) -> object:
        raw: list[object] = []
        RAW.set(raw)  # inside the job's own context copy
        try:
            call, runtime = box.prepare(call_of(deps), tool_config)
            if async_only(tool):  # e.g. @tool on an async def, called from invoke(): own loop
                output = asyncio.run(node._arun_one(call, "tool_calls", runtime))
            else:
                output = node._run_one(call, "tool_calls", runtime)
        except GraphBubbleUp as exc:
            raise interrupted(exc) from None
        except Exception:
            if not raw:
                raise
            output = None  # the function returned; only making its message failed
        return finish(output, raw)

    def call(deps: Mapping[int, object]) -> object:
        return context.copy().run(run, deps)

    return Job(task.index, task.name, call, task.deps, None, task.args, resolve=arguments)


def _result(
    task: PlannedTask, tool: BaseTool, output: object, raw: list[object], record: CallRecord
) -> object:
    if output is None and raw:  # e.g. a value whose str() fails: rendered by the transcript
        return raw[-1]
    message = _tool_message(task, output)
    if message.status == "error":
        raise ToolError(tool_text(message.content))
    record.messages[task.index] = message
    returned_message = bool(raw) and isinstance(raw[-1], ToolMessage | Command)
    if tool.response_format == "content_and_artifact" or (
        returned_message and message.artifact is not None
    ):
        return Artifact(message.artifact, tool_text(message.content))
    if raw and not returned_message:
        return raw[-1]
    return message.content


def resolved_arguments(
    task: PlannedTask, deps: Mapping[int, object], schema: Callable[[str], object]
) -> object:
    """Return ``task``'s arguments with the results of ``deps`` in place of ``$N``.

    An exact ``"$N"`` of a result with two faces (an :class:`Artifact`) receives the face
    its parameter takes; ``schema(name)`` returns a tool's argument schema, asked only then.
    """
    args = substitute(task.args, task.deps, deps, result_text)
    if isinstance(args, dict) and holds_artifact(args):
        found = schema(task.name)
        return fit_arguments(args, found if isinstance(found, Mapping) else None)
    return args


def _tool_message(task: PlannedTask, output: object) -> ToolMessage:
    # A ToolMessage, a Command a tool returned, or a list of them.
    messages: list[object] = []
    for item in output if isinstance(output, list) else [output]:
        if isinstance(item, ToolMessage):
            messages.append(item)
            continue
        if isinstance(item, Command) and item.goto == () and isinstance(item.update, dict):
            if set(item.update) <= {"messages"}:
                messages.extend(item.update.get("messages", []))
                continue
        raise TypeError(
            f"task {task.index} '{task.name}' returned {item!r}: a plan task may return a "
            "value or a ToolMessage, not a Command that updates the graph's state"
        )
    found = [m for m in messages if isinstance(m, ToolMessage)]
    if not found:
        raise TypeError(f"task {task.index} '{task.name}' returned no ToolMessage: {output!r}")
    return found[-1]


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
    if isinstance(value, Artifact):
        return value.text
    if isinstance(value, ToolMessage):
        return tool_text(value.content)
    if isinstance(value, AIMessage):
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


def tool_text(content: object) -> str:
    """Return the text of a tool result's content: its text blocks, one per line.

    A tool's content blocks are separate items (an MCP tool returning a list sends one
    block per item), unlike a model's, which :func:`message_text` joins as written.
    """
    if isinstance(content, list):
        return "\n".join(
            b if isinstance(b, str) else str(b.get("text", ""))
            for b in content
            if isinstance(b, str) or (isinstance(b, dict) and "text" in b)
        )
    return message_text(content)
