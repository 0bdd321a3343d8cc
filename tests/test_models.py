"""Model names resolve with ``init_chat_model``: any provider, clear errors, scripted offline."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.errors import ModelNotConfiguredError
from llmcompiler_graph.models import resolve_model
from llmcompiler_graph.sim import ScriptedChatModel, simulated_math_tool

QUESTION = {"messages": [("user", "What is 2 + 2?")]}


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LLMCOMPILER_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def missing(module: str) -> bool:
    return importlib.util.find_spec(module) is None


@pytest.mark.parametrize(
    ("spec", "module", "package"),
    [
        ("anthropic:claude-3-5-haiku-latest", "langchain_anthropic", "langchain-anthropic"),
        ("ollama:llama3.1", "langchain_ollama", "langchain-ollama"),
        ("mistralai:mistral-small-latest", "langchain_mistralai", "langchain-mistralai"),
    ],
)
def test_a_missing_provider_package_is_named(spec: str, module: str, package: str) -> None:
    if not missing(module):
        pytest.skip(f"{package} is installed here")
    with pytest.raises(ModelNotConfiguredError, match=f"needs the package {package}: pip install"):
        resolve_model(spec)


def test_a_graph_with_a_missing_provider_answers_what_to_install(no_env: None) -> None:
    if not missing("langchain_anthropic"):
        pytest.skip("langchain-anthropic is installed here")
    app = create_llm_compiler("anthropic:claude-3-5-haiku-latest", [simulated_math_tool()])
    for out in (app.invoke(QUESTION), asyncio.run(app.ainvoke(QUESTION))):
        assert "pip install langchain-anthropic" in str(out["messages"][-1].content)
        assert len(out["messages"]) == 2  # the question and the notice; nothing ran


def test_unknown_provider_lists_the_supported_ones() -> None:
    with pytest.raises(ModelNotConfiguredError, match=r"unknown model provider 'foo'.*anthropic"):
        resolve_model("foo:bar")


def test_openai_names_bare_and_prefixed(no_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelNotConfiguredError, match="OPENAI_API_KEY"):
        resolve_model("gpt-4o-mini")
    no_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # a local server: no key needed
    for spec in ("qwen2.5", "openai:qwen2.5"):
        model = resolve_model(spec)
        assert isinstance(model, ChatOpenAI)
        assert (model.model_name, model.stream_usage, model.temperature) == ("qwen2.5", True, 0)
        assert model.openai_api_key is not None
        assert model.openai_api_key.get_secret_value() == "not-needed"


def test_another_installed_provider_resolves_through_init_chat_model(
    no_env: pytest.MonkeyPatch,
) -> None:
    # azure_openai lives in langchain-openai, which is installed: proof that names other
    # than openai go through init_chat_model (its constructor reports the missing setting).
    with pytest.raises(ModelNotConfiguredError, match="'azure_openai:gpt-4o' could not be"):
        resolve_model("azure_openai:gpt-4o")
    no_env.setenv("AZURE_OPENAI_API_KEY", "k")
    no_env.setenv("AZURE_OPENAI_ENDPOINT", "http://127.0.0.1:9")
    no_env.setenv("OPENAI_API_VERSION", "2024-06-01")
    model = resolve_model("azure_openai:gpt-4o")
    assert isinstance(model, BaseChatModel) and type(model).__name__ == "AzureChatOpenAI"


def test_scripted_models_still_resolve() -> None:
    assert isinstance(resolve_model("scripted:demo-instant"), ScriptedChatModel)
