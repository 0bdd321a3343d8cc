"""Wire the graph: ``plan_and_schedule`` -> [``approve``] -> ``join`` -> (answer | replan).

:func:`create_llm_compiler` is the package's front door; the graph that ``langgraph.json``
serves is built from it in :mod:`llmcompiler_graph.server`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import fields, replace
from typing import Any, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool
from langchain_core.tools import tool as as_tool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore
from langgraph.types import Command

from llmcompiler_graph.context import Context, safety_settings
from llmcompiler_graph.errors import ConfigurationError, ModelNotConfiguredError
from llmcompiler_graph.executor.effects import tool_effects
from llmcompiler_graph.executor.toolbox import Toolbox
from llmcompiler_graph.joiner.structured import (
    ResponseFormat,
    bind_structured,
    check_response_format,
)
from llmcompiler_graph.models import resolve_model, unplannable_tools
from llmcompiler_graph.nodes.approve import check_approval_names, normalize_resume
from llmcompiler_graph.nodes.cancel import cancel_on_close
from llmcompiler_graph.nodes.planner_call import bind_planner
from llmcompiler_graph.nodes.task_runs import BatchTool
from llmcompiler_graph.nodes.wiring import (
    DualNode,
    Nodes,
    after_approve,
    after_join,
    after_plan,
    structure_last,
)
from llmcompiler_graph.planner.lenient import uncallable_name
from llmcompiler_graph.planner.tool_selection import Catalogue
from llmcompiler_graph.planner.tool_specs import tool_schema, tool_spec
from llmcompiler_graph.state import State

__all__ = ["LLMCompilerGraph", "create_llm_compiler"]

ModelLike = BaseChatModel | str | None


def create_llm_compiler(
    model: ModelLike,
    tools: Sequence[BaseTool | Callable[..., Any]],
    *,
    joiner_model: ModelLike = None,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    store: BaseStore | None = None,
    batch_tools: Mapping[str, BatchTool] | None = None,
    response_format: Any = None,
    name: str = "LLMCompiler",
    caller_may_loosen: Collection[str] = (),
    **settings: Any,
) -> LLMCompilerGraph:
    """Build an LLMCompiler agent as a compiled LangGraph graph.

    Every field of :class:`~llmcompiler_graph.context.Context` is also a keyword here and sets
    the graph's default for it (a run's context overrides it; ``None`` keeps the default).
    The safety settings (approvals, limits, timeouts, plan bounds) are the loosest a run may
    ask for: a run's context may tighten them, not loosen them (see ``caller_may_loosen``).

    Args:
        model: The planner's chat model; a name (``"openai:gpt-4o-mini"``,
            ``"anthropic:claude-3-5-haiku-latest"``: anything ``init_chat_model`` resolves)
            or ``None`` to resolve it per run from the context's ``model`` or
            ``LLMCOMPILER_MODEL``.
        tools: Tools the plans may call: ``BaseTool`` objects or plain functions (converted
            with ``langchain_core.tools.tool``). Names must be unique.
        joiner_model: The joiner's chat model (object or name); defaults to ``model``.
        checkpointer: Passed to ``compile()`` for persistence.
        store: Passed to ``compile()``; tools reach it through ``InjectedStore`` or
            ``ToolRuntime``.
        batch_tools: Batched forms of tools, by tool name: ``{"search": search_many}`` where
            ``search_many(queries: list) -> list`` (sync or async, or a ``(sync, async)``
            pair). Ready calls of such a tool that would wait for capacity (its
            ``tool_limits`` entry, ``max_concurrency``, a rate limit) are fused into one
            batched call; see :data:`~llmcompiler_graph.nodes.task_runs.BatchTool` for the inputs
            and the failure rule. The ``fuse`` setting turns this off per run.
        response_format: What ``create_agent``'s ``response_format`` takes (a Pydantic
            model, dataclass, ``TypedDict``, JSON schema dict, or a LangChain
            ``ToolStrategy`` / ``ProviderStrategy`` / ``AutoStrategy``): the final answer then
            also comes as a validated object in the output's ``structured_response`` (see
            :mod:`llmcompiler_graph.joiner.structured`). A factory keyword, not a per-run
            setting: it is a Python type, which a run's context (JSON through the server)
            cannot carry, and it shapes the graph's output.
        name: The compiled graph's name.
        caller_may_loosen: Safety settings a run's context may also loosen (raise a limit,
            drop an approval), e.g. ``["max_replans"]``: under ``langgraph dev`` or LangGraph
            Platform the context comes from whoever calls the API, so by default a run may
            only tighten what the graph was built with, and a run asking for more fails.
        **settings: Defaults for the settings: any field of
            :class:`~llmcompiler_graph.context.Context` (``max_replans=5``,
            ``task_timeout=30``, ``interrupt_before_tools=["send_email"]``,
            ``plan_format="tool_calls"`` ...), where each is declared and described.

    Returns:
        The compiled graph; invoke it with ``{"messages": [("user", "question")]}``.

    Raises:
        ConfigurationError: For duplicate or reserved tool names, unknown tools in
            ``interrupt_before_tools`` or ``tool_effects``, a bad effects declaration,
            out-of-range settings, ``plan_format="tool_calls"`` with a model that has no
            tool calling, a ``response_format`` that is not a schema (or with a model that
            can do neither structured output nor tool calls), or a ``caller_may_loosen`` entry
            that is not a safety setting.
        TypeError: For a tool that is neither a ``BaseTool`` nor a callable, or an unknown
            setting.

    """
    tool_list = [_as_tool(t) for t in tools]
    by_name = {t.name: t for t in tool_list}
    if len(by_name) != len(tool_list):
        dupes = sorted({t.name for t in tool_list if sum(u.name == t.name for u in tool_list) > 1})
        raise ConfigurationError(f"tool names must be unique; duplicated: {', '.join(dupes)}")
    for tool_name in by_name:
        if (problem := uncallable_name(tool_name)) is not None:
            raise ConfigurationError(
                f"tool {tool_name!r}: {problem} (tool.name = ... or @tool(name))"
            )
    known = {f.name for f in fields(Context)}
    unknown_settings = sorted(set(settings) - known)
    if unknown_settings:
        raise TypeError(
            f"create_llm_compiler() got unknown setting(s) {unknown_settings}; the settings "
            f"are: {', '.join(sorted(known))} (see llmcompiler_graph.Context)"
        )
    loosenable = _loosenable(caller_may_loosen)
    if isinstance(settings.get("interrupt_before_tools"), str):
        settings["interrupt_before_tools"] = [settings["interrupt_before_tools"]]
    settings["model"] = model if isinstance(model, str) else None
    settings["joiner_model"] = joiner_model if isinstance(joiner_model, str) else None
    defaults = Context(**settings)
    check_approval_names(defaults.interrupt_before_tools, by_name, "interrupt_before_tools")
    check_approval_names(defaults.interrupt_on or {}, by_name, "interrupt_on")
    tool_effects(tool_list, defaults.tool_effects)  # a bad declaration fails here, not in a run
    for what, names in (
        ("tool_limits", defaults.tool_limits or {}),
        ("tool_rate_limits", defaults.tool_rate_limits or {}),
        ("batch_tools", batch_tools or {}),
    ):
        strangers = sorted(set(names) - set(by_name))
        if strangers:
            raise ConfigurationError(
                f"{what} names unknown tool(s) {strangers}; "
                f"the tools are: {', '.join(sorted(by_name)) or 'none'}"
            )
    _check_plannable(model, by_name)
    if isinstance(model, BaseChatModel):
        bind_planner(model, tool_list, defaults)  # fail now, not on the first run
    checked_format = None if response_format is None else check_response_format(response_format)
    if checked_format is not None:
        _check_structurable(joiner_model if joiner_model is not None else model, checked_format)
    catalogue = Catalogue(tool_list, tool_schema)
    if isinstance(defaults.select_tools, int) and 0 < defaults.select_tools < len(tool_list):
        if len(tool_list) > defaults.select_tools_above:
            _ = catalogue.index  # built now, not on the first question's critical path
    nodes = Nodes(
        tools=tool_list,
        catalogue=catalogue,
        by_name=Toolbox(tool_list),
        specs={n: tool_spec(t) for n, t in by_name.items()},
        defaults=defaults,
        model=model if isinstance(model, BaseChatModel) else None,
        joiner_model=joiner_model if isinstance(joiner_model, BaseChatModel) else None,
        batches=dict(batch_tools or {}),
        response_format=checked_format,
        loosenable=loosenable,
    )
    builder = StateGraph(State, context_schema=Context)
    builder.add_node("plan_and_schedule", DualNode(nodes.plan, nodes.aplan))
    builder.add_node("approve", DualNode(nodes.approve, nodes.aapprove))
    builder.add_node("join", DualNode(nodes.join, nodes.ajoin))
    builder.add_edge(START, "plan_and_schedule")
    if checked_format is None:
        builder.add_conditional_edges("plan_and_schedule", after_plan)
        builder.add_conditional_edges("approve", after_approve)
        builder.add_conditional_edges("join", after_join)
    else:  # every answer goes through the structured call on its way out
        builder.add_node("structure", DualNode(nodes.structure, nodes.astructure))
        for node, route in (
            ("plan_and_schedule", after_plan),
            ("approve", after_approve),
            ("join", after_join),
        ):
            builder.add_conditional_edges(node, *structure_last(route))
        builder.add_edge("structure", END)
    compiled = builder.compile(checkpointer=checkpointer, store=store, name=name)
    compiled.__class__ = LLMCompilerGraph  # adds only the resume check below
    return cast(LLMCompilerGraph, compiled)


def _check_structurable(model: ModelLike, response_format: ResponseFormat) -> None:
    """Fail now, not on the first answer, if a model object can make no structured call."""
    if not isinstance(model, BaseChatModel):
        return  # a name: resolved per run; a failure then is reported in the answer
    try:
        bind_structured(model, response_format)
    except Exception as exc:
        raise ConfigurationError(
            f"response_format: the model ({type(model).__name__}) has neither structured "
            f"output nor tool calling ({type(exc).__name__}: {exc}); pass a model that has "
            "one, or a joiner_model that does"
        ) from None


def _check_plannable(model: ModelLike, tools: Mapping[str, Any]) -> None:
    """Refuse a scripted planner that plans only for tools this graph does not have."""
    planner, spec = model, "the planner"
    if isinstance(model, str) and model.startswith("scripted:"):
        spec = model
        try:  # a scripted model is offline and cheap to build: check it now
            planner = resolve_model(model)
        except ModelNotConfiguredError:
            return  # an unknown name: the run answers with what to register
    if isinstance(planner, BaseChatModel) and (problem := unplannable_tools(planner, spec, tools)):
        raise ConfigurationError(problem)


class LLMCompilerGraph(CompiledStateGraph[State, Context, State, State]):
    """The compiled graph, checking an approval answer before LangGraph reads it.

    LangGraph fails inside its loop on ``Command(resume=None)`` and on resume dicts with
    integer keys, and reads ``{}`` as no answer; here ``None`` and ``{}`` are refused with the
    accepted shapes before anything runs (the run stays paused, ready for a valid answer)
    and integer task indices become strings.
    """

    def stream(self, input: Any, *args: Any, **kwargs: Any) -> Any:
        """Run :meth:`CompiledStateGraph.stream` on a checked input.

        Closing the stream early (``break`` out of it) cancels the running round: no new
        task starts, running tools see the cancel event, and the close returns promptly.
        """
        parts = super().stream(_checked(input), *args, **kwargs)
        return cancel_on_close(parts)

    def astream(self, input: Any, *args: Any, **kwargs: Any) -> Any:
        """Run :meth:`CompiledStateGraph.astream` on a checked input."""
        return super().astream(_checked(input), *args, **kwargs)


def _checked(input: Any) -> Any:
    if isinstance(input, Command) and input.resume is None and not (input.goto or input.update):
        normalize_resume(None)  # raises, naming the accepted answers
    if isinstance(input, Command) and input.resume is not None:
        resume = normalize_resume(input.resume)
        if resume is not input.resume:
            return replace(input, resume=resume)
    return input


def _loosenable(names: Collection[str]) -> frozenset[str]:
    safety = safety_settings()
    if isinstance(names, str) or not all(isinstance(n, str) and n in safety for n in names):
        raise ConfigurationError(
            f"caller_may_loosen must list safety settings, got {names!r}; they are: "
            f"{', '.join(safety)} (the other settings are the caller's to choose anyway)"
        )
    return frozenset(names)


def _as_tool(candidate: BaseTool | Callable[..., Any]) -> BaseTool:
    if isinstance(candidate, BaseTool):
        return candidate
    if callable(candidate):
        return as_tool(candidate)
    raise TypeError(f"tools must be BaseTool objects or functions, got {type(candidate).__name__}")
