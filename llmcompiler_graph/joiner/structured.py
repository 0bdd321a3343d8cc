"""Structured answers: ``response_format=`` turns the final answer into a validated object.

``create_llm_compiler(..., response_format=Schema)`` takes what ``create_agent``'s
``response_format`` takes: a Pydantic model, a dataclass, a ``TypedDict``, a JSON schema
dict, or LangChain's ``ToolStrategy`` / ``ProviderStrategy`` / ``AutoStrategy`` around one.
When the joiner finishes, one more call of the joiner's model reads the question, the
rounds' results and the answer, and returns the object:

* through the provider's native structured output (``ProviderStrategy``) when the model's
  profile says it has it, else through a forced call of a tool whose arguments are the
  schema (``ToolStrategy``), as ``create_agent`` chooses for a bare schema;
* validated with LangChain's own parsers (a Pydantic model or dataclass comes back as an
  instance, a ``TypedDict`` as a checked dict; a JSON schema dict, as in ``create_agent``,
  as the JSON object the model wrote, unchecked);
* a reply that does not validate is sent back once with the error; if the second reply
  fails too (or the model call raises), the run still ends normally: the answer says why
  there is no structured response and ``structured_response`` is ``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langchain.agents.structured_output import (
    AutoStrategy,
    OutputToolBinding,
    ProviderStrategy,
    ProviderStrategyBinding,
    ToolStrategy,
)
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.constants import TAG_NOSTREAM
from pydantic import ValidationError

from llmcompiler_graph.context import Settings
from llmcompiler_graph.errors import ConfigurationError
from llmcompiler_graph.joiner.rounds import render_rounds
from llmcompiler_graph.state import KIND, Turn

__all__ = [
    "STRUCTURED_PROMPT",
    "ResponseFormat",
    "Structured",
    "astructure",
    "bind_structured",
    "check_response_format",
    "structure",
    "structured_context",
    "with_failure",
]

ResponseFormat = ToolStrategy[Any] | ProviderStrategy[Any] | AutoStrategy[Any]
Strategy = ToolStrategy[Any] | ProviderStrategy[Any]

STRUCTURED_PROMPT = """You turn the final answer to a user's question into structured data.
Below are the question, the results of the tools that were called for it, and the answer
that was given. Fill in {name} from them: use only facts they contain, and leave out (or
set to null, where the schema allows) what they do not say. {how}"""

_HOW_TOOL = "Reply by calling the {name} tool once."
_HOW_JSON = "Reply with only the JSON object."
_MAX_ERROR_CHARS = 1_000


@dataclass(frozen=True)
class Structured:
    """The structured call's outcome: the validated ``value``, or why there is none."""

    value: Any = None
    error: str | None = None


def check_response_format(value: object) -> ResponseFormat:
    """Return ``value`` as a LangChain response format strategy, checking its schema.

    Raises:
        ConfigurationError: For a schema LangChain cannot describe (not a Pydantic model,
            dataclass, ``TypedDict`` or JSON schema dict), naming what it got.

    """
    if isinstance(value, ToolStrategy | ProviderStrategy):
        return value
    schema: Any = value.schema if isinstance(value, AutoStrategy) else value
    try:
        ToolStrategy(schema)  # describes every variant; raises for what it cannot describe
    except ValueError as exc:
        raise ConfigurationError(
            f"response_format: {exc} (pass a Pydantic model, a dataclass, a TypedDict, a JSON "
            "schema dict, or a ToolStrategy / ProviderStrategy / AutoStrategy of one)"
        ) from None
    return value if isinstance(value, AutoStrategy) else AutoStrategy(schema)


def strategy_for(response_format: ResponseFormat, model: BaseChatModel) -> Strategy:
    """Return the strategy for ``model``: native output if its profile has it, else a tool."""
    if not isinstance(response_format, AutoStrategy):
        return response_format
    tool = ToolStrategy(response_format.schema)
    profile = getattr(model, "profile", None)
    native = isinstance(profile, dict) and bool(profile.get("structured_output"))
    if native and len(tool.schema_specs) == 1:  # a union is only expressible as tools
        return ProviderStrategy(response_format.schema)
    return tool


