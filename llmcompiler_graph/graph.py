"""Wire the LLMCompiler graph: ``plan_and_schedule`` -> ``join`` -> (answer | replan).

``graph`` at the bottom is the module-level graph that ``langgraph.json`` serves: its model
comes from the run's context or ``LLMCOMPILER_MODEL``, resolved per run, so importing this
module never needs an API key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, tool as as_tool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from llmcompiler_graph.context import DEFAULT_MAX_CONCURRENCY, Context, Settings
from llmcompiler_graph.executor import build_planner_messages, run_round
from llmcompiler_graph.joiner import decide
from llmcompiler_graph.models import ModelNotConfiguredError, resolve_model
from llmcompiler_graph.render import tool_spec
from llmcompiler_graph.state import KIND, State, current_turn, kind_of

__all__ = ["create_llm_compiler"]

ModelLike = BaseChatModel | str | None


def create_llm_compiler(
    model: ModelLike,
    tools: Sequence[BaseTool | Callable[..., Any]],
    *,
    joiner_model: ModelLike = None,
    examples: str | None = None,
    max_replans: int = 3,
    max_concurrency: int | None = None,
    task_timeout: float | None = None,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    planner_prompt: str | None = None,
    joiner_prompt: str | None = None,
    name: str = "LLMCompiler",
) -> CompiledStateGraph[State, Context, State, State]:
    """Build an LLMCompiler agent as a compiled LangGraph graph.

    Args:
        model: The planner's chat model; a name (``"openai:gpt-4o-mini"``) or ``None`` to
            resolve it per run from the context's ``model`` or ``LLMCOMPILER_MODEL``.
        tools: Tools the plans may call: ``BaseTool`` objects or plain functions (converted
            with ``langchain_core.tools.tool``). Names must be unique.
        joiner_model: The joiner's chat model; defaults to ``model``.
        examples: Few-shot plan examples appended to the planner prompt.
        max_replans: Planning rounds allowed after the first; then the joiner must finish.
        max_concurrency: Most tool calls running at once; ``None`` for
            :data:`~llmcompiler_graph.context.DEFAULT_MAX_CONCURRENCY`.
        task_timeout: Seconds a tool call may take before it becomes a timeout error.
        checkpointer: Passed to ``compile()`` for persistence.
        planner_prompt: Replaces :data:`~llmcompiler_graph.prompts.PLANNER_PROMPT`.
        joiner_prompt: Replaces :data:`~llmcompiler_graph.prompts.JOINER_PROMPT`.
        name: The compiled graph's name.

    Returns:
        The compiled graph; invoke it with ``{"messages": [("user", "question")]}``.

    Raises:
        ValueError: For duplicate tool names or out-of-range settings.
        TypeError: For a tool that is neither a ``BaseTool`` nor a callable.
    """
    tool_list = [_as_tool(t) for t in tools]
    by_name = {t.name: t for t in tool_list}
    if len(by_name) != len(tool_list):
        dupes = sorted({t.name for t in tool_list if sum(u.name == t.name for u in tool_list) > 1})
        raise ValueError(f"tool names must be unique; duplicated: {', '.join(dupes)}")
    if "join" in by_name:
        raise ValueError("a tool may not be named 'join': the plan format reserves it")
    specs = {n: tool_spec(t) for n, t in by_name.items()}
    defaults = Settings(
        model=model if isinstance(model, str) else None,
        joiner_model=joiner_model if isinstance(joiner_model, str) else None,
        examples=examples,
        max_replans=max_replans,
        max_concurrency=max_concurrency if max_concurrency is not None else DEFAULT_MAX_CONCURRENCY,
        task_timeout=task_timeout,
        **({"planner_prompt": planner_prompt} if planner_prompt is not None else {}),
        **({"joiner_prompt": joiner_prompt} if joiner_prompt is not None else {}),
    )

    def models(settings: Settings) -> tuple[BaseChatModel, BaseChatModel]:
        planner = model if isinstance(model, BaseChatModel) else resolve_model(settings.model)
        if isinstance(joiner_model, BaseChatModel):
            return planner, joiner_model
        if settings.joiner_model is not None:
            return planner, resolve_model(settings.joiner_model)
        return planner, planner

    def plan_and_schedule(state: State, config: RunnableConfig, runtime: Runtime[Context]) -> dict[str, Any]:
        settings = defaults.override(runtime.context)
        try:
            planner, _ = models(settings)
        except ModelNotConfiguredError as exc:
            return {"messages": [_notice(str(exc))]}
        turn = current_turn(state["messages"])
        messages = build_planner_messages(turn, tool_list, settings)
        writer = get_stream_writer()
        return {
            "messages": run_round(
                model=planner,
                messages=messages,
                tools=by_name,
                specs=specs,
                turn=turn,
                settings=settings,
                config=config,
                emit=writer,
            )
        }

    def join(state: State, config: RunnableConfig, runtime: Runtime[Context]) -> dict[str, Any]:
        settings = defaults.override(runtime.context)
        try:
            _, joiner = models(settings)
        except ModelNotConfiguredError as exc:
            return {"messages": [_notice(str(exc))]}
        return {"messages": [decide(joiner, current_turn(state["messages"]), settings, config)]}

    def after_plan(state: State) -> Literal["join", "__end__"]:
        return END if kind_of(state["messages"][-1]) == "answer" else "join"

    def after_join(state: State) -> Literal["plan_and_schedule", "__end__"]:
        return "plan_and_schedule" if kind_of(state["messages"][-1]) == "replan" else END

    builder = StateGraph(State, context_schema=Context)
    builder.add_node("plan_and_schedule", plan_and_schedule)
    builder.add_node("join", join)
    builder.add_edge(START, "plan_and_schedule")
    builder.add_conditional_edges("plan_and_schedule", after_plan)
    builder.add_conditional_edges("join", after_join)
    return builder.compile(checkpointer=checkpointer, name=name)


def _as_tool(candidate: BaseTool | Callable[..., Any]) -> BaseTool:
    if isinstance(candidate, BaseTool):
        return candidate
    if callable(candidate):
        return as_tool(candidate)
    raise TypeError(f"tools must be BaseTool objects or functions, got {type(candidate).__name__}")


def _notice(text: str) -> AIMessage:
    return AIMessage(content=text, name="joiner", additional_kwargs={KIND: {"kind": "answer", "thought": None}})
