"""The joiner: read the results, then finish with an answer or ask for a new plan."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig

from llmcompiler_graph.context import Settings
from llmcompiler_graph.planner import prompts
from llmcompiler_graph.redact import redact
from llmcompiler_graph.render import clip, render_rounds
from llmcompiler_graph.state import KIND, Turn

__all__ = ["Decision", "adecide", "build_joiner_messages", "conclude", "decide", "parse_decision"]

# An action line: "Action: Finish(", "**Action:** Replan(". Bare "Finish(" at the start of a
# line counts only when no line has the "Action:" label; "Action: Finish(" inside a line
# only when neither exists.
_LABELLED_LINE = re.compile(
    r"^[ \t*]*Action[ \t*]*:[ \t*]*(Finish|Replan)[ \t]*\(", re.IGNORECASE | re.MULTILINE
)
_BARE_LINE = re.compile(r"^[ \t*]*(Finish|Replan)[ \t]*\(", re.IGNORECASE | re.MULTILINE)
_ACTION_ANYWHERE = re.compile(r"Action[ \t*]*:[ \t*]*(Finish|Replan)[ \t]*\(", re.IGNORECASE)
_THOUGHT = re.compile(r"Thought[ \t*]*:[ \t*]*(.*)", re.IGNORECASE | re.DOTALL)
_ACTION_LABEL = re.compile(r"[\s*]*Action[ \t*]*:[\s*]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Decision:
    """The joiner's choice: ``finish`` with an answer, or ``replan`` with feedback."""

    action: Literal["finish", "replan"]
    text: str
    thought: str | None = None


def parse_decision(reply: str) -> Decision:
    """Parse ``Thought: ...`` / ``Action: Finish(...)`` or ``Replan(...)``.

    The action is the last ``Action:`` line that is not inside an earlier action's
    argument, so a Thought quoting ``Finish(``/``Replan(`` never acts. The argument runs
    to its own matching parenthesis (``Finish(42) (sure)`` gives ``42``); an argument
    never closed runs to the last ``)``, or to the end. A reply in neither format is taken
    as the final answer, whole.
    """
    found = _last_action(reply, _LABELLED_LINE)
    if found is None:
        found = _last_action(reply, _BARE_LINE) or _last_action(reply, _ACTION_ANYWHERE)
    before = reply if found is None else reply[: found[0].start()]
    thought_match = _THOUGHT.search(before)
    thought = _ACTION_LABEL.sub("", thought_match.group(1)).strip() if thought_match else None
    if found is None:
        return Decision("finish", reply.strip(), thought or None)
    action, end = found
    argument = reply[action.end() : end].strip()
    kind: Literal["finish", "replan"] = "finish"
    if action.group(1).lower() == "replan":
        kind = "replan"
    return Decision(kind, argument, thought or None)


def _last_action(reply: str, pattern: re.Pattern[str]) -> tuple[re.Match[str], int] | None:
    """Return the last action outside an earlier action's argument, and its argument's end."""
    pairs = _paren_pairs(reply)
    last_close = reply.rfind(")")
    chosen: tuple[re.Match[str], int] | None = None
    hidden_until = -1  # actions starting before this are quoted in the chosen argument
    for match in pattern.finditer(reply):
        if match.start() < hidden_until:
            continue
        close = pairs.get(match.end() - 1)
        if close is not None:
            chosen, hidden_until = (match, close), close
            continue
        # Never closed: the argument runs to the last ")" (or the end), but hides only
        # the rest of its own line, so a later action line still wins.
        chosen = (match, last_close if last_close >= match.end() else len(reply))
        line_end = reply.find("\n", match.end())
        hidden_until = line_end if line_end >= 0 else len(reply)
    return chosen


def _paren_pairs(text: str) -> dict[int, int]:
    """Map the index of each ``(`` that is closed to the index of its ``)`` (one pass)."""
    pairs: dict[int, int] = {}
    opened: list[int] = []
    for position, char in enumerate(text):
        if char == "(":
            opened.append(position)
        elif char == ")" and opened:
            pairs[opened.pop()] = position
    return pairs


def build_joiner_messages(
    turn: Turn, settings: Settings, *, must_finish: bool
) -> list[BaseMessage]:
    """Build the joiner's prompt: the question and this question's plans and results only."""
    system = prompts.fill(
        settings.joiner_prompt, must_finish=prompts.JOINER_MUST_FINISH if must_finish else ""
    )
    question = turn.question.content if turn.question is not None else ""
    body = f"Question: {question}\n\n{render_rounds(turn.rounds, settings.prompt_budget_chars)}"
    return [SystemMessage(system.strip()), HumanMessage(body)]


def decide(
    model: BaseChatModel, turn: Turn, settings: Settings, config: RunnableConfig
) -> AIMessage:
    """Ask the joiner model and turn its reply into an answer or a replan message."""
    must_finish = turn.replans >= settings.max_replans
    try:
        reply = model.invoke(build_joiner_messages(turn, settings, must_finish=must_finish), config)
        text = reply.text if isinstance(reply.text, str) else str(reply.content)
    except Exception as exc:  # a failing joiner still ends the run with a clear answer
        return _failed(exc, turn, settings)
    return conclude(text, turn, settings)


async def adecide(
    model: BaseChatModel, turn: Turn, settings: Settings, config: RunnableConfig
) -> AIMessage:
    """Do what :func:`decide` does, awaiting the model (for the graph's async nodes)."""
    must_finish = turn.replans >= settings.max_replans
    try:
        messages = build_joiner_messages(turn, settings, must_finish=must_finish)
        reply = await model.ainvoke(messages, config)
        text = reply.text if isinstance(reply.text, str) else str(reply.content)
    except Exception as exc:  # a failing joiner still ends the run with a clear answer
        return _failed(exc, turn, settings)
    return conclude(text, turn, settings)


def _failed(exc: Exception, turn: Turn, settings: Settings) -> AIMessage:
    # This answer stays in the thread's history and reaches every later prompt: it is
    # capped at fallback_answer_chars, the results clipped fairly to fit.
    limit = settings.fallback_answer_chars
    error = clip(redact(f"{type(exc).__name__}: {exc}"), max(limit // 4, 100))
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
