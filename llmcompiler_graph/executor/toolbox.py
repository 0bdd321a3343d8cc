"""The graph's tools as the plan's jobs call them: copies that report what they returned.

:class:`Toolbox` is built once per graph: LangGraph's :class:`~langgraph.prebuilt.ToolNode`
over copies of the tools whose function also hands its return value to the job (the value
``$N`` receives; see :mod:`.toolcall`). :class:`NodeTools` is the toolbox as one node
execution calls it: the parts of a ``ToolRuntime`` that every call of the node shares are
read once, when the node starts, not on each call's way to its tool.

Look-ups LangChain repeats on every call are also settled when the graph is built
(dispatch latency): the copy's function has its type hints resolved and its
signature fixed (:func:`_settled`), and the copy's class is a subclass of the tool's
whose ``_run``/``_arun`` only delegate, with resolved hints, and whose filter of injected
arguments (what callbacks see) knows its keys once (:func:`_settled_class`).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import inspect
import typing
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from langchain_core.messages import ToolCall
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import patch_config
from langchain_core.tools import BaseTool, StructuredTool
from langchain_core.tools.base import FILTERED_ARGS, get_all_basemodel_annotations
from langgraph.prebuilt import ToolNode, ToolRuntime
from langgraph.runtime import Runtime, get_runtime

from llmcompiler_graph.planner.tool_specs import tool_schema
from llmcompiler_graph.redact import redact

__all__ = ["RAW", "NodeTools", "Toolbox"]

F = TypeVar("F", bound=Callable[..., Any])

_RUNTIME_FIELDS = {f.name for f in dataclasses.fields(ToolRuntime)}

RAW: contextvars.ContextVar[list[object] | None] = contextvars.ContextVar(
    "llmcompiler_raw_tool_output", default=None
)
"""Where a copied tool's function puts what it returned (a list set by the job around a call)."""


class Toolbox(Mapping[str, BaseTool]):
    """The graph's tools by name, with the ``ToolNode`` that calls them (built once)."""

    def __init__(self, tools: Sequence[BaseTool]) -> None:
        """Wrap ``tools`` (names must be unique) and build their ``ToolNode``."""
        self._tools = {t.name: t for t in tools}
        self._schemas: dict[str, dict[str, Any]] = {}
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

    def schema(self, name: str) -> dict[str, Any] | None:
        """Return the JSON schema of tool ``name``'s arguments (``None``: no such tool).

        Worked out on first use (only calls receiving a two-faced result read it) and kept:
        a tool's schema does not change.
        """
        found = self._schemas.get(name)
        if found is None and name in self._tools:
            found = self._schemas[name] = tool_schema(self._tools[name])
        return found


