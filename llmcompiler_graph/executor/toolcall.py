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
* for a ``content_and_artifact`` tool (or a tool that returned its own ``ToolMessage``
  with an artifact), an exact ``"$N"`` argument receives the artifact and ``$N`` inside
  text receives the content;
* otherwise an exact ``"$N"`` receives the object the tool function returned (for ``@tool``
  and ``StructuredTool`` functions; for other ``BaseTool`` classes, the message content).

A tool that calls LangGraph's ``interrupt()`` raises ``GraphInterrupt``; the job records it
in its :class:`CallRecord` (the node decides what to do, see :mod:`llmcompiler_graph.approval`)
and the task ends with :class:`TaskInterrupted`.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
import inspect
import typing
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from langchain_core.messages import AIMessage, ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import patch_config
from langchain_core.tools import BaseTool
from langgraph.errors import GraphBubbleUp
from langgraph.prebuilt import ToolNode, ToolRuntime
from langgraph.runtime import Runtime, get_runtime
from langgraph.types import Command

from llmcompiler_graph.fetching.jobs import Job
from llmcompiler_graph.planner.references import substitute, to_text
from llmcompiler_graph.planner.tasks import PlannedTask

__all__ = [
    "Artifact",
    "CallRecord",
    "TaskInterrupted",
    "ToolError",
    "Toolbox",
    "async_only",
    "has_async",
    "message_text",
    "result_text",
    "tool_job",
    "unwrap_artifacts",
]

F = TypeVar("F", bound=Callable[..., Any])

_RUNTIME_FIELDS = {f.name for f in dataclasses.fields(ToolRuntime)}

_RAW: contextvars.ContextVar[list[object] | None] = contextvars.ContextVar(
    "llmcompiler_raw_tool_output", default=None
)


@dataclass(frozen=True)
class Artifact:
    """A result whose text (its message's content) is not the object an exact ``"$N"`` gets."""

    value: object
    text: str

    def __str__(self) -> str:
        """Return the text (what ``$N`` inside text receives)."""
        return self.text


class ToolError(Exception):
    """Raise for a tool call whose ``ToolMessage`` has ``status="error"`` (its content)."""


class TaskInterrupted(Exception):
    """Raise for a task whose tool called ``interrupt()``; it runs again after the resume."""


@dataclass
class CallRecord:
    """What a node's tool calls produced besides their values, by task index."""

    messages: dict[int, ToolMessage] = field(default_factory=dict)
    interrupts: dict[int, GraphBubbleUp] = field(default_factory=dict)


class Toolbox(Mapping[str, BaseTool]):
    """The graph's tools by name, with the ``ToolNode`` that calls them (built once)."""

    def __init__(self, tools: Sequence[BaseTool]) -> None:
        """Wrap ``tools`` (names must be unique) and build their ``ToolNode``."""
        self._tools = {t.name: t for t in tools}
        # Copies whose function also hands its return value to the job (see _capturing).
        self.node = ToolNode([_capturing(t) for t in tools], handle_tool_errors=False)

    def __getitem__(self, name: str) -> BaseTool:
        """Return the tool named ``name``."""
        return self._tools[name]

    def __iter__(self) -> Iterator[str]:
        """Iterate over the tool names."""
        return iter(self._tools)

    def __len__(self) -> int:
        """Return how many tools there are."""
        return len(self._tools)

    def prepare(
        self, call: ToolCall, config: RunnableConfig
    ) -> tuple[ToolCall, ToolRuntime[Any, Any]]:
        """Return ``call`` and the ``ToolRuntime`` ``ToolNode`` gives it inside this node.

        Its state is the graph's state as the node saw it, read the way ``ToolNode`` reads
        it for a list of tool calls; context, store and stream writer are the node's.
        """
        try:
            runtime: Runtime[Any] = get_runtime()
        except RuntimeError:  # called outside a graph (a unit test of a job)
            runtime = Runtime()
        extra = {
            name: getattr(runtime, name)
            for name in ("execution_info", "server_info")
            if name in _RUNTIME_FIELDS and hasattr(runtime, name)
        }
        # Reading the state copies the channels: only for tools that inject it (or the runtime).
        injected = self.node._injected_args.get(call["name"])
        needs_state = injected is None or bool(injected.state) or injected.runtime is not None
        state = self.node._extract_state([call], config) if needs_state else {}  # type: ignore[list-item]
        tool_runtime = ToolRuntime(
            state=state,
            tool_call_id=call["id"],
            config=config,
            context=runtime.context,
            store=runtime.store,
            stream_writer=runtime.stream_writer,
            tools=list(self.node.tools_by_name.values()),
            **extra,
        )
        return call, tool_runtime


