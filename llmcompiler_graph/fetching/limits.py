"""Per-tool limits: calls of one tool running at once, and requests per second.

Sans-IO like the rest of the core: a :class:`ToolLimits` is asked how much room a tool has
*now* and, when a tool waits only for its rate, *when* it will have room again; the
driver sets a timer for that instant (no polling, no sleeping worker).

Why not ``langchain_core.rate_limiters.InMemoryRateLimiter``: its ``acquire`` sleeps in a
polling loop on the caller's thread (it would hold a worker, or block the event loop),
and this layer imports nothing from LangChain. The graph layer converts such a limiter's
``requests_per_second`` and ``max_bucket_size`` into a :class:`RateLimit`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from llmcompiler_graph.errors import SchedulerError
from llmcompiler_graph.fetching.jobs import clamp_concurrency

__all__ = ["RateLimit", "ToolLimits"]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket: ``per_second`` requests on average, at most ``burst`` at once."""

    per_second: float
    burst: int = 1

    def __post_init__(self) -> None:
        """Check the numbers."""
        if not self.per_second > 0 or self.burst < 1:
            raise SchedulerError(
                f"a rate limit needs per_second > 0 and burst >= 1, got {self.per_second}/s, "
                f"burst {self.burst}"
            )


class _Bucket:
    def __init__(self, limit: RateLimit, now: float) -> None:
        self.limit = limit
        self.tokens = float(limit.burst)
        self.at = now

    def refill(self, now: float) -> None:
        gained = (now - self.at) * self.limit.per_second
        self.tokens = min(float(self.limit.burst), self.tokens + max(0.0, gained))
        self.at = max(self.at, now)

    def next_token_at(self) -> float:
        return self.at + max(0.0, 1.0 - self.tokens) / self.limit.per_second


class ToolLimits:
    """How many calls each tool may start now; tools not named are unlimited."""

    def __init__(
        self,
        concurrency: Mapping[str, int] | None = None,
        rates: Mapping[str, RateLimit | float] | None = None,
        *,
        now: float = 0.0,
    ) -> None:
        """Set the limits.

        Args:
            concurrency: Most calls of a tool running at once (clamped to the global ceiling).
            rates: Requests per second per tool, as a number or a :class:`RateLimit`.
            now: The clock's time when the run starts (buckets start full).

        Raises:
            SchedulerError: For a limit below 1 or a non-positive rate.

        """
        for tool, limit in (concurrency or {}).items():
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise SchedulerError(
                    f"tool_limits[{tool!r}] must be an int of at least 1, got {limit!r}"
                )
        self._cap = {t: clamp_concurrency(n) for t, n in (concurrency or {}).items()}
        self._buckets = {
            tool: _Bucket(rate if isinstance(rate, RateLimit) else RateLimit(float(rate)), now)
            for tool, rate in (rates or {}).items()
        }
        self._running: dict[str, int] = {}

    @property
    def any(self) -> bool:
        """Tell whether any tool is limited."""
        return bool(self._cap or self._buckets)

    def room(self, tool: str, now: float) -> int:
        """Return how many more calls of ``tool`` may start now (a large number if unlimited)."""
        room = self._cap.get(tool, 1 << 30) - self._running.get(tool, 0)
        bucket = self._buckets.get(tool)
        if bucket is not None:
            bucket.refill(now)
            room = min(room, int(bucket.tokens))
        return max(0, room)

    def wake_at(self, tool: str) -> float | None:
        """Return when a rate-limited tool with free slots gets its next token, else ``None``."""
        bucket = self._buckets.get(tool)
        if bucket is None or self._running.get(tool, 0) >= self._cap.get(tool, 1 << 30):
            return None
        return bucket.next_token_at() if bucket.tokens < 1 else None

    def acquire(self, tool: str, now: float) -> None:
        """Count a call of ``tool`` that starts now."""
        self._running[tool] = self._running.get(tool, 0) + 1
        bucket = self._buckets.get(tool)
        if bucket is not None:
            bucket.refill(now)
            bucket.tokens -= 1

    def release(self, tool: str) -> None:
        """Count a call of ``tool`` that ended."""
        self._running[tool] -= 1

    def running(self, tool: str) -> int:
        """Return how many calls of ``tool`` are running."""
        return self._running.get(tool, 0)
