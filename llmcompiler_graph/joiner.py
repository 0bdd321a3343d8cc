"""The joiner: read the results, then finish with an answer or ask for a new plan."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig

from llmcompiler_graph import prompts
from llmcompiler_graph.context import Settings
from llmcompiler_graph.render import render_rounds
from llmcompiler_graph.state import KIND, Turn

__all__ = ["Decision", "build_joiner_messages", "decide", "parse_decision"]

_ACTION = re.compile(r"Action\s*:\s*(Finish|Replan)\s*\(", re.IGNORECASE)
_THOUGHT = re.compile(r"Thought\s*:\s*(.*?)(?=\n\s*Action\s*:|\Z)", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Decision:
    """The joiner's choice: ``finish`` with an answer, or ``replan`` with feedback."""

    action: Literal["finish", "replan"]
    text: str
    thought: str | None = None


def parse_decision(reply: str) -> Decision:
    """Parse ``Thought: ...`` / ``Action: Finish(...)`` or ``Replan(...)``.

    The argument is everything between the opening parenthesis and the last ``)``. A reply
    in neither format is taken as the final answer, whole.
    """
    thought_match = _THOUGHT.search(reply)
    thought = thought_match.group(1).strip() if thought_match else None
    actions = list(_ACTION.finditer(reply))
    if not actions:
        return Decision("finish", reply.strip(), thought)
    action = actions[-1]
    rest = reply[action.end() :]
    close = rest.rfind(")")
    argument = (rest[:close] if close >= 0 else rest).strip()
    kind: Literal["finish", "replan"] = "replan" if action.group(1).lower() == "replan" else "finish"
    return Decision(kind, argument, thought)


def build_joiner_messages(turn: Turn, settings: Settings, *, must_finish: bool) -> list[BaseMessage]:
    """Build the joiner's prompt: the question and this question's plans and results only."""
    system = prompts.fill(
        settings.joiner_prompt, must_finish=prompts.JOINER_MUST_FINISH if must_finish else ""
    )
    question = turn.question.content if turn.question is not None else ""
    body = f"Question: {question}\n\n{render_rounds(turn.rounds)}"
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
        return _answer(
            f"I could not finish: the joiner model failed ({type(exc).__name__}: {exc}). "
            f"Results so far:\n{render_rounds(turn.rounds)}",
            thought=None,
        )
    decision = parse_decision(text)
    if decision.action == "replan" and not must_finish:
        feedback = decision.text or "the results were not sufficient"
        return AIMessage(
            content=f"Replanning: {feedback}",
            name="joiner",
            additional_kwargs={KIND: {"kind": "replan", "feedback": feedback, "thought": decision.thought}},
        )
    if decision.action == "replan":
        best = decision.thought or "the results did not answer the question"
        return _answer(
            f"I could not complete this within {settings.max_replans} replan(s). "
            f"Best answer from the results: {best} (still missing: {decision.text})",
            thought=decision.thought,
        )
    return _answer(decision.text, thought=decision.thought)


def _answer(text: str, *, thought: str | None) -> AIMessage:
    return AIMessage(content=text, name="joiner", additional_kwargs={KIND: {"kind": "answer", "thought": thought}})
