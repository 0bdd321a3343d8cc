"""The package's exceptions: one base, :class:`LLMCompilerError`, and what a user may catch.

Each also derives from the built-in exception it has always been (``ValueError``,
``RuntimeError``), so ``except ValueError`` keeps working::

    try:
        app = create_llm_compiler(model, tools, max_concurrency=0)
    except LLMCompilerError as exc:  # a ConfigurationError here
        print(exc)  # names the setting and its accepted values

A tool's own failure inside a run is not raised: it becomes that task's observation, which
the joiner reads (and may replan on).
"""

from __future__ import annotations

from llmcompiler_graph.redact import redact

__all__ = [
    "ApprovalAnswerError",
    "CalculatorError",
    "ConfigurationError",
    "FunctionSpecError",
    "LLMCompilerError",
    "ModelNotConfiguredError",
    "PlanFormatError",
    "SchedulerError",
    "ScriptExhaustedError",
    "SearchError",
]


class LLMCompilerError(Exception):
    """Base of every exception this package raises on purpose."""


class ConfigurationError(LLMCompilerError, ValueError):
    """A setting, tool list or ``LLMCOMPILER_*`` variable is invalid; the message names it.

    Raised when the graph is built (``create_llm_compiler``, the served graph) or when a
    run's context holds a value its check refuses.
    """


class PlanFormatError(ConfigurationError):
    """The planner model cannot write plans in the chosen ``plan_format``."""


class ModelNotConfiguredError(LLMCompilerError, RuntimeError):
    """No usable model is configured (no key, server or package); the message says what to set."""


class ApprovalAnswerError(LLMCompilerError, ValueError):
    """A reviewer's answer to an approval request cannot be read.

    The run stays paused; the message shows the accepted shapes.
    """


class SchedulerError(LLMCompilerError, RuntimeError):
    """The task fetching unit was used against its protocol: a caller bug, not a task failure."""


class FunctionSpecError(LLMCompilerError, ValueError):
    """A JSON-schema function spec cannot be turned into a tool; the message names the part."""


class CalculatorError(LLMCompilerError, ValueError):
    """An expression the safe calculator refuses or cannot evaluate; the message says why."""


class SearchError(LLMCompilerError, RuntimeError):
    """The demo search backend could not be reached or gave an unusable answer.

    The message never holds credentials: URLs in it are redacted (``user:pass@`` and
    secret-looking query parameters such as ``token=`` become ``***``).
    """

    def __init__(self, message: str) -> None:
        """Keep ``message`` with the credentials in its URLs hidden."""
        super().__init__(redact(message))


class ScriptExhaustedError(LLMCompilerError, RuntimeError):
    """A scripted chat model was called more often than it has replies."""