class NodeTools:
    """The toolbox as one node execution calls it: what all its calls share, read once.

    Create it on the node's thread. Each call gets the ``ToolRuntime`` ``ToolNode`` would
    give it inside this node: the graph's state as the node saw it (read the way
    ``ToolNode`` reads it for a list of tool calls, and only if a tool injects it),
    LangGraph's context, store and stream writer, and the tools. None of these change while
    the node runs (a node's writes apply after it ends), so they are read here, not on each
    call's critical path; a call adds its own id and config.
    """

    def __init__(self, box: Toolbox, config: RunnableConfig) -> None:
        """Read the shared parts of the node's tool calls (``config``: the node's)."""
        self.box = box
        self._config = config
        self._configs: dict[str, RunnableConfig] = {}
        try:
            runtime: Runtime[Any] = get_runtime()
        except RuntimeError:  # outside a graph (a unit test of a job)
            runtime = Runtime()
        extra = {
            name: getattr(runtime, name)
            for name in ("execution_info", "server_info")
            if name in _RUNTIME_FIELDS and hasattr(runtime, name)
        }
        node = box.node
        # Reading the state copies the channels: only for tools that inject it (or the runtime).
        self._stateful = {
            name: injected is None or bool(injected.state) or injected.runtime is not None
            for name in box
            for injected in [node._injected_args.get(name)]
        }
        probe = ToolCall(name="", args={}, id="", type="tool_call")
        state = node._extract_state([probe], config) if any(self._stateful.values()) else {}  # type: ignore[list-item]
        self._runtime: ToolRuntime[Any, Any] = ToolRuntime(
            state=state,
            tool_call_id="",
            config=config,
            context=runtime.context,
            store=runtime.store,
            stream_writer=runtime.stream_writer,
            tools=list(node.tools_by_name.values()),
            **extra,
        )

    def config_for(self, name: str, index: int) -> RunnableConfig:
        """Return the config of task ``index``'s call to tool ``name``.

        The node's config with ``run_name`` set to the tool and ``metadata["llmcompiler_task"]``
        to the task number, so traces show each tool call as a child of the node.
        """
        base = self._configs.get(name)
        if base is None:  # once per tool (a race only computes the same value twice)
            base = self._configs[name] = patch_config(self._config, run_name=name)
        metadata = {**base.get("metadata", {}), "llmcompiler_task": index}
        return {**base, "metadata": metadata}

    def prepare(
        self, call: ToolCall, config: RunnableConfig
    ) -> tuple[ToolCall, ToolRuntime[Any, Any]]:
        """Return ``call`` and its ``ToolRuntime`` (``config``: the call's own)."""
        state = self._runtime.state if self._stateful.get(call["name"], True) else {}
        runtime = dataclasses.replace(
            self._runtime, state=state, tool_call_id=call["id"], config=config
        )
        return call, runtime


def _capturing(tool: BaseTool) -> BaseTool:
    """Return a copy of ``tool`` whose function also records what it returned (see RAW)."""
    func = getattr(tool, "func", None)
    coroutine = getattr(tool, "coroutine", None)
    if func is None and coroutine is None:
        return tool
    update: dict[str, Any] = {}
    if func is not None:
        update["func"] = _capture(func)
    if coroutine is not None:
        update["coroutine"] = _acapture(coroutine)
    copy = tool.model_copy(update=update)
    settled = _settled_class(type(copy))
    if settled is not None:
        object.__setattr__(copy, "__class__", settled)  # same fields: only methods differ
        getattr(copy, "_llmc_removed_keys", None)  # worked out now, not on the first call
    return copy


@functools.cache
def _settled_class(cls: type[BaseTool]) -> type[BaseTool] | None:
    """Return a subclass of ``cls`` whose ``_run``/``_arun`` have their hints resolved once.

    ``BaseTool.run`` looks for a ``RunnableConfig`` parameter in ``self._run`` on every call;
    LangChain's tool classes declare ``_run`` under ``from __future__ import annotations``,
    so each call compiles its string annotations again (about a quarter of what happens
    between a call's dispatch and its tool's body). The subclass's methods only delegate,
    with the same signature and resolved hints. ``None`` when a hint cannot be resolved.

    A ``StructuredTool`` (what ``@tool`` makes) keeps only its ``RunnableConfig`` hint: its
    schema is its ``args_schema`` (required) and its injected arguments are read from its
    function, so the per-call look-up is the only reader of these hints, and it walks one
    instead of five. Other classes (``Tool``, a user's subclass) may build a schema or find
    injected arguments from ``_run``'s hints: they keep them all.
    """
    methods: dict[str, Any] = {}
    for name in ("_run", "_arun"):
        method = getattr(cls, name)
        try:
            hints = typing.get_type_hints(method, include_extras=True)
            signature = inspect.signature(method)
        except Exception:  # unresolvable hints: LangChain reads them per call, as before
            return None
        if cls is StructuredTool:  # per call, LangChain reads only the config parameter
            hints = {k: v for k, v in hints.items() if v is RunnableConfig}
        methods[name] = _delegating(method, hints, signature)
    original: Any = getattr(BaseTool, "_filter_injected_args", None)
    inherited = original is not None and getattr(cls, "_filter_injected_args", None) is original
    if inherited:  # a class that filters its own way keeps its filter
        methods.update(_settled_filter(original))
    namespace = {"__module__": cls.__module__, "__qualname__": cls.__qualname__, **methods}
    return type(cls.__name__, (cls,), namespace)


