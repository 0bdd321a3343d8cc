"""The graph's nodes, each with a sync and an async implementation, and its routing.

``invoke``/``stream`` run the sync implementations (tools on worker threads);
``ainvoke``/``astream`` and ``langgraph dev`` run the async ones (async tools on the event
loop, sync tools on worker threads), so the event loop is never blocked.
"""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import ensure_config
from langchain_core.tools import BaseTool
from langgraph.config import get_stream_writer
from langgraph.runtime import get_runtime
from langgraph.types import interrupt

from llmcompiler_graph.context import Context, Settings, effective_settings
from llmcompiler_graph.errors import ApprovalAnswerError, ModelNotConfiguredError, PlanFormatError
from llmcompiler_graph.fetching.jobs import MAX_ERROR_CHARS, Job
from llmcompiler_graph.joiner.decide import adecide, decide
from llmcompiler_graph.joiner.structured import (
    ResponseFormat,
    Structured,
    structured_context,
    with_failure,
)
from llmcompiler_graph.joiner.structured import astructure as amake_structured
from llmcompiler_graph.joiner.structured import structure as make_structured
from llmcompiler_graph.models import RUN_MODEL, resolve_model, unplannable_tools
from llmcompiler_graph.nodes.approve import ApprovalPass, check_approval_names, pending_tasks
from llmcompiler_graph.nodes.planner_call import PlannerModel, bind_planner, build_planner_messages
from llmcompiler_graph.nodes.round import PlanRound, arun_round, run_round
from llmcompiler_graph.nodes.settle import settle_held_calls, with_settled
from llmcompiler_graph.nodes.task_runs import BatchTool, TaskRun, TaskRunArgs, arun_jobs, run_jobs
from llmcompiler_graph.nodes.tool_listing import Listing, alist_tools, list_tools
from llmcompiler_graph.nodes.transcript import trim_finished
from llmcompiler_graph.planner.syntax import ToolSpec
from llmcompiler_graph.planner.tool_selection import Catalogue
from llmcompiler_graph.prompt_cache import takes_cache_control
from llmcompiler_graph.redact import redact_clipped
from llmcompiler_graph.state import KIND, State, Turn, current_turn, kind_of

__all__ = ["DualNode", "Nodes", "after_approve", "after_join", "after_plan", "structure_last"]

Update = dict[str, Any]