def structured_context(turn: Turn, answer: str, settings: Settings) -> str:
    """Return what the structured call reads: the question, every round's results, the answer."""
    question = turn.question.text if turn.question is not None else ""
    rounds = render_rounds(turn.rounds, settings.prompt_budget_chars)
    return f"Question: {question}\n\n{rounds}\nAnswer: {answer}"


def with_failure(answer: AIMessage, error: str) -> AIMessage:
    """Return ``answer`` (same id) saying why it has no structured response.

    The reason is appended to its text and kept in its marker as ``structured_error``.
    """
    marker = answer.additional_kwargs.get(KIND)
    marker = {**marker, "structured_error": error} if isinstance(marker, dict) else marker
    note = f"(No structured response: {error})"
    content: Any = answer.content
    if isinstance(content, str):
        content = f"{content}\n\n{note}" if content else note
    elif isinstance(content, list):
        content = [*content, {"type": "text", "text": note}]
    kwargs = {**answer.additional_kwargs, KIND: marker}
    return answer.model_copy(update={"content": content, "additional_kwargs": kwargs})


def structure(
    model: BaseChatModel,
    response_format: ResponseFormat,
    context: str,
    config: RunnableConfig,
) -> Structured:
    """Ask ``model`` for the structured answer (``context``: question, results and answer)."""
    exchange = _Exchange(model, response_format, context)
    config = _quiet(config)
    while (request := exchange.request()) is not None:
        try:
            reply = exchange.bound.invoke(request, config)
        except Exception as exc:  # a failing call still ends the run with its answer
            return exchange.call_failed(exc)
        exchange.receive(reply)
    return exchange.outcome


async def astructure(
    model: BaseChatModel,
    response_format: ResponseFormat,
    context: str,
    config: RunnableConfig,
) -> Structured:
    """Do what :func:`structure` does, awaiting the model."""
    exchange = _Exchange(model, response_format, context)
    config = _quiet(config)
    while (request := exchange.request()) is not None:
        try:
            reply = await exchange.bound.ainvoke(request, config)
        except Exception as exc:  # a failing call still ends the run with its answer
            return exchange.call_failed(exc)
        exchange.receive(reply)
    return exchange.outcome


def _quiet(config: RunnableConfig) -> RunnableConfig:
    """Return ``config`` for the structured call, whose tokens chat UIs should not show.

    LangGraph's ``messages`` stream leaves out a run tagged ``nostream``: the call's JSON or
    tool-call chunks are not the answer (which the joiner's message already is).
    """
    tags = [*(config.get("tags") or []), TAG_NOSTREAM]
    return {**config, "tags": tags, "run_name": "structured_response"}


def bind_structured(
    model: BaseChatModel, response_format: ResponseFormat
) -> Runnable[LanguageModelInput, BaseMessage]:
    """Return ``model`` bound for the structured call (raises if it can do neither kind)."""
    return _binding(model, strategy_for(response_format, model))[0]


_Parse = Callable[[AIMessage], Any]
_Retry = Callable[[AIMessage, str], list[BaseMessage]]


