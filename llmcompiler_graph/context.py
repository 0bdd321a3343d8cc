"""Runtime settings: LangGraph's ``context_schema``, and how they combine with the factory's.

Anything set in the run's context (``graph.invoke(..., context={...})``, or an assistant's
context on LangGraph Platform) overrides what ``create_llm_compiler`` was given; fields
left ``None`` keep the factory's value.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass, field, fields, replace
from typing import Literal

from llmcompiler_graph.planner import prompts

__all__ = ["DEFAULT_MAX_CONCURRENCY", "PLAN_FORMATS", "Context", "PlanFormat", "Settings"]

PlanFormat = Literal["text", "tool_calls"]
PLAN_FORMATS: tuple[PlanFormat, ...] = ("text", "tool_calls")
"""How the planner writes plans: a numbered text plan, or native tool calls."""

DEFAULT_MAX_CONCURRENCY = 8
"""Tool calls running at once by default: enough for the paper's widest plans (8 searches).

Tool calls wait on I/O, so this is independent of the core count (the thread pool default
``min(32, cores + 4)`` would be 6 on a 2-core machine and serialize an 8-search plan).
"""


@dataclass(kw_only=True)
class Context:
    """Per-run settings; every field is optional and overrides the graph's default.

    Attributes:
        model: Planner model as ``"provider:name"`` or ``"name"`` (OpenAI-compatible), e.g.
            ``"openai:gpt-4o-mini"``. Used by graphs built without a model object.
        joiner_model: Joiner model, same form; defaults to ``model``.
        planner_prompt: Replaces :data:`llmcompiler_graph.planner.prompts.PLANNER_PROMPT`.
        joiner_prompt: Replaces :data:`llmcompiler_graph.planner.prompts.JOINER_PROMPT`.
        examples: Few-shot plan examples appended to the planner prompt.
        max_replans: Planning rounds allowed after the first.
        max_concurrency: Most tool calls running at once.
        task_timeout: Seconds one tool call may take before it becomes a timeout error.
        interrupt_before_tools: Tools whose calls wait for a human's approval (LangGraph
            ``interrupt``) before they run; ``["*"]`` for every tool. Needs a checkpointer.
        plan_format: ``"text"`` (the LLMCompiler plan format) or ``"tool_calls"`` (the
            planner makes native tool calls; ``$N`` in arguments refers to call N).

    """

    model: str | None = None
    joiner_model: str | None = None
    planner_prompt: str | None = None
    joiner_prompt: str | None = None
    examples: str | None = None
    max_replans: int | None = None
    max_concurrency: int | None = None
    task_timeout: float | None = None
    interrupt_before_tools: list[str] | None = None
    plan_format: PlanFormat | None = None


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The effective settings of one run (the factory's, overridden by the context)."""

    model: str | None = None
    joiner_model: str | None = None
    planner_prompt: str = prompts.PLANNER_PROMPT
    joiner_prompt: str = prompts.JOINER_PROMPT
    examples: str | None = None
    max_replans: int = 3
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    task_timeout: float | None = None
    interrupt_before_tools: frozenset[str] = frozenset()
    plan_format: PlanFormat = "text"
    extra: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Check the numbers, naming the setting and what values it takes."""
        if self.max_replans < 0:
            raise ValueError(f"max_replans must be 0 or more, got {self.max_replans}")
        if self.max_concurrency < 1:
            raise ValueError(
                f"max_concurrency must be 1 or more (or None for {DEFAULT_MAX_CONCURRENCY}), "
                f"got {self.max_concurrency}"
            )
        if self.task_timeout is not None and self.task_timeout <= 0:
            raise ValueError(
                f"task_timeout must be positive seconds or None, got {self.task_timeout}"
            )
        if isinstance(self.interrupt_before_tools, str) or not all(
            isinstance(name, str) for name in self.interrupt_before_tools
        ):
            raise ValueError(
                "interrupt_before_tools must be a list of tool names (or ['*'] for all), "
                f"got {self.interrupt_before_tools!r}"
            )

        if self.plan_format not in PLAN_FORMATS:
            raise ValueError(
                f"plan_format must be one of {', '.join(map(repr, PLAN_FORMATS))}, "
                f"got {self.plan_format!r}"
            )

    def needs_approval(self, tool: str) -> bool:
        """Tell whether calls of ``tool`` wait for a human's approval."""
        return tool in self.interrupt_before_tools or "*" in self.interrupt_before_tools

    def override(self, context: Context | None) -> Settings:
        """Return these settings with the context's non-``None`` fields applied."""
        if context is None:
            return self
        changes = {
            f.name: value
            for f in fields(Context)
            if (value := getattr(context, f.name, None)) is not None
        }
        if "interrupt_before_tools" in changes:
            changes["interrupt_before_tools"] = _names(changes["interrupt_before_tools"])
        return replace(self, **changes) if changes else self

    @staticmethod
    def env_model() -> str | None:
        """Return the model named by ``LLMCOMPILER_MODEL``, if set."""
        return os.environ.get("LLMCOMPILER_MODEL") or None


def _names(value: object) -> frozenset[str] | object:
    # A list from the context becomes a frozenset; anything else is left for validation.
    if isinstance(value, Collection) and not isinstance(value, str):
        return frozenset(value)
    return value
