"""Turn a model name from configuration into a chat model.

Names are ``"provider:model"`` or a bare model name:

* any provider :func:`langchain.chat_models.init_chat_model` knows: ``"anthropic:<model>"``,
  ``"ollama:<model>"``, ``"google_genai:<model>"``, ``"groq:<model>"`` ... The provider's
  package (``langchain-anthropic``, ``langchain-ollama`` ...) must be installed; when it is
  not, the error names the package to install. Credentials come from the provider's usual
  environment variables.
* ``openai:gpt-4o-mini`` or a bare name (``gpt-4o-mini``, ``qwen2.5``):
  :class:`langchain_openai.ChatOpenAI`, which reads ``OPENAI_API_KEY`` and
  ``OPENAI_BASE_URL``. With ``OPENAI_BASE_URL`` set and no key, a placeholder key is used,
  since local servers (vLLM, Ollama, llama.cpp) need none.
* ``scripted:<name>``: a scripted model registered with :func:`register_model`, for
  offline demos and tests (see :mod:`llmcompiler_graph.sim`). Built in:
  ``scripted:demo``, ``scripted:demo-instant`` and ``scripted:echo``
  (:mod:`llmcompiler_graph.sim.demo_model`).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Collection, Mapping
from contextvars import ContextVar
from typing import Any

from langchain_core.language_models import BaseChatModel

from llmcompiler_graph.errors import ModelNotConfiguredError

__all__ = ["RUN_MODEL", "register_model", "resolve_model", "unplannable_tools"]

DEFAULT_MODEL = "openai:gpt-4o-mini"

RUN_MODEL: ContextVar[BaseChatModel | None] = ContextVar("llmcompiler_run_model", default=None)
"""The planner model of the run in progress, set by ``plan_and_schedule`` so that tools
built for "the run's model" (``make_math_tool()``) use it; ``None`` outside a run."""

_registry: dict[str, Callable[[], BaseChatModel]] = {}
_lock = threading.Lock()


def register_model(name: str, factory: Callable[[], BaseChatModel]) -> None:
    """Make ``scripted:<name>`` resolve to ``factory()`` (called once per run)."""
    with _lock:
        _registry[name] = factory


def resolve_model(spec: str | None) -> BaseChatModel:
    """Build the chat model named by ``spec`` (``None``: ``LLMCOMPILER_MODEL`` or the default).

    Raises:
        ModelNotConfiguredError: If the model needs a key or server that is not configured.

    """
    spec = spec or os.environ.get("LLMCOMPILER_MODEL") or DEFAULT_MODEL
    provider, _, name = spec.partition(":") if ":" in spec else ("openai", "", spec)
    if provider == "scripted":
        with _lock:
            factory = _registry.get(name)
        if factory is None:
            factory = _builtin_scripts().get(name)
        if factory is None:
            known = ", ".join(sorted({*_registry, *_builtin_scripts()})) or "none"
            raise ModelNotConfiguredError(
                f"no scripted model named {name!r}; registered: {known}. "
                "Register one with llmcompiler_graph.models.register_model()."
            )
        return factory()
    if provider != "openai":
        return _init_by_name(spec, provider, name)
    key = os.environ.get("OPENAI_API_KEY")
    base_url = os.environ.get("OPENAI_BASE_URL")
    if not key and not base_url:
        raise ModelNotConfiguredError(
            "No model is configured. Set OPENAI_API_KEY for OpenAI, or OPENAI_BASE_URL for an "
            "OpenAI-compatible server (vLLM, Ollama, llama.cpp), and optionally "
            f"LLMCOMPILER_MODEL (now {spec!r}), or name another provider "
            "('anthropic:<model>', 'ollama:<model>' ...). See .env.example."
        )
    from pydantic import SecretStr

    # stream_usage: report token usage when streaming, also from OpenAI-compatible servers.
    return _init_by_name(
        spec,
        "openai",
        name,
        api_key=SecretStr(key or "not-needed"),
        base_url=base_url,
        temperature=0,
        stream_usage=True,
    )


def unplannable_tools(model: BaseChatModel, spec: str, tools: Collection[str]) -> str | None:
    """Say why ``model`` cannot plan for ``tools``, or return ``None`` if it can.

    A scripted model may declare the tools its script plans calls to (``plans_for``: the
    built-in ``scripted:demo`` plans only ``search`` and ``math``). A graph with none of them
    would run plans calling tools it does not have, so it is refused. ``spec`` names the
    model in the message.
    """
    plans_for = getattr(model, "plans_for", None)
    if not plans_for or set(plans_for) & set(tools):
        return None
    return (
        f"model {spec!r} is a script that plans calls to {', '.join(sorted(plans_for))} only, "
        f"and this graph has none of them (its tools: {', '.join(sorted(tools)) or 'none'}). "
        "To try your own tools offline, script the plans yourself: "
        "ScriptedChatModel(responses=[plan, answer]) from llmcompiler_graph.sim, where plan is "
        "the numbered plan a model would write for your tools"
    )


def _init_by_name(spec: str, provider: str, name: str, **kwargs: Any) -> BaseChatModel:
    from langchain.chat_models import init_chat_model

    try:
        model = init_chat_model(name, model_provider=provider, **kwargs)
    except ImportError as exc:  # the provider's package is missing; the message names it
        package = _package_of(exc)
        raise ModelNotConfiguredError(
            f"model {spec!r} needs the package {package}: pip install {package}"
        ) from exc
    except ValueError as exc:
        if "Unsupported" not in str(exc):
            raise ModelNotConfiguredError(f"model {spec!r} could not be created: {exc}") from exc
        raise ModelNotConfiguredError(
            f"unknown model provider {provider!r} in {spec!r}. {str(exc).split(chr(10))[-1]}. "
            "For an OpenAI-compatible server write 'openai:<model>' and set OPENAI_BASE_URL, "
            "or pass a chat model object to create_llm_compiler(model=...)."
        ) from exc
    except Exception as exc:  # e.g. a missing API key: the provider's own message says which
        raise ModelNotConfiguredError(
            f"model {spec!r} could not be created: {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(model, BaseChatModel):  # only a model without a name is configurable
        raise ModelNotConfiguredError(f"model {spec!r} did not resolve to a chat model")
    return model


def _package_of(exc: ImportError) -> str:
    found = re.search(r"requires the ([\w.-]+) package", str(exc))
    if found:
        return found.group(1)
    module = exc.name or "the provider's integration package"
    return module.split(".", 1)[0].replace("_", "-")


def _builtin_scripts() -> Mapping[str, Callable[[], BaseChatModel]]:
    # Imported lazily to keep start-up light.
    from llmcompiler_graph.sim.demo_model import BUILTIN_MODELS

    return BUILTIN_MODELS
