"""LangChain's human-in-the-loop format for held tasks: what the reviewer sees and answers.

The ``approve`` node pauses with a LangChain ``HITLRequest`` (the interrupt value that
``HumanInTheLoopMiddleware`` raises, which Agent Chat UI and Agent Inbox render with Approve,
Edit and Reject controls): one action request per task shown (its tool, its arguments with
``$N`` already substituted, a description naming the task and the results it uses) and one
review config per tool (the decisions it allows, from the ``interrupt_on`` and
``interrupt_before_tools`` settings).

The answer is a ``HITLResponse``, ``{"decisions": [...]}``, decisions in action order:
``approve``, ``edit`` (``edited_action`` with the tool's name and new arguments, checked
against the tool's schema), ``reject`` (with an optional ``message``) or, where allowed,
``respond`` (the ``message`` is the task's result; the tool does not run). Fewer decisions
than actions decide the first ones; the rest are asked about again (Agent Chat UI answers one
action at a time). Anything else is refused with one line showing the expected shape
(:class:`~llmcompiler_graph.errors.ApprovalAnswerError`), and the node asks again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from langchain.agents.middleware.human_in_the_loop import ActionRequest, HITLRequest, ReviewConfig
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ValidationError

from llmcompiler_graph.context import DECISION_TYPES, DecisionType
from llmcompiler_graph.errors import ApprovalAnswerError

__all__ = [
    "Review",
    "Verdict",
    "args_problem",
    "expected_shape",
    "hitl_request",
    "read_decisions",
]


@dataclass(frozen=True)
class Review:
    """One held task as the reviewer sees it."""

    index: int
    name: str
    args: dict[str, Any]
    allowed: tuple[DecisionType, ...]
    description: str


@dataclass(frozen=True)
class Verdict:
    """The reviewer's decision on one task."""

    type: DecisionType
    args: dict[str, Any] | None = None
    """The edited arguments (``edit``)."""
    message: str | None = None
    """The reason (``reject``) or the result (``respond``)."""


def hitl_request(reviews: Sequence[Review], error: str | None = None) -> dict[str, Any]:
    """Return the interrupt value: a ``HITLRequest``, and ``error`` when asking again."""
    actions = [ActionRequest(name=r.name, args=r.args, description=r.description) for r in reviews]
    if error is not None and actions:  # where a chat UI shows it
        first = actions[0]
        first["description"] = f"{error}\n\n{first.get('description', '')}"
    configs: dict[str, ReviewConfig] = {}
    for review in reviews:
        configs.setdefault(
            review.name,
            ReviewConfig(action_name=review.name, allowed_decisions=list(review.allowed)),
        )
    request: dict[str, Any] = dict(
        HITLRequest(action_requests=actions, review_configs=list(configs.values()))
    )
    if error is not None:
        request["error"] = error
    return request


def read_decisions(
    value: object, reviews: Sequence[Review], tools: Mapping[str, BaseTool]
) -> dict[int, Verdict]:
    """Read a ``HITLResponse`` into verdicts by task index (the first tasks shown).

    Raises:
        ApprovalAnswerError: For anything else, in one line with the expected shape.

    """
    if not isinstance(value, Mapping) or "decisions" not in value:
        why = "it has no 'decisions' list (earlier versions' answers, such as 'approve', are now"
        _refuse(value, reviews, f"{why} decisions)")
    decisions = value["decisions"]
    if not isinstance(decisions, list) or not decisions:
        _refuse(value, reviews, "'decisions' is not a non-empty list")
    if len(decisions) > len(reviews):
        _refuse(value, reviews, f"{len(decisions)} decisions for {len(reviews)} action(s)")
    verdicts: dict[int, Verdict] = {}
    for number, (decision, review) in enumerate(zip(decisions, reviews, strict=False), start=1):
        where = f"decision {number} (action {number}, {review.name})"
        verdict = _verdict(decision, review, tools.get(review.name))
        if isinstance(verdict, str):
            _refuse(value, reviews, f"{where}: {verdict}")
        verdicts[review.index] = verdict
    return verdicts


def _verdict(decision: object, review: Review, tool: BaseTool | None) -> Verdict | str:
    if not isinstance(decision, Mapping):
        return "it is not an object with a 'type'"
    kind = decision.get("type")
    if kind not in DECISION_TYPES:
        return f"type {kind!r} is not one of {', '.join(DECISION_TYPES)}"
    if kind not in review.allowed:
        return f"'{kind}' is not allowed for {review.name} (allowed: {', '.join(review.allowed)})"
    message = decision.get("message")
    if message is not None and not isinstance(message, str):
        return "'message' is not a string"
    if kind == "respond" and message is None:
        return "'respond' needs a 'message' (the result)"
    if kind != "edit":
        return Verdict(kind, message=message)
    action = decision.get("edited_action")
    if not isinstance(action, Mapping) or not isinstance(action.get("args"), Mapping):
        return "'edit' needs 'edited_action': {'name': ..., 'args': {...}}"
    name = action.get("name", review.name)
    if name != review.name:
        return f"an edit keeps the tool: edited_action.name must be {review.name!r}, not {name!r}"
    args = dict(action["args"])
    problem = args_problem(tool, args) if tool is not None else None
    if problem:
        return f"the edited arguments do not fit {review.name}: {problem}"
    return Verdict("edit", args=args)


def args_problem(tool: BaseTool, args: Mapping[str, Any]) -> str | None:
    """Return what is wrong with ``args`` for ``tool``'s schema in one line, or ``None``.

    A Pydantic schema checks types and required arguments (the arguments are then passed as
    sent: the tool validates them again when it runs); a JSON schema checks the required
    arguments and, where it lists them, that no other argument is given.
    """
    schema = tool.tool_call_schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        try:
            schema.model_validate(dict(args))
        except ValidationError as exc:
            return "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                for e in exc.errors()
            )
        return None
    if isinstance(schema, Mapping):
        missing = sorted(set(schema.get("required", ())) - set(args))
        if missing:
            return f"missing required argument(s) {', '.join(missing)}"
        known = schema.get("properties")
        if isinstance(known, Mapping) and schema.get("additionalProperties") is False:
            extra = sorted(set(args) - set(known))
            if extra:
                return f"unknown argument(s) {', '.join(extra)}"
    return None


def expected_shape(reviews: Sequence[Review]) -> str:
    """Return the accepted answer for ``reviews``, in one line."""
    shapes = {
        "approve": '{"type": "approve"}',
        "edit": '{"type": "edit", "edited_action": {"name": <the tool>, "args": {...}}}',
        "reject": '{"type": "reject", "message": "<why>"}',
        "respond": '{"type": "respond", "message": "<the result>"}',
    }
    used = [t for t in DECISION_TYPES if any(t in r.allowed for r in reviews)]
    allowed = "; ".join(f"{n}. {r.name}: {', '.join(r.allowed)}" for n, r in enumerate(reviews, 1))
    return (
        'expected Command(resume={"decisions": [...]}), one decision per action in order (fewer '
        f"decide the first ones), each {' or '.join(shapes[t] for t in used)}; "
        f"allowed: {allowed}"
    )


def _refuse(value: object, reviews: Sequence[Review], why: str) -> NoReturn:
    text = _shown(value)
    raise ApprovalAnswerError(
        f"the approval answer {text} was not used: {why}; {expected_shape(reviews)}"
    )


def _shown(value: object) -> str:
    try:
        text = json.dumps(value, default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."
