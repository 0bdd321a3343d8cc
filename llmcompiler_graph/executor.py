"""The ``plan_and_schedule`` node: stream a plan and run each task as soon as it is parsed."""

from __future__ import annotations

import contextvars
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import patch_config
from langchain_core.tools import BaseTool

from llmcompiler_graph import prompts
from llmcompiler_graph.context import Settings
from llmcompiler_graph.planner import PlannedTask, PlanParser, ToolSpec
from llmcompiler_graph.references import substitute, to_text
from llmcompiler_graph.render import clip, describe_tools, render_rounds
from llmcompiler_graph.scheduler import Job, Outcome, TaskEvent, TaskFetchingUnit
from llmcompiler_graph.state import KIND, Turn

__all__ = ["EventSink", "build_planner_messages", "prior_outcomes", "run_round", "task_event"]

EventSink = Callable[[dict[str, Any]], None]


def build_planner_messages(turn: Turn, tools: list[BaseTool], settings: Settings) -> list[BaseMessage]:
    """Build the planner's prompt: system rules and tools, history, question, earlier rounds."""
    next_index = turn.next_index
    examples = f"\nExamples:\n{settings.examples.strip()}\n" if settings.examples else ""
    system = prompts.fill(
        settings.planner_prompt,
        tools=describe_tools(tools),
        num_tools=len(tools),
        num_tools_plus_one=len(tools) + 1,
        examples=examples,
        next_index=next_index,
    )
    messages: list[BaseMessage] = [SystemMessage(system), *turn.history]
    question = turn.question.content if turn.question is not None else ""
    messages.append(HumanMessage(question))
    if turn.rounds:
        replan = prompts.fill(prompts.REPLAN_PROMPT, next_index=next_index)
        messages.append(HumanMessage(f"{render_rounds(turn.rounds)}\n\n{replan}"))
    return messages


def prior_outcomes(turn: Turn) -> dict[int, Outcome]:
    """Rebuild outcomes of this question's earlier rounds, for ``$N`` references to them."""
    outcomes: dict[int, Outcome] = {}
    for round_ in turn.rounds:
        for message in round_.results:
            artifact = message.artifact if isinstance(message.artifact, dict) else {}
            index = artifact.get("index")
            if not isinstance(index, int) or index <= 0:
                continue
            status = artifact.get("status", "error" if message.status == "error" else "ok")
            value = artifact["value"] if "value" in artifact else message.content
            outcomes[index] = Outcome(index, str(message.name or ""), status, value=value)
    return outcomes


def run_round(
    *,
    model: BaseChatModel,
    messages: list[BaseMessage],
    tools: Mapping[str, BaseTool],
    specs: Mapping[str, ToolSpec],
    turn: Turn,
    settings: Settings,
    config: RunnableConfig,
    emit: EventSink,
) -> list[BaseMessage]:
    """Stream one plan, run its tasks, and return the plan message and one result per task."""
    prior = prior_outcomes(turn)
    parser = PlanParser(specs, planned=list(prior))
    text: list[str] = []
    stream_error: str | None = None
    run_tag = uuid.uuid4().hex[:8]

    def job(task: PlannedTask) -> Job:
        return _job(task, tools, config, run_tag)

    with TaskFetchingUnit(
        max_concurrency=settings.max_concurrency,
        timeout=settings.task_timeout,
        on_event=lambda event: emit(task_event(event)),
        completed=prior,
    ) as tfu:
        try:
            for chunk in model.stream(messages, config):
                piece = _text(chunk.content)
                text.append(piece)
                for task in parser.feed(piece):
                    tfu.submit(job(task))
                if parser.done:
                    break
        except Exception as exc:  # the model's failure is an observation, not a crash
            stream_error = f"the planner's stream failed: {type(exc).__name__}: {exc}"
        for task in parser.close():
            tfu.submit(job(task))
        tfu.close()
        outcomes = tfu.wait()
    return _transcript(parser, outcomes, "".join(text), stream_error, run_tag)


def task_event(event: TaskEvent) -> dict[str, Any]:
    """Turn a scheduler event into a JSON-friendly custom stream event."""
    data: dict[str, Any] = {
        "type": "llmcompiler.task",
        "event": event.kind,
        "index": event.index,
        "tool": event.name,
        "args": _jsonable(event.args),
    }
    if event.outcome is not None:
        data.update(
            status=event.outcome.status,
            ok=event.outcome.ok,
            duration=round(event.outcome.duration, 6),
            error=event.outcome.error,
            observation=clip(_observation(event.outcome), 500),
        )
    return data


def _job(task: PlannedTask, tools: Mapping[str, BaseTool], config: RunnableConfig, tag: str) -> Job:
    if task.error is not None:
        return Job(task.index, task.name or "?", None, task.deps, task.error, task.args)
    tool = tools[task.name]
    tool_config = patch_config(config, run_name=tool.name)
    tool_config["metadata"] = {**tool_config.get("metadata", {}), "llmcompiler_task": task.index}
    # Each call runs in a copy of the node's context, so LangGraph's stream writer and tracing
    # context reach the tool on its worker thread.
    context = contextvars.copy_context()

    def call(deps: Mapping[int, object]) -> object:
        args = substitute(task.args, task.deps, deps, _result_text)
        return context.run(tool.invoke, args, tool_config)

    return Job(task.index, task.name, call, task.deps, None, task.args)


def _transcript(
    parser: PlanParser,
    outcomes: Mapping[int, Outcome],
    text: str,
    stream_error: str | None,
    tag: str,
) -> list[BaseMessage]:
    records, calls, results = [], [], []
    for task in parser.tasks:
        call_id = f"llmc_{tag}_{task.index if task.index > 0 else f'x{-task.index}'}"
        outcome = outcomes[task.index]
        records.append(
            {
                "index": task.index,
                "name": task.name,
                "args": _jsonable(task.args),
                "deps": sorted(task.deps),
                "thought": task.thought,
                "line": task.line,
                "id": call_id,
            }
        )
        calls.append({"name": task.name or "invalid_task", "args": _jsonable(task.args), "id": call_id, "type": "tool_call"})
        artifact: dict[str, Any] = {"index": task.index, "status": outcome.status}
        if outcome.ok and _small_json(outcome.value):
            artifact["value"] = outcome.value
        results.append(
            ToolMessage(
                content=clip(_observation(outcome)),
                tool_call_id=call_id,
                name=task.name or "invalid_task",
                status="success" if outcome.ok else "error",
                artifact=artifact,
            )
        )
    content = text if stream_error is None else f"{text}\n[{stream_error}]"
    marker = {"kind": "plan", "tasks": records, "thought": parser.final_thought, "error": stream_error}
    plan = AIMessage(content=content, tool_calls=calls, name="planner", additional_kwargs={KIND: marker})
    return [plan, *results]


def _observation(outcome: Outcome) -> str:
    return _result_text(outcome.value) if outcome.ok else str(outcome.error)


def _result_text(value: object) -> str:
    if isinstance(value, ToolMessage | AIMessage):
        return _text(value.content)
    return to_text(value)


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(b if isinstance(b, str) else str(b.get("text", "")) for b in content if isinstance(b, str | dict))
    return str(content)


def _small_json(value: object, limit: int = 20_000) -> bool:
    try:
        return len(json.dumps(value)) <= limit
    except (TypeError, ValueError, RecursionError):
        return False


def _jsonable(value: object) -> Any:
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError, RecursionError):
        return str(value)

