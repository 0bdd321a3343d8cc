"""Runtime settings: LangGraph's ``context_schema``, and how they combine with the factory's.

Anything set in the run's context (``graph.invoke(..., context={...})``, or an assistant's
context on LangGraph Platform) overrides what ``create_llm_compiler`` was given; fields
left ``None`` keep the factory's value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace

from llmcompiler_graph import prompts

__all__ = ["DEFAULT_MAX_CONCURRENCY", "Context", "Settings"]

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
        planner_prompt: Replaces :data:`llmcompiler_graph.prompts.PLANNER_PROMPT`.
        joiner_prompt: Replaces :data:`llmcompiler_graph.prompts.JOINER_PROMPT`.
        examples: Few-shot plan examples appended to the planner prompt.
        max_replans: Planning rounds allowed after the first.
        max_concurrency: Most tool calls running at once.
        task_timeout: Seconds one tool call may take before it becomes a timeout error.
    """

    model: str | None = None
    joiner_model: str | None = None
    planner_prompt: str | None = None
    joiner_prompt: str | None = None
    examples: str | None = None
    max_replans: int | None = None
    max_concurrency: int | None = None
    task_timeout: float | None = None


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
            raise ValueError(f"task_timeout must be positive seconds or None, got {self.task_timeout}")

    def override(self, context: Context | None) -> Settings:
        """Return these settings with the context's non-``None`` fields applied."""
        if context is None:
            return self
        changes = {
            f.name: value
            for f in fields(Context)
            if (value := getattr(context, f.name, None)) is not None
        }
        return replace(self, **changes) if changes else self

    @staticmethod
    def env_model() -> str | None:
        """Return the model named by ``LLMCOMPILER_MODEL``, if set."""
        return os.environ.get("LLMCOMPILER_MODEL") or None