class DualNode(Runnable[State, Update]):
    """A graph node with a sync and an async implementation, each taking ``(state, config)``.

    Like the plain functions LangGraph wraps itself, it opens no run of its own, so traces
    show the node's run (named after the node) as the direct parent of model and tool runs.
    """

    def __init__(
        self,
        func: Callable[[State, RunnableConfig], Update],
        afunc: Callable[[State, RunnableConfig], Awaitable[Update]],
    ) -> None:
        """Wrap the two implementations."""
        self._func = func
        self._afunc = afunc

    def invoke(self, input: State, config: RunnableConfig | None = None, **kwargs: Any) -> Update:
        """Run the sync implementation."""
        return self._func(input, ensure_config(config))

    async def ainvoke(
        self, input: State, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Update:
        """Run the async implementation."""
        return await self._afunc(input, ensure_config(config))


@dataclass(frozen=True)
class Nodes:
    """What the nodes need: tools, models and default settings (no per-run state)."""

    tools: list[BaseTool]
    catalogue: Catalogue
    """The same tools, with the index that selects a question's (``select_tools``)."""
    by_name: Mapping[str, BaseTool]
    specs: Mapping[str, ToolSpec]
    defaults: Settings
    model: BaseChatModel | None
    joiner_model: BaseChatModel | None
    batches: Mapping[str, BatchTool] = field(default_factory=dict)
    response_format: ResponseFormat | None = None
    loosenable: frozenset[str] = frozenset()
    """Safety settings a run's context may loosen (the factory's ``caller_may_loosen``)."""

    # -- plan_and_schedule ----------------------------------------------------------------

    def plan(self, state: State, config: RunnableConfig) -> Update:
        """Stream a plan and run its tasks on worker threads."""
        settings = self._settings(config)
        # Tasks an earlier question left waiting for a human end first (nodes/settle.py).
        settled = settle_held_calls(state["messages"])
        try:
            model = self._models(settings)[0]
        except ModelNotConfiguredError as exc:
            return {"messages": with_settled(settled, [_notice(str(exc))])}
        turn = current_turn(state["messages"])
        listing = list_tools(self.catalogue, settings, state["messages"], turn)
        try:
            planner = self._planner(model, settings, listing)
        except PlanFormatError as exc:
            return {"messages": with_settled(settled, [_notice(str(exc))])}
        messages, round_ = self._round(
            state, config, settings, planner, listing, asynchronous=False
        )
        update = trim_finished(state["messages"], run_round(planner, messages, round_))
        return {"messages": with_settled(settled, update)}

    async def aplan(self, state: State, config: RunnableConfig) -> Update:
        """Stream a plan on the event loop and run its tasks (async tools on the loop)."""
        settings = self._settings(config)
        # Tasks an earlier question left waiting for a human end first (nodes/settle.py).
        settled = settle_held_calls(state["messages"])
        try:
            model = (await self._amodels(settings))[0]
        except ModelNotConfiguredError as exc:
            return {"messages": with_settled(settled, [_notice(str(exc))])}
        turn = current_turn(state["messages"])
        listing = await alist_tools(self.catalogue, settings, state["messages"], turn)
        try:
            planner = self._planner(model, settings, listing)
        except PlanFormatError as exc:
            return {"messages": with_settled(settled, [_notice(str(exc))])}
        messages, round_ = self._round(state, config, settings, planner, listing, asynchronous=True)
        update = trim_finished(state["messages"], await arun_round(planner, messages, round_))
        return {"messages": with_settled(settled, update)}

    def _round(
        self,
        state: State,
        config: RunnableConfig,
        settings: Settings,
        planner: PlannerModel,
        listing: Listing,
        *,
        asynchronous: bool,
    ) -> tuple[list[BaseMessage], PlanRound]:
        args = self._pass_args(state, config, settings, asynchronous=asynchronous)
        marks = settings.cache_breakpoints and takes_cache_control(planner)
        messages = build_planner_messages(args["turn"], listing, settings, breakpoints=marks)
        # Every tool's spec, not only the listed ones': a plan may call any tool.
        return messages, PlanRound(TaskRun(**args), specs=self.specs)

    # -- approve ----------------------------------------------------------------------------

    def approve(self, state: State, config: RunnableConfig) -> Update:
        """Ask a human about held tasks (``interrupt``), then run what they unblocked."""
        approval, again = self._approval(state, config, asynchronous=False)
        # After a crash, tasks that had finished replay their recorded results.
        approval.run.resume(approval.run.journal.replay())
        jobs = _approved_jobs(approval, again)
        update = approval.transcript(run_jobs(approval.run, jobs))
        return {"messages": trim_finished(state["messages"], update)}

    async def aapprove(self, state: State, config: RunnableConfig) -> Update:
        """Do what :meth:`approve` does on the event loop."""
        approval, again = self._approval(state, config, asynchronous=True)
        approval.run.resume(await approval.run.journal.areplay())
        jobs = _approved_jobs(approval, again)
        update = approval.transcript(await arun_jobs(approval.run, jobs))
        return {"messages": trim_finished(state["messages"], update)}

    def _approval(
        self, state: State, config: RunnableConfig, *, asynchronous: bool
    ) -> tuple[ApprovalPass, bool]:
        """Return the pass, and whether it only runs a tool that asked for input again."""
        args = self._pass_args(state, config, self._settings(config), asynchronous=asynchronous)
        approval = ApprovalPass(TaskRun(**args))
        if approval.resumable:
            # A tool asked for input (its interrupt() was recorded, not raised, so the rest
            # of its round finished and was saved). Run it again alone, first, letting its
            # interrupt through the unit (propagate): the graph pauses with the tool's own
            # payload; on resume this node re-runs it and interrupt() returns the answer.
            args["propagate_interrupts"] = True
            return ApprovalPass(TaskRun(**args)), True
        if approval.review:
            # Nothing has happened in this node before this line, so re-running the node
            # on resume (which LangGraph does) repeats no work. An answer that cannot be
            # read asks again (each ask is one more interrupt of this node), naming why.
            answer = interrupt(approval.request())
            while True:
                try:
                    approval.decide(answer)
                    break
                except ApprovalAnswerError as exc:
                    answer = interrupt(approval.request(error=str(exc)))
        return approval, False

    # -- join -------------------------------------------------------------------------------

    def join(self, state: State, config: RunnableConfig) -> Update:
        """Ask the joiner to answer or replan."""
        settings = self._settings(config)
        try:
            _, joiner = self._models(settings)
        except ModelNotConfiguredError as exc:
            return {"messages": [_notice(str(exc))]}
        turn = current_turn(state["messages"])
        answer = decide(joiner, turn, _last_round_if_no_room(settings, turn, config), config)
        return {"messages": trim_finished(state["messages"], [answer])}

    async def ajoin(self, state: State, config: RunnableConfig) -> Update:
        """Do what :meth:`join` does, awaiting the joiner model."""
        settings = self._settings(config)
        try:
            _, joiner = await self._amodels(settings)
        except ModelNotConfiguredError as exc:
            return {"messages": [_notice(str(exc))]}
        turn = current_turn(state["messages"])
        answer = await adecide(joiner, turn, _last_round_if_no_room(settings, turn, config), config)
        return {"messages": trim_finished(state["messages"], [answer])}

    # -- structure (with response_format) ---------------------------------------------------

    def structure(self, state: State, config: RunnableConfig) -> Update:
        """Make the final answer's structured response (see :mod:`.joiner.structured`)."""
        answer, context = self._to_structure(state)
        if context is None or self.response_format is None:
            return _structured(answer, Structured(error=_UNANSWERED))
        settings = self._settings(config)
        try:
            _, joiner = self._models(settings)
        except ModelNotConfiguredError as exc:
            return _structured(answer, Structured(error=str(exc)))
        made = make_structured(joiner, self.response_format, context(settings), config)
        return _structured(answer, made)

    async def astructure(self, state: State, config: RunnableConfig) -> Update:
        """Do what :meth:`structure` does, awaiting the model."""
        answer, context = self._to_structure(state)
        if context is None or self.response_format is None:
            return _structured(answer, Structured(error=_UNANSWERED))
        settings = self._settings(config)
        try:
            _, joiner = await self._amodels(settings)
        except ModelNotConfiguredError as exc:
            return _structured(answer, Structured(error=str(exc)))
        made = await amake_structured(joiner, self.response_format, context(settings), config)
        return _structured(answer, made)

    @staticmethod
    def _to_structure(
        state: State,
    ) -> tuple[BaseMessage, Callable[[Settings], str] | None]:
        """Return the answer, and how to build the structured call's input (``None``: none)."""
        messages = state["messages"]
        answer = messages[-1]
        marker = answer.additional_kwargs.get(KIND)
        failed = isinstance(marker, dict) and marker.get("incomplete") in _NO_ANSWER
        if not isinstance(answer, AIMessage) or failed:
            return answer, None
        turn = current_turn(messages)
        return answer, lambda settings: structured_context(turn, answer.text, settings)

    # -- helpers ----------------------------------------------------------------------------

    def _settings(self, config: RunnableConfig) -> Settings:
        context = get_runtime(Context).context
        # A run may tighten the graph's safety settings, never loosen them (unless opened).
        settings = effective_settings(self.defaults, context, config, loosenable=self.loosenable)
        # Fail closed, before anything runs: a misspelt name in the context would let
        # that tool run without asking.
        names = settings.interrupt_before_tools
        check_approval_names(names, self.by_name, "the run's interrupt_before_tools")
        check_approval_names(settings.interrupt_on or {}, self.by_name, "the run's interrupt_on")
        return settings

    def _pass_args(
        self, state: State, config: RunnableConfig, settings: Settings, *, asynchronous: bool
    ) -> TaskRunArgs:
        return TaskRunArgs(
            turn=current_turn(state["messages"]),
            settings=settings,
            tools=self.by_name,
            config=config,
            emit=get_stream_writer(),
            asynchronous=asynchronous,
            batches=self.batches,
        )

    def _planner(self, model: BaseChatModel, settings: Settings, listing: Listing) -> PlannerModel:
        RUN_MODEL.set(model)  # for tools that use the run's model, such as make_math_tool()
        return bind_planner(model, listing.offered, settings)

    def _models(self, settings: Settings) -> tuple[BaseChatModel, BaseChatModel]:
        if self.model is not None:
            planner = self.model
        else:
            planner = resolve_model(settings.model)
            spec = settings.model or "LLMCOMPILER_MODEL"
            if problem := unplannable_tools(planner, spec, [t.name for t in self.tools]):
                raise ModelNotConfiguredError(problem)
        if self.joiner_model is not None:
            return planner, self.joiner_model
        if settings.joiner_model is not None:
            return planner, resolve_model(settings.joiner_model)
        return planner, planner

    async def _amodels(self, settings: Settings) -> tuple[BaseChatModel, BaseChatModel]:
        if self.model is not None and (
            self.joiner_model is not None or settings.joiner_model is None
        ):
            return self._models(settings)
        # Building a client by name may read certificates or config files: keep that off
        # the event loop (``langgraph dev`` rejects blocking calls there).
        return await asyncio.to_thread(self._models, settings)


def _approved_jobs(approval: ApprovalPass, again: bool) -> list[Job]:
    if again:
        return [approval.run.job(approval.resumable[0])]
    jobs = approval.jobs()
    if not jobs:  # cannot happen by construction; never loop without progress
        reason = "it could not be scheduled for approval"
        jobs = [
            Job(t.index, t.name, None, frozenset(), f"task {t.index} '{t.name}': {reason}")
            for t in approval.pending
        ]
    return jobs


_NO_ANSWER = ("model_not_configured", "joiner_failed")
_UNANSWERED = "there is no answer to structure (the model failed or is not configured)"


def _structured(answer: BaseMessage, made: Structured) -> Update:
    if made.error is None:
        return {"structured_response": made.value}
    if isinstance(answer, AIMessage):  # same id: the answer is replaced, saying why
        return {"messages": [with_failure(answer, made.error)], "structured_response": None}
    return {"structured_response": None}


def structure_last(
    route: Callable[[State], str],
) -> tuple[Callable[[State], str], list[str]]:
    """Return ``route`` with its end going through the ``structure`` node, and its targets.

    The targets are read from ``route``'s ``Literal`` return type (what LangGraph reads to
    draw the edges), with ``"__end__"`` replaced by ``"structure"``.
    """

    def routed(state: State) -> str:
        target = route(state)
        return "structure" if target == "__end__" else target

    routed.__name__ = route.__name__
    routed.__doc__ = route.__doc__
    targets = typing.get_args(typing.get_type_hints(route)["return"])
    return routed, ["structure" if t == "__end__" else str(t) for t in targets]


def after_plan(state: State) -> Literal["join", "approve", "__end__"]:
    """Route after planning: end on a notice, approve held tasks, else join."""
    if kind_of(state["messages"][-1]) == "answer":
        return "__end__"
    return "approve" if pending_tasks(current_turn(state["messages"])) else "join"


def after_approve(state: State) -> Literal["join", "approve", "__end__"]:
    """Route after an approval pass: end on a direct answer, ask again while tasks are held."""
    if kind_of(state["messages"][-1]) == "answer":
        return "__end__"
    return "approve" if pending_tasks(current_turn(state["messages"])) else "join"


def after_join(state: State) -> Literal["plan_and_schedule", "__end__"]:
    """Route after the joiner: replan, or end with the answer."""
    return "plan_and_schedule" if kind_of(state["messages"][-1]) == "replan" else "__end__"


def _notice(text: str) -> AIMessage:
    marker = {"kind": "answer", "thought": None, "incomplete": "model_not_configured"}
    # A model's construction error may quote its endpoint: no credentials into the state.
    content = redact_clipped(text, MAX_ERROR_CHARS)
    return AIMessage(content=content, name="joiner", additional_kwargs={KIND: marker})


_STEPS_PER_ROUND = 4
"""Supersteps another round may take: plan_and_schedule, approve, join, structure."""


def _last_round_if_no_room(settings: Settings, turn: Turn, config: RunnableConfig) -> Settings:
    """Make this the last round when LangGraph's recursion limit leaves no room for another.

    A large ``max_replans`` then ends with the joiner's best answer, not ``GraphRecursionError``.
    """
    limit = config.get("recursion_limit")
    step = (config.get("metadata") or {}).get("langgraph_step")
    if not isinstance(limit, int) or not isinstance(step, int):
        return settings
    if limit - step >= _STEPS_PER_ROUND or turn.replans >= settings.max_replans:
        return settings
    return replace(settings, max_replans=turn.replans)
