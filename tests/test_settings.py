"""Settings are declared once (``Context``); factory, context, checks and docs derive from it."""

from __future__ import annotations

import asyncio
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from fakes.apps import scripted_app

from llmcompiler_graph import Context
from llmcompiler_graph.context import (
    DEFAULT_MAX_CONCURRENCY,
    effective_settings,
    explicit_settings,
    settings_table,
)
from llmcompiler_graph.nodes.task_runs import TaskRun
from llmcompiler_graph.sim import simulated_math_tool

SETTINGS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "guides" / "settings.md"
QUESTION = {"messages": [("user", "What is 2 + 3?")]}


PLAN = '1. math(problem="2 + 3")\n2. join()<END_OF_PLAN>'


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[Context]:
    """Record the effective settings every task run of a run was given."""
    recorded: list[Context] = []
    original = TaskRun.__init__

    def spy(self: TaskRun, **args: Any) -> None:
        recorded.append(args["settings"])
        original(self, **args)

    monkeypatch.setattr(TaskRun, "__init__", spy)
    return recorded


def app(**settings: Any) -> Any:
    joins = ["Thought: done.\nAction: Finish(5)"]
    return scripted_app(PLAN, joins=joins, tools=[simulated_math_tool()], **settings).app


def test_every_context_field_is_a_factory_keyword(seen: list[Context]) -> None:
    values = {"max_replans": 5, "max_concurrency": 3, "task_timeout": 7.5, "examples": "ex"}
    app(**values).invoke(QUESTION)
    assert {k: getattr(seen[-1], k) for k in values} == values
    assert {f.name for f in fields(Context)} >= {"max_replans", "interrupt_before_tools"}


def test_unknown_factory_setting_names_the_known_ones() -> None:
    with pytest.raises(TypeError, match=r"unknown setting\(s\) \['max_replan'\].*max_replans"):
        app(max_replan=2)


@pytest.mark.parametrize(
    ("name", "value", "msg"),
    [
        ("max_replans", -1, "max_replans must be a whole number, 0 or more, got -1"),
        ("max_concurrency", 0, "max_concurrency must be 1 or more, got 0"),
        ("task_timeout", 0, "task_timeout must be positive seconds or None, got 0"),
        ("interrupt_before_tools", [3], "interrupt_before_tools must be a list of tool names"),
    ],
)
def test_checks_name_the_setting_in_factory_and_context(name: str, value: Any, msg: str) -> None:
    with pytest.raises(ValueError, match=re.escape(msg)):
        app(**{name: value})
    with pytest.raises(ValueError, match=re.escape(msg)):
        Context(**{name: value})


def test_none_means_not_set_everywhere(seen: list[Context]) -> None:
    app(max_concurrency=None, task_timeout=None).invoke(QUESTION, context={"max_replans": None})
    assert seen[-1].max_concurrency == DEFAULT_MAX_CONCURRENCY
    assert seen[-1].max_replans == 3
    assert explicit_settings({"max_replans": None}) == {}


def test_context_overrides_factory_even_back_to_the_default(seen: list[Context]) -> None:
    graph = app(max_replans=5, max_concurrency=2, caller_may_loosen=["max_concurrency"])
    graph.invoke(QUESTION, context={"max_replans": 3})  # 3 is the declared default
    assert (seen[-1].max_replans, seen[-1].max_concurrency) == (3, 2)
    graph.invoke(QUESTION, context=Context(max_concurrency=DEFAULT_MAX_CONCURRENCY))
    assert (seen[-1].max_replans, seen[-1].max_concurrency) == (5, DEFAULT_MAX_CONCURRENCY)


def test_config_max_concurrency_lowers_the_factory_s_and_loses_to_context(
    seen: list[Context],
) -> None:
    graph = app(max_concurrency=6)
    graph.invoke(QUESTION, {"max_concurrency": 5})
    assert seen[-1].max_concurrency == 5
    graph.invoke(QUESTION, {"max_concurrency": 5}, context={"max_concurrency": 1})
    assert seen[-1].max_concurrency == 1
    asyncio.run(graph.ainvoke(QUESTION, {"max_concurrency": 4}))
    assert seen[-1].max_concurrency == 4
    graph.invoke(QUESTION, {"max_concurrency": 50})  # capped at the graph's value
    assert seen[-1].max_concurrency == 6


def test_effective_settings_precedence() -> None:
    defaults = Context(max_concurrency=8, max_replans=1)
    merged = effective_settings(defaults, {"max_replans": 0}, {"max_concurrency": 6})
    assert (merged.max_concurrency, merged.max_replans) == (6, 0)
    assert effective_settings(defaults, None, None) is defaults
    assert Context(interrupt_before_tools=["a"]).interrupt_before_tools == ("a",)


def test_the_docs_settings_table_is_generated_from_context() -> None:
    # docs/hooks.py replaces the marker with settings_table() when the site is built.
    assert "<!-- generated: settings -->" in SETTINGS_PAGE.read_text(encoding="utf-8")
    table = settings_table().splitlines()
    assert len(table) == 2 + len(fields(Context))
    for f in fields(Context):
        assert f.metadata["description"], f"setting {f.name} has no description"
        assert f"    {f.name}: " in (Context.__doc__ or "")


def test_studio_schema_carries_types_defaults_and_descriptions() -> None:
    schema = app().get_context_jsonschema()
    assert schema is not None
    props = schema["properties"]
    assert set(props) == {f.name for f in fields(Context)}
    assert props["max_replans"]["default"] == 3
    assert props["max_replans"]["description"].startswith("Planning rounds")
    assert props["interrupt_before_tools"]["type"] == "array"
