"""How a setting of :class:`~llmcompiler_graph.context.Context` is declared and checked.

Holds :func:`setting` (declares one field with its description and check), the
:data:`Check` type and each setting's check, and the values some settings take
(:data:`DEFAULT_MAX_CONCURRENCY`, :data:`FUSE_MODES`, :data:`PLAN_FORMATS`). The settings
themselves are declared once, as the fields of ``Context``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import field
from typing import Any, Literal

from llmcompiler_graph.fetching.jobs import MAX_CONCURRENCY

__all__ = [
    "DEFAULT_MAX_CONCURRENCY",
    "FUSE_MODES",
    "PLAN_FORMATS",
    "Check",
    "FuseMode",
    "PlanFormat",
    "at_least",
    "check_concurrency",
    "check_fuse",
    "check_plan_format",
    "check_positive_seconds",
    "check_priority",
    "check_rates",
    "check_tool_limits",
    "check_tool_names",
    "setting",
]

DEFAULT_MAX_CONCURRENCY = 8
"""Tool calls running at once by default: enough for the paper's widest plans (8 searches).

Tool calls wait on I/O, so this is independent of the core count (the thread pool default
``min(32, cores + 4)`` would be 6 on a 2-core machine and serialize an 8-search plan).
"""

FuseMode = Literal["waiting", "plan", "off"]
FUSE_MODES: tuple[FuseMode, ...] = ("waiting", "plan", "off")
"""How calls of a batched tool are fused (see the ``fuse`` setting)."""

PlanFormat = Literal["text", "tool_calls"]
PLAN_FORMATS: tuple[PlanFormat, ...] = ("text", "tool_calls")
"""How the planner writes plans: a numbered text plan, or native tool calls."""

Check = Callable[[Any], str | None]
"""Return what is wrong with a value (``"must be 1 or more"``), or ``None`` if it is fine."""


def setting(default: Any, description: str, *, check: Check | None = None, shown: str = "") -> Any:
    """Declare one setting: a dataclass field with its description and check.

    Args:
        default: The value when neither the factory nor the run's context sets it.
        description: One sentence for the docs (the README table, the factory's docstring,
            the JSON schema Studio shows).
        check: Validates a value; returns the problem as text, or ``None``.
        shown: How the docs show the default, when its ``repr`` is too long.

    """
    metadata = {"description": description, "check": check, "shown": shown}
    return field(default=default, metadata=metadata)


def at_least(low: int) -> Check:
    """Return a check that a value is an int of at least ``low``."""
    return lambda v: None if isinstance(v, int) and v >= low else f"must be {low} or more"


def check_concurrency(value: Any) -> str | None:
    """Check a concurrency limit: an int from 1 to ``MAX_CONCURRENCY``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return "must be 1 or more"
    if value > MAX_CONCURRENCY:
        return (
            f"must be at most {MAX_CONCURRENCY} (MAX_CONCURRENCY: each sync call may hold a thread)"
        )
    return None


def check_tool_limits(value: Any) -> str | None:
    """Check ``tool_limits``: ``None`` or tool names mapped to concurrency limits."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or any(check_concurrency(n) for n in value.values()):
        return f"must map tool names to limits from 1 to {MAX_CONCURRENCY}, e.g. {{'search': 2}}"
    return None


def check_rates(value: Any) -> str | None:
    """Check ``tool_rate_limits``: ``None`` or tool names mapped to rates (> 0) or limiters."""

    def ok(rate: Any) -> bool:
        rate = getattr(rate, "requests_per_second", rate)  # an InMemoryRateLimiter
        return isinstance(rate, int | float) and not isinstance(rate, bool) and rate > 0

    if value is None or (isinstance(value, Mapping) and all(ok(r) for r in value.values())):
        return None
    return "must map tool names to requests per second (> 0), e.g. {'search': 5}"


def check_priority(value: Any) -> str | None:
    """Check ``priority``: ``"fifo"`` or ``"critical_path"``."""
    return None if value in ("fifo", "critical_path") else "must be 'fifo' or 'critical_path'"


def check_fuse(value: Any) -> str | None:
    """Check ``fuse``: one of :data:`FUSE_MODES`."""
    return None if value in FUSE_MODES else "must be 'waiting', 'plan' or 'off'"


def check_positive_seconds(value: Any) -> str | None:
    """Check a duration: positive seconds, or ``None`` for no limit."""
    ok = value is None or (isinstance(value, int | float) and value > 0)
    return None if ok else "must be positive seconds or None"


def check_plan_format(value: Any) -> str | None:
    """Check ``plan_format``: one of :data:`PLAN_FORMATS`."""
    return None if value in PLAN_FORMATS else "must be one of 'text', 'tool_calls'"


def check_tool_names(value: Any) -> str | None:
    """Check a list of tool names (not a bare string)."""
    ok = not isinstance(value, str) and all(isinstance(name, str) for name in value)
    return None if ok else "must be a list of tool names (or ['*'] for all)"