def _binding(
    model: BaseChatModel, strategy: Strategy
) -> tuple[Runnable[LanguageModelInput, BaseMessage], str, _Parse, _Retry]:
    if isinstance(strategy, ProviderStrategy):
        provider = ProviderStrategyBinding.from_schema_spec(strategy.schema_spec)

        def retry_json(reply: AIMessage, error: str) -> list[BaseMessage]:
            return [reply, HumanMessage(f"That reply did not validate: {error}\n{_HOW_JSON}")]

        spec = strategy.schema_spec

        def parse_json(reply: AIMessage) -> Any:
            value = provider.parse(reply)
            if spec.schema_kind == "json_schema" and not isinstance(value, dict):
                raise ValueError(f"expected a JSON object for {spec.name}, got {value!r}")
            return value

        bound: Runnable[LanguageModelInput, BaseMessage] = model.bind(**strategy.to_model_kwargs())
        return bound, _HOW_JSON, parse_json, retry_json
    bindings = {s.name: OutputToolBinding.from_schema_spec(s) for s in strategy.schema_specs}
    names = " or ".join(bindings)

    def parse_call(reply: AIMessage) -> Any:
        calls = [c for c in reply.tool_calls if c["name"] in bindings]
        if len(calls) != 1:
            got = ", ".join(c["name"] for c in reply.tool_calls) or "no tool"
            raise ValueError(f"expected one call of {names}, got {got}")
        return bindings[calls[0]["name"]].parse(calls[0]["args"])

    def retry_call(reply: AIMessage, error: str) -> list[BaseMessage]:
        text = f"Error: {error}\nPlease fix it and call {names} again."
        answers: list[BaseMessage] = [
            ToolMessage(text, tool_call_id=c["id"] or "", name=c["name"], status="error")
            for c in reply.tool_calls
        ]
        return [reply, *(answers or [HumanMessage(text)])]

    tools = [b.tool for b in bindings.values()]
    return (
        model.bind_tools(tools, tool_choice="any"),
        _HOW_TOOL.format(name=names),
        parse_call,
        retry_call,
    )


class _Exchange:
    """The structured call and its one retry, shared by the sync and async paths."""

    def __init__(self, model: BaseChatModel, response_format: ResponseFormat, context: str):
        strategy = strategy_for(response_format, model)
        self.name = _schema_name(strategy)
        self.outcome = Structured(error=f"no reply from the model for {self.name}")
        self._messages: list[BaseMessage] | None = None
        self._attempts = 0
        try:
            self.bound, how, self._parse, self._retry = _binding(model, strategy)
        except Exception as exc:  # e.g. a model without tool calling
            self.outcome = Structured(error=f"the model cannot produce {self.name}: {exc}")
            return
        system = STRUCTURED_PROMPT.format(name=self.name, how=how)
        self._messages = [SystemMessage(system), HumanMessage(context)]

    def request(self) -> list[BaseMessage] | None:
        """Return the messages of the next call, or ``None`` when done."""
        return self._messages

    def receive(self, reply: BaseMessage) -> None:
        """Parse ``reply``; on a validation error, prepare the one retry."""
        assert self._messages is not None
        self._attempts += 1
        message = reply if isinstance(reply, AIMessage) else AIMessage(content=reply.content)
        try:
            self.outcome = Structured(value=self._parse(message))
        except Exception as exc:
            error = _describe(exc)
            if self._attempts < 2:
                self._messages = [*self._messages, *self._retry(message, error)]
                return
            self.outcome = Structured(
                error=f"the model's reply did not match {self.name} twice (last error: {error})"
            )
        self._messages = None

    def call_failed(self, exc: Exception) -> Structured:
        """Return the outcome of a model call that raised."""
        return Structured(error=f"the {self.name} call failed: {_describe(exc)}")


def _schema_name(strategy: Strategy) -> str:
    if isinstance(strategy, ProviderStrategy):
        return strategy.schema_spec.name
    return " or ".join(s.name for s in strategy.schema_specs)


def _describe(exc: BaseException) -> str:
    """Return a one-line description of a parse or validation error."""
    cause = exc.__cause__ if isinstance(exc.__cause__, ValidationError) else exc
    if isinstance(cause, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
            + (f" (got {e['input']!r})" if e["type"] != "missing" else "")
            for e in cause.errors(include_url=False)
        ]
        text = f"{cause.title}: " + "; ".join(parts)
    else:
        text = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ValueError) else str(exc)
    text = " ".join(text.split())
    return text if len(text) <= _MAX_ERROR_CHARS else text[:_MAX_ERROR_CHARS] + " ..."