def _settled_filter(original: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """Return methods that filter a call's injected arguments by keys worked out once.

    ``BaseTool.run`` filters them out of what its callbacks see on every call, reading the
    args schema's annotations again each time. The keys it removes depend only on the tool
    (``FILTERED_ARGS``, the injected parameters, the schema's injected fields), and a copy's
    schema never changes, so LangChain's own filter is asked once which of those candidate
    keys it removes, when the copy is made (with the injected parameters LangChain caches on
    the tool); each call then drops those keys. If that fails, each call asks LangChain's
    filter, as before.
    """

    def removed_keys(self: BaseTool) -> frozenset[str] | None:
        try:
            candidates = set(FILTERED_ARGS) | set(self._injected_args_keys)
            schema = self.args_schema
            if schema is not None and not isinstance(schema, dict):
                with contextlib.suppress(Exception):  # LangChain's filter skips it too
                    candidates |= set(get_all_basemodel_annotations(schema))
            kept = original(self, dict.fromkeys(candidates))
            return frozenset(candidates - kept.keys())
        except Exception:
            return None

    def _filter_injected_args(self: BaseTool, tool_input: dict[str, Any]) -> dict[str, Any]:
        keys: frozenset[str] | None = self._llmc_removed_keys  # type: ignore[attr-defined]
        if keys is None:
            return original(self, tool_input)
        return {k: v for k, v in tool_input.items() if k not in keys}

    _filter_injected_args.__doc__ = original.__doc__
    return {
        "_llmc_removed_keys": functools.cached_property(removed_keys),
        "_filter_injected_args": _filter_injected_args,
    }


def _delegating(
    method: Callable[..., Any], hints: dict[str, Any], signature: inspect.Signature
) -> Callable[..., Any]:
    """Return a function calling ``method``, with its signature and ``hints`` as annotations."""
    if inspect.iscoroutinefunction(method):

        async def adelegate(self: BaseTool, *args: Any, **kwargs: Any) -> Any:
            return await method(self, *args, **kwargs)

        delegate: Callable[..., Any] = adelegate
    else:

        def delegate(self: BaseTool, *args: Any, **kwargs: Any) -> Any:
            return method(self, *args, **kwargs)

    delegate.__name__, delegate.__qualname__ = method.__name__, method.__qualname__
    delegate.__doc__ = method.__doc__
    delegate.__annotations__ = hints
    delegate.__signature__ = signature  # type: ignore[attr-defined]
    return delegate


def _keep(value: object) -> None:
    holder = RAW.get()
    if holder is not None:
        holder.append(value)


def _redact_in_place(exc: Exception) -> None:
    """Hide credentials in a tool's exception before LangChain's callbacks see it.

    ``BaseTool.run`` hands the exception to every callback (``on_tool_error`` in
    ``astream_events``, tracers, logs) before the task's observation is made: its text
    arguments are redacted in place, so its type and any other attribute stay as raised.
    """
    text_args = [a for a in exc.args if isinstance(a, str)]
    if not text_args:
        return
    redacted = tuple(redact(a) if isinstance(a, str) else a for a in exc.args)
    if redacted != exc.args:
        exc.args = redacted


def _capture(func: Callable[..., object]) -> Callable[..., object]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> object:
        try:
            value = func(*args, **kwargs)
        except Exception as exc:
            _redact_in_place(exc)
            raise
        _keep(value)
        return value

    return _settled(wrapper)


def _acapture(func: Callable[..., Awaitable[object]]) -> Callable[..., Awaitable[object]]:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> object:
        try:
            value = await func(*args, **kwargs)
        except Exception as exc:
            _redact_in_place(exc)
            raise
        _keep(value)
        return value

    return _settled(wrapper)


def _settled(wrapper: F) -> F:
    """Work out once what LangChain reads from a tool's function on every call.

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
