"""The `ask` command: offline with the built-in scripted model, and without any model."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from fakes.chat_models import FaultyPlanner
from langchain_core.messages import BaseMessage
from langchain_core.tools import BaseTool, tool

from benchmarks import cli as bench_cli
from llmcompiler_graph.cli import main
from llmcompiler_graph.models import register_model
from llmcompiler_graph.server import DEMO_CORPUS
from llmcompiler_graph.sim import ScriptedChatModel, simulated_math_tool, simulated_search_tool
from llmcompiler_graph.sim.demo_model import _is_joiner, demo_reply


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


# -- exit codes and whole error text ---------------------------------------------

BENCHMARKS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "index.md"
LONG_FIX = "then set SEARCH_ENDPOINT to a reachable server; this fix is at the very end"


@pytest.fixture
def offline_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    """Instant simulated tools for `ask`, whatever LLMCOMPILER_TOOLS says."""
    monkeypatch.setattr(
        "llmcompiler_graph.server.served_tools",
        lambda **_: [
            simulated_search_tool(latency_s=0.0, jitter_s=0.0, corpus=DEMO_CORPUS),
            simulated_math_tool(latency_s=0.0),
        ],
    )


def _failing_search(**_: object) -> list[BaseTool]:
    @tool
    def search(query: str) -> str:
        """Search the web."""
        raise ConnectionError(f"search backend unreachable for {query!r}: {'x' * 150} {LONG_FIX}")

    return [search]


def test_ask_exits_1_when_every_task_fails_and_prints_the_whole_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMCOMPILER_MODEL", "scripted:demo-instant")
    monkeypatch.delenv("LLMCOMPILER_TOOLS", raising=False)
    monkeypatch.setattr("llmcompiler_graph.server.served_tools", _failing_search)
    status = main(["ask", "--max-replans", "0", "Were Scott Derrickson and Ed Wood both American?"])
    out, err = capsys.readouterr()
    assert status == 1
    error_lines = [line for line in out.splitlines() if "search error in" in line]
    assert len(error_lines) >= 2 and all(line.endswith(LONG_FIX) for line in error_lines)
    assert f"every task failed ({len(error_lines)} of {len(error_lines)})" in err
    assert "LLMCOMPILER_TOOLS=simulated" in err


def test_ask_offline_hint_is_not_given_when_the_tools_are_already_simulated(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMCOMPILER_MODEL", "scripted:demo-instant")
    monkeypatch.setenv("LLMCOMPILER_TOOLS", "simulated")
    monkeypatch.setattr("llmcompiler_graph.server.served_tools", _failing_search)
    assert main(["ask", "--max-replans", "0", "Who is Ed Wood?"]) == 1
    err = capsys.readouterr().err
    assert "every task failed" in err and "LLMCOMPILER_TOOLS=simulated" not in err


def test_ask_exits_1_when_no_model_is_reachable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], offline_tools: None
) -> None:
    register_model(
        "unreachable",
        lambda: FaultyPlanner(chunks=[], error="Connection error.", error_type=ConnectionError),
    )
    monkeypatch.setenv("LLMCOMPILER_MODEL", "scripted:unreachable")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    status = main(["ask", "Who is Ed Wood?"])
    out, err = capsys.readouterr()
    assert status == 1
    assert "the planner's stream failed: ConnectionError: Connection error." in out
    assert "the joiner model failed, so there is no answer" in err
    assert "No model was reachable at http://127.0.0.1:9/v1" in err


def test_ask_exits_1_when_the_replan_limit_is_hit_without_an_answer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], offline_tools: None
) -> None:
    def never_satisfied(messages: list[BaseMessage]) -> str:
        if _is_joiner(messages):
            return "Thought: not enough yet.\nAction: Replan(one more search)"
        return demo_reply(messages)

    register_model("never-satisfied", lambda: ScriptedChatModel(responses=never_satisfied))
    monkeypatch.setenv("LLMCOMPILER_MODEL", "scripted:never-satisfied")
    status = main(["ask", "--max-replans", "1", "Who is Ed Wood?"])
    out, err = capsys.readouterr()
    assert status == 1
    assert out.count("~ Replanning: one more search") == 1
    assert "could not complete this within 1 replan(s)" in out
    assert "the replan limit was reached without an answer" in err


def test_ask_exits_0_with_an_answer_even_if_some_tasks_failed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def half_broken(**_: object) -> list[BaseTool]:
        @tool
        def search(query: str) -> str:
            """Search the web."""
            if "Wood" in query:
                raise LookupError("no page for Ed Wood")
            return DEMO_CORPUS["Scott Derrickson"]

        return [search]

    monkeypatch.setenv("LLMCOMPILER_MODEL", "scripted:demo-instant")
    monkeypatch.setattr("llmcompiler_graph.server.served_tools", half_broken)
    status = main(["ask", "--max-replans", "0", "Were Scott Derrickson and Ed Wood American?"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "search ok in" in out and "search error in" in out


def test_every_demo_and_bench_option_has_help_and_the_docs_give_the_same_times() -> None:
    parser = argparse.ArgumentParser()
    bench_cli.add_commands(parser.add_subparsers(dest="command"))
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name in ("demo", "bench", "limits"):
        undocumented = [
            a.option_strings
            for a in commands.choices[name]._actions
            if a.option_strings and not a.help
        ]
        assert undocumented == [], name
    page = BENCHMARKS_PAGE.read_text(encoding="utf-8")
    assert f"python -m benchmarks demo    # {bench_cli.DEMO_TIME}:" in page
    assert f"python -m benchmarks bench   # {bench_cli.BENCH_TIME} on 2 cores:" in page
    assert bench_cli.DEMO_TIME in commands.choices["demo"].description
    assert bench_cli.BENCH_TIME in commands.choices["bench"].description


def test_demo_answers_offline_with_the_scripted_model_and_simulated_tools(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("LLMCOMPILER_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LLMCOMPILER_TOOLS", "demo")  # the command chooses the offline tools
    status = main(["demo"])  # the paper's example: Scott Derrickson and Ed Wood
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.count("search ok in") == 2
    assert "American" in out.split("Answer:", 1)[1]
