"""Shared test setup: keep every test offline. Helpers add fixtures below, surgically."""

from __future__ import annotations

import os

# Tests never reach LangSmith or LangGraph's version/analytics endpoints.
os.environ["LANGSMITH_TRACING"] = "false"
os.environ["LANGCHAIN_TRACING_V2"] = "false"
os.environ.setdefault("LANGGRAPH_CLI_NO_ANALYTICS", "1")
os.environ.setdefault("LANGGRAPH_NO_VERSION_CHECK", "true")


# -- shared fixtures -----------------------------------------------------------------------

import pytest
from fakes.apps import ScriptedApp, scripted_app


@pytest.fixture(name="scripted_app")
def scripted_app_fixture() -> type[ScriptedApp] | object:
    """Build an app with scripted models: ``scripted_app(plans, joins=..., **factory_options)``."""
    return scripted_app