def tool_job(
    task: PlannedTask,
    tools: Mapping[str, BaseTool],
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
    interrupt propagates (the unit's ``propagate`` passes it through ``wait()``).
    """
    tool = tools.get(task.name) if task.error is None else None
    if tool is None:
        error = task.error or f"task {task.index} '{task.name}': no tool named {task.name!r}"
        return Job(task.index, task.name or "?", None, frozenset(), error, task.args)
    box = tools if isinstance(tools, Toolbox) else Toolbox([tool])
    tool_config = patch_config(config, run_name=tool.name)
    tool_config["metadata"] = {**tool_config.get("metadata", {}), "llmcompiler_task": task.index}
    record = record if record is not None else CallRecord()
    the_id = call_id or f"llmc_task_{task.index}"

    def arguments(deps: Mapping[int, object]) -> object:
        return unwrap_artifacts(substitute(task.args, task.deps, deps, result_text))

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
            token = _RAW.set(raw)
            try:
                call, runtime = box.prepare(call_of(deps), tool_config)
                output = await box.node._arun_one(call, "tool_calls", runtime)
            except GraphBubbleUp as exc:
                raise interrupted(exc) from None
            except Exception:
                if not raw:
                    raise
                output = None  # the function returned; only making its message failed
            finally:
                _RAW.reset(token)
            return finish(output, raw)

        return Job(task.index, task.name, acall, task.deps, None, task.args, resolve=arguments)
    # The call runs in a copy of the node's context so LangGraph's stream writer, config
    # and tracing context reach the tool on its worker thread.
    context = contextvars.copy_context()

    def run(deps: Mapping[int, object]) -> object:
        raw: list[object] = []
        _RAW.set(raw)  # inside the job's own context copy
        try:
            call, runtime = box.prepare(call_of(deps), tool_config)
            if async_only(tool):  # e.g. @tool on an async def, called from invoke(): own loop
                output = asyncio.run(box.node._arun_one(call, "tool_calls", runtime))
            else:
                output = box.node._run_one(call, "tool_calls", runtime)
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
        raise ToolError(message_text(message.content))
    record.messages[task.index] = message
    returned_message = bool(raw) and isinstance(raw[-1], ToolMessage | Command)
    if tool.response_format == "content_and_artifact" or (
        returned_message and message.artifact is not None
    ):
        return Artifact(message.artifact, message_text(message.content))
    if raw and not returned_message:
        return raw[-1]
    return message.content


def unwrap_artifacts(value: object) -> object:
    """Replace each :class:`Artifact` an exact ``"$N"`` placed in ``value`` by the artifact."""
    if isinstance(value, Artifact):
        return value.value
    if isinstance(value, dict):
        return {k: unwrap_artifacts(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(unwrap_artifacts(v) for v in value)
    return value


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


def _capturing(tool: BaseTool) -> BaseTool:
    """Return a copy of ``tool`` whose function also records what it returned (see _RAW)."""
    func = getattr(tool, "func", None)
    coroutine = getattr(tool, "coroutine", None)
    if func is None and coroutine is None:
        return tool
    update: dict[str, Any] = {}
    if func is not None:
        update["func"] = _capture(func)
    if coroutine is not None:
        update["coroutine"] = _acapture(coroutine)
    return tool.model_copy(update=update)


def _keep(value: object) -> None:
    holder = _RAW.get()
    if holder is not None:
        holder.append(value)


def _capture(func: Callable[..., object]) -> Callable[..., object]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> object:
        value = func(*args, **kwargs)
        _keep(value)
        return value

    return _settled(wrapper)


def _acapture(func: Callable[..., Awaitable[object]]) -> Callable[..., Awaitable[object]]:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> object:
        value = await func(*args, **kwargs)
        _keep(value)
        return value

    return _settled(wrapper)


def _settled(wrapper: F) -> F:
    """Work out once what LangChain reads from a tool's function on every call (issue 15).

    ``BaseTool.run`` looks up the function's ``RunnableConfig`` parameter
    (``get_type_hints``: string annotations are compiled again each time) and its signature
    before the body starts, on the dispatch's critical path. The wrapper keeps the same
    answers, resolved once: its annotations with their types, and its signature. A
    function whose hints cannot be resolved keeps them as written (resolved, and failing,
    per call as before).
    """
    try:  # before the annotations change: the signature of the wrapped function, as before
        signature: inspect.Signature | None = inspect.signature(wrapper)
    except (TypeError, ValueError):  # no signature: LangChain fails per call, as before
        signature = None
    try:
        hints = typing.get_type_hints(wrapper, include_extras=True)
    except Exception:  # unresolvable hints stay as they were
        pass
    else:
        wrapper.__annotations__ = hints
    if signature is not None:
        wrapper.__signature__ = signature  # type: ignore[attr-defined]
    return wrapper


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
