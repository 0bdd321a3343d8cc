"""Ask the joiner model, then turn its reply into an answer or a replan message."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig

from llmcompiler_graph.context import Settings
from llmcompiler_graph.joiner import prompts
from llmcompiler_graph.joiner.decision import parse_decision
from llmcompiler_graph.joiner.rounds import clip, render_rounds
from llmcompiler_graph.planner.prompts import fill
from llmcompiler_graph.prompt_cache import mark, takes_cache_control
from llmcompiler_graph.redact import redact_clipped
from llmcompiler_graph.state import KIND, Turn

__all__ = ["adecide", "build_joiner_messages", "conclude", "decide"]


def build_joiner_messages(
    turn: Turn, settings: Settings, *, must_finish: bool, breakpoints: bool = False
) -> list[BaseMessage]:
    """Build the joiner's prompt: the question and this question's plans and results only.

    Stable first: the system prompt is the same in every round; the question, the rounds and,
    on the last allowed round, :data:`~llmcompiler_graph.joiner.prompts.JOINER_MUST_FINISH`
    follow, so each round's prompt repeats the one before up to its new round. With
    ``breakpoints`` (for Anthropic's models) the system prompt carries ``cache_control``.
    """
    template = settings.joiner_prompt or prompts.JOINER_PROMPT
    note = prompts.JOINER_MUST_FINISH if must_finish else ""
    if "{must_finish}" in template:  # a custom prompt that says where the note goes
        system, note = fill(template, must_finish=note), ""
    else:
        system = template
    question = turn.question.content if turn.question is not None else ""
    body = f"Question: {question}\n\n{render_rounds(turn.rounds, settings.prompt_budget_chars)}"
    if note:
        body = f"{body}\n\n{note}"
    messages: list[BaseMessage] = [SystemMessage(system.strip()), HumanMessage(body)]
    return mark(messages, [0]) if breakpoints else messages


def _joiner_messages(model: BaseChatModel, turn: Turn, settings: Settings) -> list[BaseMessage]:
    must_finish = turn.replans >= settings.max_replans
    breakpoints = settings.cache_breakpoints and takes_cache_control(model)
    return build_joiner_messages(turn, settings, must_finish=must_finish, breakpoints=breakpoints)


def decide(
    model: BaseChatModel, turn: Turn, settings: Settings, config: RunnableConfig
) -> AIMessage:
    """Ask the joiner model and turn its reply into an answer or a replan message."""
    try:
        reply = model.invoke(_joiner_messages(model, turn, settings), config)
        text = reply.text if isinstance(reply.text, str) else str(reply.content)
    except Exception as exc:  # a failing joiner still ends the run with a clear answer
        return _failed(exc, turn, settings)
    return conclude(text, turn, settings)


async def adecide(
    model: BaseChatModel, turn: Turn, settings: Settings, config: RunnableConfig
) -> AIMessage:
    """Do what :func:`decide` does, awaiting the model (for the graph's async nodes)."""
    try:
        reply = await model.ainvoke(_joiner_messages(model, turn, settings), config)
        text = reply.text if isinstance(reply.text, str) else str(reply.content)
    except Exception as exc:  # a failing joiner still ends the run with a clear answer
        return _failed(exc, turn, settings)
    return conclude(text, turn, settings)


def _failed(exc: Exception, turn: Turn, settings: Settings) -> AIMessage:
    # This answer stays in the thread's history and reaches every later prompt: it is
    # capped at fallback_answer_chars, the results clipped fairly to fit.
    limit = settings.fallback_answer_chars
    error = clip(redact_clipped(f"{type(exc).__name__}: {exc}", limit), max(limit // 4, 100))
    head = f"I could not finish: the joiner model failed ({error}). Results so far:\n"
    results = render_rounds(turn.rounds, max(limit - len(head), 0))
    return _answer(clip(head + results, limit), thought=None, incomplete="joiner_failed")


def conclude(text: str, turn: Turn, settings: Settings) -> AIMessage:
    """Turn the joiner's reply text into an answer or a replan message."""
    must_finish = turn.replans >= settings.max_replans
    decision = parse_decision(text)
    if decision.action == "replan" and not must_finish:
        feedback = decision.text or "the results were not sufficient"
        return AIMessage(
            content=f"Replanning: {feedback}",
            name="joiner",
            additional_kwargs={
                KIND: {"kind": "replan", "feedback": feedback, "thought": decision.thought}
            },
        )
    if decision.action == "replan":
        best = decision.thought or "the results did not answer the question"
        return _answer(
            f"I could not complete this within {settings.max_replans} replan(s). "
            f"Best answer from the results: {best} (still missing: {decision.text})",
            thought=decision.thought,
            incomplete="replan_limit",
        )
    # An empty Finish() still answers: with the reasoning, or the whole reply.
    return _answer(decision.text or decision.thought or text.strip(), thought=decision.thought)


def _answer(text: str, *, thought: str | None, incomplete: str | None = None) -> AIMessage:
    # ``incomplete`` marks an answer that is not one: ``joiner_failed`` (the joiner model
    # raised) or ``replan_limit`` (it still wanted to replan after max_replans).
    marker: dict[str, object] = {"kind": "answer", "thought": thought}
    if incomplete is not None:
        marker["incomplete"] = incomplete
    return AIMessage(content=text, name="joiner", additional_kwargs={KIND: marker})
