"""The `ask` command: offline with the built-in scripted model, and without any model."""

from __future__ import annotations

import pytest

from llmcompiler_graph.cli import main


def test_ask_shows_tasks_as_they_run_and_the_answer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMCOMPILER_MODEL", "scripted:demo-instant")
    monkeypatch.setenv("LLMCOMPILER_TOOLS", "simulated")
    status = main(["ask", "Were Scott Derrickson and Ed Wood of the same nationality?"])
    out = capsys.readouterr().out
    assert status == 0
    assert "] search started" in out
    assert "search ok in" in out
    answer = out.split("Answer:", 1)[1]
    assert "American" in answer


def test_ask_without_a_model_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("LLMCOMPILER_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    status = main(["ask", "anything"])
    err = capsys.readouterr().err
    assert status == 2
    assert "OPENAI_API_KEY" in err and "OPENAI_BASE_URL" in err
    assert "llmcompiler-graph demo" in err


def test_ask_rejects_an_unknown_tool_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMCOMPILER_MODEL", "scripted:demo-instant")
    monkeypatch.setenv("LLMCOMPILER_TOOLS", "nonsense")
    assert main(["ask", "anything"]) == 2
    assert "LLMCOMPILER_TOOLS='nonsense' is not a tool set" in capsys.readouterr().err
