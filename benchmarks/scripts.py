"""What the simulated models say: plans, joiner replies, ReAct and parallel-calling turns.

Everything is derived from a :class:`~benchmarks.workloads.Case`, so the three
approaches make the same tool calls with the same arguments and reach the same answer;
only the way they talk differs. The texts are of realistic length (a sentence of reasoning
per turn, search results of a paragraph), so token counts and cost compare fairly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from langchain_core.messages import AIMessage, ToolCall

from benchmarks.workloads import Case, Round, Step, levels

__all__ = [
    "agent_value",
    "extract_answer",
    "final_reply",
    "joiner_reply",
    "parallel_turns",
    "plan_text",
    "plan_tool_calls",
    "react_turns",
    "search_corpus",
    "snippet",
]

_FILLER = (
    "It is frequently cited in reference works and has been the subject of several reviews.",
    "Historical accounts differ on some details, but the main facts are well documented.",
    "Its description has been revised a number of times as new sources became available.",
    "Critics and scholars have compared it with similar examples from the same period.",
    "Several independent sources confirm these figures, with only minor differences.",
    "The entry also lists related topics, external links and further reading.",
    "Later coverage focused on its influence and on how it was received at the time.",
    "Some of the earliest records were incomplete, so estimates vary slightly.",
    "It remains a common example in discussions of the subject.",
    "The most recent survey updated several of the details given here.",
)


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _figure(text: str) -> str:
    return f"{_digest(text) % 98_000 + 1_000:,}"


def snippet(query: str) -> str:
    """Return the simulated search result for ``query``: a paragraph of about 70 words."""
    h = _digest(query)
    fillers = [_FILLER[(h >> (8 * k)) % len(_FILLER)] for k in range(3)]
    fillers = list(dict.fromkeys(fillers))
    return (
        f"{query} (simulated encyclopedia entry). {query} is recorded with the reference figure "
        f"{_figure(query)} in the standard sources. " + " ".join(fillers)
    )


def search_corpus(case: Case) -> dict[str, str]:
    """Map each search query of ``case`` to its simulated result."""
    return {
        str(s.args["query"]): snippet(str(s.args["query"]))
        for s in case.steps
        if s.tool == "search"
    }


def agent_value(step: Step) -> str:
    """Return what an agent writes when it cites ``step``'s result (the key fact, not the page)."""
    if step.tool == "search":
        return f"{step.args['query']}: {_figure(str(step.args['query']))}"
    return _figure(str(step.args.get("problem", "")))


# -- LLMCompiler ------------------------------------------------------------------------------


def _literal(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def plan_line(step: Step) -> str:
    """Render one step as a plan line, e.g. ``2. search(query="Ed Wood")``."""
    args = ", ".join(f"{k}={_literal(v)}" for k, v in step.args.items())
    return f"{step.index}. {step.tool}({args})"


def plan_text(round_: Round) -> str:
    """Return the planner's reply for a round: a thought, the numbered steps, ``join()``."""
    lines = [f"Thought: {round_.thought}", *(plan_line(s) for s in round_.steps)]
    lines.append(f"{round_.steps[-1].index + 1}. join()<END_OF_PLAN>")
    return "\n".join(lines)


def plan_tool_calls(round_: Round) -> AIMessage:
    """Return the tool-calling planner's reply for a round: the thought, then one call per step.

    The calls carry the steps' arguments with their ``$N`` references; numbering is by
    position, so the steps must be numbered consecutively (every workload's are).
    """
    first = round_.steps[0].index
    if [s.index for s in round_.steps] != list(range(first, first + len(round_.steps))):
        raise ValueError("a tool-call plan numbers its calls in order: steps must be consecutive")
    calls = [
        ToolCall(name=s.tool, args=dict(s.args), id=f"call_{s.index}", type="tool_call")
        for s in round_.steps
    ]
    return AIMessage(content=round_.thought, tool_calls=calls)


def joiner_reply(case: Case, round_number: int) -> str:
    """Return the joiner's reply after round ``round_number`` (0-based): Finish or Replan."""
    round_ = case.rounds[round_number]
    if round_.feedback is not None:
        return f"Thought: {round_.verdict}\nAction: Replan({round_.feedback})"
    return f"Thought: {round_.verdict}\nAction: Finish({case.answer})"


# -- agents -----------------------------------------------------------------------------------


def _call(step: Step, values: Mapping[int, str]) -> ToolCall:
    def resolve(value: object) -> object:
        if isinstance(value, str) and value.startswith("$") and value[1:].isdigit():
            return values[int(value[1:])]
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    args = {k: resolve(v) for k, v in step.args.items()}
    return ToolCall(name=step.tool, args=args, id=f"call_{step.index}", type="tool_call")


def _values(case: Case) -> dict[int, str]:
    return {s.index: agent_value(s) for s in case.steps}


def _lead(case: Case, round_number: int) -> str:
    """Return what an agent says first in a later round: why the last results were not enough."""
    if round_number == 0:
        return ""
    previous = case.rounds[round_number - 1]
    return f"{previous.verdict} So {previous.feedback}. "


def react_turns(case: Case) -> list[AIMessage]:
    """Return the ReAct agent's replies: one tool call per turn, then the answer."""
    values, turns = _values(case), []
    for number, round_ in enumerate(case.rounds):
        for k, step in enumerate(round_.steps):
            lead = _lead(case, number) if k == 0 else ""
            turns.append(
                AIMessage(content=f"{lead}{step.thought}", tool_calls=[_call(step, values)])
            )
    turns.append(AIMessage(content=final_reply(case)))
    return turns


def parallel_turns(case: Case) -> list[AIMessage]:
    """Return the parallel-calling agent's replies: a turn per dependency level, then the answer."""
    values, turns = _values(case), []
    for number, round_ in enumerate(case.rounds):
        for depth, level in enumerate(levels(round_.steps)):
            if depth == 0:
                text = f"{_lead(case, number)}{round_.thought}"
            else:
                needed = sorted({d for s in level for d in s.deps})
                text = (
                    f"Now that the results of steps {', '.join(map(str, needed))} are known, I can "
                    f"run the {len(level)} step(s) that need them."
                )
            turns.append(AIMessage(content=text, tool_calls=[_call(s, values) for s in level]))
    turns.append(AIMessage(content=final_reply(case)))
    return turns


def final_reply(case: Case) -> str:
    """Return an agent's last reply: the reasoning the joiner gives, then the answer."""
    return f"{case.rounds[-1].verdict}\nAnswer: {case.answer}"


def extract_answer(text: str) -> str:
    """Return the answer in an agent's final reply (after the last ``Answer:``), or the text."""
    _, sep, tail = text.rpartition("Answer:")
    return tail.strip() if sep else text.strip()
