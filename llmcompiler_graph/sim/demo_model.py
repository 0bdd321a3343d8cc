"""Built-in scripted models for serving and testing the graph offline, with no key.

:data:`BUILTIN_MODELS` maps names to factories; :func:`llmcompiler_graph.models.resolve_model`
resolves ``scripted:<name>`` with them:

* ``scripted:demo``: a rule-based planner and joiner that stream like gpt-3.5 (about half a
  second to the first token, 75 tokens/s). The planner plans one ``search`` per capitalised
  name in the question and one ``math`` per arithmetic expression, all in parallel; for a
  ParallelQA-like question ("What is the height difference between Mount Everest and K2?")
  it adds one ``math(question, ["$1", "$2"])`` over the searches, in the same plan. It also
  answers the model-backed ``math`` tool (one expression from the context's numbers). The
  joiner answers from the observations (and compares nationalities when asked).
* ``scripted:demo-instant``: the same rules without latency (tests).
* Both plan with native tool calls instead when the prompt is the tool-calling planner's
  (``plan_format="tool_calls"``), streamed as tool-call deltas.
* ``scripted:echo``: plans a single ``search`` for the whole question and answers
  ``Echo: <observation>``, to check that a model chosen by configuration is the one used.

The rules read only the prompt, so concurrent runs are independent. The models are
:class:`~llmcompiler_graph.sim.ScriptedChatModel` instances: they stream token by token and
report usage, so streaming and tracing behave as with a hosted model.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from llmcompiler_graph.sim.models import ScriptedChatModel
from llmcompiler_graph.sim.profiles import get_profile

__all__ = ["BUILTIN_MODELS", "MATH_REQUEST", "demo_reply", "echo_reply"]

_NAMES = re.compile(r"\b[A-Z][\w'.-]*(?:\s+(?:(?:of|de|van|von|der)\s+)?[A-Z][\w'.-]*)*")
_ARITHMETIC = re.compile(r"[\d.(][\d.\s()+\-*/^%]*[\d)]")
_COMPUTE = re.compile(
    r"\b(?:difference|ratio|sum|total|combined|average|how (?:much|many times)|times|"
    r"percent|half|double|higher|longer|taller|older)\b|%",
    re.I,
)
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")
_START_AT = re.compile(
    r"(?:Start numbering at|numbered from|numbered in order, starting at)\s+(\d+)"
)
MATH_REQUEST = "Translate the math problem into ONE arithmetic expression"
"""How the paper's ``math`` tool (:mod:`llmcompiler_graph.tools.llm_math`) starts its prompt:
the demo model answers such a request with an expression (sim never imports tools)."""
_TOOL_CALLING = "calls in your message are numbered in order"  # the tool-calling planner's
_QUESTION_WORDS = {
    "were", "was", "what", "who", "whom", "which", "is", "are", "did", "does", "do", "how",
    "when", "where", "why", "compare", "find", "tell", "the", "and", "in", "of", "please",
    "give", "list", "name", "also", "then", "now", "a", "an", "can", "could",
}  # fmt: skip
_NATIONALITIES = (
    "American", "British", "English", "French", "German", "Belgian", "Canadian", "Italian",
    "Spanish", "Japanese", "Chinese", "Indian", "Australian", "Irish", "Mexican", "Russian",
)  # fmt: skip


def demo_reply(messages: list[BaseMessage]) -> str | AIMessage:
    """Reply as the planner, the joiner or the model behind ``math``, depending on the prompt."""
    if _is_math(messages):
        return _math_expression(messages[-1].text if messages else "")
    if _is_joiner(messages):
        return _join(messages)
    question, replanning = _question(messages)
    start = _next_index(messages)
    steps: list[tuple[str, dict[str, object]]]
    if replanning:
        steps = [("search", {"query": question})]
        thought = "The first plan was not enough; search for the whole question."
    else:
        steps = [("math", {"problem": e}) for e in _expressions(question)]
        steps += [("search", {"query": name}) for name in _names(question)]
        if steps and _COMPUTE.search(question) and not _expressions(question):
            # ParallelQA-like: compute over what the searches find, in the same plan.
            refs = [f"${i}" for i in range(start, start + len(steps))]
            steps.append(("math", {"problem": question, "context": refs}))
        if not steps:
            steps = [("search", {"query": question})]
        thought = (
            "These lookups are independent, so they run in parallel."
            if len(steps) > 1
            else "One lookup answers this."
        )
    return _planned(messages, steps, start, thought)


def echo_reply(messages: list[BaseMessage]) -> str | AIMessage:
    """Plan one search for the whole question, then answer with its observation."""
    if _is_joiner(messages):
        found = _observations(messages)
        return f"Thought: echo.\nAction: Finish(Echo: {found[0] if found else 'nothing'})"
    question, _ = _question(messages)
    return _planned(messages, [("search", {"query": question})], _next_index(messages), None)


def _is_math(messages: list[BaseMessage]) -> bool:
    system = next((m.text for m in messages if isinstance(m, SystemMessage)), "")
    return system.startswith(MATH_REQUEST)


def _math_expression(request: str) -> str:
    """Answer the math tool: one expression from the first number of each context item."""
    question = request.rsplit("Question:", 1)[-1].strip().lower()
    contexts = re.split(r"Context(?: \d+)?:\n", request.rsplit("Question:", 1)[0])[1:]
    values = [m.group(0).replace(",", "") for c in contexts if (m := _NUMBER.search(c))]
    percent = re.search(r"(\d+(?:\.\d+)?)\s*%", question)
    if not values:
        expression = "0"
    elif percent and len(values) == 1:
        sign = "-" if re.search(r"shorter|slower|less|smaller|lower|reduced", question) else "+"
        expression = f"{values[0]} * (1 {sign} {percent.group(1)} / 100)"
    elif "ratio" in question or "times" in question:
        expression = " / ".join(values)
    elif "average" in question or "mean" in question:
        expression = f"({' + '.join(values)}) / {len(values)}"
    elif re.search(r"sum|total|combined|together", question):
        expression = " + ".join(values)
    elif len(values) >= 2:  # a difference, or how much more/higher/longer
        expression = f"abs({values[0]} - {values[1]})"
    else:
        expression = values[0]
    return f"```text\n{expression}\n```"


def _is_joiner(messages: list[BaseMessage]) -> bool:
    system = next((m.text for m in messages if isinstance(m, SystemMessage)), "")
    return "Finish(" in system


def _question(messages: list[BaseMessage]) -> tuple[str, bool]:
    replayed = [i for i, m in enumerate(messages) if isinstance(m, ToolMessage)]
    if replayed:  # a tool-calling replan: the question comes before the replayed calls
        asked = [m.text for m in messages[: replayed[0]] if isinstance(m, HumanMessage)]
        return (asked[-1] if asked else "").strip(), True
    humans = [m.text for m in messages if isinstance(m, HumanMessage)]
    replanning = len(humans) >= 2 and humans[-1].lstrip().startswith("Plan 1:")
    question = humans[-2] if replanning else (humans[-1] if humans else "")
    return question.strip(), replanning


def _next_index(messages: list[BaseMessage]) -> int:
    for message in reversed(messages):
        if found := _START_AT.search(message.text):
            return int(found.group(1))
    return 1


def _names(question: str) -> list[str]:
    names: list[str] = []
    for match in _NAMES.finditer(question):
        words = match.group(0).rstrip(".'").split()
        while words and words[0].lower() in _QUESTION_WORDS:
            words.pop(0)
        name = " ".join(words)
        if name and name not in names:
            names.append(name)
    return names


def _expressions(question: str) -> list[str]:
    found = []
    for match in _ARITHMETIC.finditer(question):
        text = match.group(0).strip()
        if re.search(r"\d\s*[-+*/^%]\s*[\d(]", text) and _parses(text):
            found.append(text)
    return found


def _parses(text: str) -> bool:
    try:
        ast.parse(text.replace("^", "**"), mode="eval")
    except SyntaxError:
        return False
    return True


def _planned(
    messages: list[BaseMessage],
    steps: list[tuple[str, dict[str, object]]],
    start: int,
    thought: str | None,
) -> str | AIMessage:
    """Return the plan as text, or as tool calls when prompted as the tool-calling planner."""
    system = next((m.text for m in messages if isinstance(m, SystemMessage)), "")
    if _TOOL_CALLING not in system:
        return _plan(steps, start, thought)
    calls = [
        {"name": tool, "args": args, "id": f"call_{number}", "type": "tool_call"}
        for number, (tool, args) in enumerate(steps, start=start)
    ]
    return AIMessage(content=thought or "", tool_calls=calls)


def _plan(steps: list[tuple[str, dict[str, object]]], start: int, thought: str | None) -> str:
    lines = [f"Thought: {thought}"] if thought else []
    for number, (tool, args) in enumerate(steps, start=start):
        rendered = ", ".join(f"{key}={json.dumps(value)}" for key, value in args.items())
        lines.append(f"{number}. {tool}({rendered})")
    lines.append(f"{start + len(steps)}. join()<END_OF_PLAN>")
    return "\n".join(lines)


def _observations(messages: list[BaseMessage]) -> list[str]:
    body = messages[-1].text if messages else ""
    return [
        line.removeprefix("Observation:").strip()
        for line in body.splitlines()
        if line.startswith("Observation:")
    ]


def _join(messages: list[BaseMessage]) -> str:
    found = _observations(messages)
    ok = [o for o in found if not o.startswith("ERROR:")]
    must_finish = any("cannot replan" in m.text for m in messages)  # the note after the results
    if not ok and not must_finish:
        return (
            "Thought: Every step failed.\n"
            "Action: Replan(the tools returned only errors; try other inputs)"
        )
    question = next((m.text for m in messages if isinstance(m, HumanMessage)), "")
    if "nationalit" in question.lower() and len(ok) >= 2:
        kinds = [next((n for n in _NATIONALITIES if n in o), None) for o in ok]
        if all(kinds) and len(set(kinds)) == 1:
            who = "both" if len(kinds) == 2 else "all"
            answer = f"Yes, they are {who} {kinds[0]}."
        else:
            answer = "No: " + "; ".join(
                f"{o.split(' (')[0].split(' is ')[0]}: {k or 'unknown'}"
                for o, k in zip(ok, kinds, strict=True)
            )
        return f"Thought: I compared the nationalities in the results.\nAction: Finish({answer})"
    if not ok:
        return (
            "Thought: Nothing worked.\n"
            "Action: Finish(I could not find an answer: every step failed.)"
        )
    numbers = [o.strip() for o in ok if re.fullmatch(r"-?[\d.]+(?:e[-+]?\d+)?", o.strip())]
    if numbers and _COMPUTE.search(question) and not _expressions(question):
        return f"Thought: math computed it from the search results.\nAction: Finish({numbers[-1]})"
    answer = " ".join(_first_sentence(o) for o in ok)
    return f"Thought: The results answer the question.\nAction: Finish({answer})"


def _first_sentence(text: str) -> str:
    if re.fullmatch(r"[-\d.e+]+", text.strip()):  # a number, as the math tool returns it
        return text.strip()
    head = re.split(r"(?<=[a-z0-9)])\.\s", text, maxsplit=1)[0].strip()
    return head if head.endswith(".") else f"{head}."


def _model(
    reply: Callable[[list[BaseMessage]], str | AIMessage], latency: str, tools: frozenset[str]
) -> Callable[[], ScriptedChatModel]:
    return lambda: ScriptedChatModel(
        responses=reply, latency=get_profile(latency), stream_tool_calls=True, plans_for=tools
    )


DEMO_TOOLS = frozenset({"search", "math"})
"""The only tools the demo models plan for: the demo ``search`` and ``math``."""

BUILTIN_MODELS: dict[str, Callable[[], ScriptedChatModel]] = {
    "demo": _model(demo_reply, "gpt-3.5-like", DEMO_TOOLS),
    "demo-instant": _model(demo_reply, "instant", DEMO_TOOLS),
    "echo": _model(echo_reply, "instant", frozenset({"search"})),
}
"""The built-in scripted models, by the name after ``scripted:``."""
