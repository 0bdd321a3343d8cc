"""Shared helpers: a failing joiner, a joiner that reports errors, thread checks.

The planner whose stream breaks is :class:`fakes.chat_models.FaultyPlanner`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from llmcompiler_graph.sim import ScriptedChatModel


class FailingJoiner(BaseChatModel):
    """A joiner model whose every call raises."""

    @property
    def _llm_type(self) -> str:
        return "failing-joiner"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise ConnectionError("joiner endpoint unreachable (simulated)")


def reporting_joiner() -> ScriptedChatModel:
    """A joiner that finishes with every error line it was shown (or 'all ok')."""

    def respond(messages: list[BaseMessage]) -> str:
        prompt = "\n".join(m.text for m in messages)
        errors = re.findall(r"(?:ERROR: |Planner error: )(.*)", prompt)
        summary = " | ".join(errors) if errors else "all ok"
        return f"Thought: reporting.\nAction: Finish(FAILED: {summary})"

    return ScriptedChatModel(responses=respond)


def scripted_planner(*plans: str) -> ScriptedChatModel:
    return ScriptedChatModel(responses=list(plans))


def run_bounded(fn: Callable[[], Any], limit: float = 60.0) -> Any:
    """Run ``fn`` on a helper thread; fail the test if it has not returned after ``limit`` s."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the test
            box["error"] = exc

    thread = threading.Thread(target=target, name="bounded-run", daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"the run did not finish within {limit} s"
    if "error" in box:
        raise box["error"]
    return box["value"]


def settle_threads(
    before: Sequence[threading.Thread],
    *,
    exclude: Sequence[threading.Thread] = (),
    wait: float = 10.0,
) -> list[threading.Thread]:
    """Join threads started since ``before`` (bounded); return those still alive.

    Threads in ``exclude`` (a tool known to ignore its timeout) are left alone.
    """
    known = {*before, *exclude}
    new = [t for t in threading.enumerate() if t not in known]
    for thread in new:
        thread.join(wait)
    return [t for t in new if t.is_alive()]
