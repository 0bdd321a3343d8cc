"""The command line answers a user error in one line, with the documented exit code.

Tracebacks only with ``--debug``. Every option has help text; ``--version`` prints the version.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmcompiler_graph import __version__
from llmcompiler_graph.cli import EXIT_CODES, build_parser, main

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "Were Scott Derrickson and Ed Wood of the same nationality?"


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMCOMPILER_MODEL", "scripted:demo-instant")
    for name in ("LLMCOMPILER_TOOLS", "LLMCOMPILER_PLAN_FORMAT", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def _one_line_error(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int = 2, *needles: str
) -> str:
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == code, (status, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert "Traceback" not in err and out == ""
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.mark.parametrize(
    ("env", "argv", "needles"),
    [
        ({"LLMCOMPILER_TOOLS": "nope"}, ["ask", QUESTION], ("LLMCOMPILER_TOOLS", "--tools")),
        ({}, ["ask", "--tools", "nope", QUESTION], ("--tools", "simulated")),
        ({}, ["ask", "--max-concurrency", "1000", QUESTION], ("max_concurrency", "64")),
        ({}, ["ask", "--task-timeout", "-1", QUESTION], ("task_timeout",)),
        ({}, ["ask", "--max-replans", "-2", QUESTION], ("max_replans",)),
        ({}, ["ask", "--max-replans", "lots", QUESTION], ("--max-replans", "lots")),
        ({"LLMCOMPILER_PLAN_FORMAT": "yaml"}, ["ask", QUESTION], ("LLMCOMPILER_PLAN_FORMAT",)),
        ({"LLMCOMPILER_MODEL": "scripted:nope"}, ["ask", QUESTION], ("nope",)),
        ({}, ["ask"], ("question",)),
        ({}, ["frobnicate"], ("frobnicate",)),
        ({}, ["demo", "--max-concurrency", "0"], ("--max-concurrency",)),
    ],
    ids=[
        "unknown-tool-set-env",
        "unknown-tool-set-option",
        "concurrency-too-high",
        "negative-timeout",
        "negative-replans",
        "not-a-number",
        "unknown-plan-format",
        "unknown-scripted-model",
        "missing-question",
        "unknown-command",
        "demo-concurrency-zero",
    ],
)
def test_a_user_error_is_one_line_and_exit_code_2(
    env: dict[str, str],
    argv: list[str],
    needles: tuple[str, ...],
    offline: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    line = _one_line_error(capsys, argv, 2, *needles)
    assert line.startswith("llmcompiler-graph")


def test_without_a_model_the_line_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("LLMCOMPILER_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    _one_line_error(capsys, ["ask", QUESTION], 2, "OPENAI_API_KEY", "llmcompiler-graph demo")


def test_debug_shows_the_traceback(
    offline: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMCOMPILER_TOOLS", "nope")
    assert main(["--debug", "ask", QUESTION]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "LLMCOMPILER_TOOLS" in err.strip().splitlines()[-1]
    assert main(["ask", "--debug", QUESTION]) == 2  # after the command too
    assert "Traceback" in capsys.readouterr().err


def test_an_unexpected_error_is_one_line_too_and_exit_code_3(
    offline: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("something inside broke")

    monkeypatch.setattr("llmcompiler_graph.compiler.create_llm_compiler", broken)
    line = _one_line_error(capsys, ["ask", QUESTION], 3, "something inside broke", "--debug")
    assert "RuntimeError" in line


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"llmcompiler-graph {__version__}"


def test_tools_option_runs_offline(offline: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--tools", "simulated", QUESTION]) == 0
    out = capsys.readouterr().out
    assert "American" in out.split("Answer:", 1)[1]


def test_the_option_wins_over_the_environment(
    offline: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMCOMPILER_TOOLS", "nope")
    assert main(["ask", "--tools", "simulated", QUESTION]) == 0


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


def test_every_option_of_every_command_has_help() -> None:
    parser = build_parser()
    commands = _commands(parser)
    assert set(commands) == {"ask", "demo"}
    for name, command in {"": parser, **commands}.items():
        undocumented = [
            action.option_strings or action.dest
            for action in command._actions
            if not action.help and not isinstance(action, argparse._SubParsersAction)
        ]
        assert undocumented == [], name
        assert command.description or name == "", name


def test_exit_codes_are_documented_for_each_outcome() -> None:
    assert set(EXIT_CODES) == {0, 1, 2, 3, 130}
    assert all(len(meaning) > 20 for meaning in EXIT_CODES.values())


def test_the_installed_command_prints_no_traceback_for_a_user_error(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("llmcompiler-graph")
    if not script.exists():
        pytest.skip("the console script is not installed (pip install -e .)")
    env = {**os.environ, "LLMCOMPILER_TOOLS": "nope", "LLMCOMPILER_MODEL": "scripted:demo"}
    done = subprocess.run(
        [str(script), "ask", QUESTION],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
