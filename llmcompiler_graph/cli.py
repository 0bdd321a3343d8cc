"""Command line: ``llmcompiler-graph ask|demo``.

``ask`` answers a question with a real model and the demo tools; ``demo`` does the same
offline, with the scripted demo model and simulated tools (no key, no network). The benchmark
suite is not part of the package: run it from a clone with ``python -m benchmarks``.

Every user error (an option's or an environment variable's value, an unknown tool set, no
model configured) is one line on stderr that names what to change, and the exit code says
which kind of outcome it was (:data:`EXIT_CODES`); ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

__all__ = ["DEMO_QUESTION", "EXIT_CODES", "build_parser", "main"]

PROG = "llmcompiler-graph"

DEMO_QUESTION = "Were Scott Derrickson and Ed Wood of the same nationality?"
"""What ``llmcompiler-graph demo`` asks when no question is given (the paper's example)."""

EXIT_CODES: dict[int, str] = {
    0: "answered (even if some tasks failed; their errors are printed)",
    1: "the run ended without an answer: no model was reachable, every task failed, or the "
    "replan limit was reached (the reason is on stderr)",
    2: "nothing ran: a usage or configuration error (an option's or an environment "
    "variable's value, an unknown tool set, no model configured); the line says what to change",
    3: "an unexpected internal error, a bug: the line names it, `--debug` shows the traceback",
    130: "interrupted (Ctrl-C): the run was stopped where it was",
}
"""The exit codes of every command, by code (the CLI reference page lists them)."""


class _UsageError(Exception):
    """A mistake in the command line or the environment: one line on stderr, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (argparse's own print the usage first)."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    """Return the command line's parser: every command and option, each with its help."""
    from llmcompiler_graph import __version__
    from llmcompiler_graph.context import PLAN_FORMATS
    from llmcompiler_graph.server import PLAN_FORMAT_ENV, TOOL_SETS, TOOLS_ENV

    parser = _Parser(
        prog=PROG,
        description="LLMCompiler on LangGraph: a planner writes every tool call at once, each "
        "call runs as soon as its inputs are ready, a joiner answers or replans.",
        epilog="exit codes: "
        + "; ".join(f"{code} {meaning.split(':')[0]}" for code, meaning in EXIT_CODES.items()),
    )
    parser.add_argument(
        "--version", action="version", version=f"{PROG} {__version__}", help="print the version"
    )
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    ask = commands.add_parser(
        "ask",
        help="answer a question with a real model and the demo tools",
        description="Answer a question with a chat model (--model, else $LLMCOMPILER_MODEL, "
        "else openai:gpt-4o-mini) and a tool set (--tools): print each task as it starts and "
        "ends, then the answer.",
    )
    ask.add_argument("question", help="the question to answer")
    ask.add_argument(
        "--model",
        help="the chat model: any name init_chat_model knows (openai:gpt-4o-mini, "
        "anthropic:claude-3-5-haiku-latest, ollama:llama3.1 ...) or scripted:demo offline "
        "(default: $LLMCOMPILER_MODEL, else openai:gpt-4o-mini)",
    )
    ask.add_argument(
        "--tools",
        choices=TOOL_SETS,
        help="the tool set: demo (Wikipedia search and math) or simulated (offline look-alikes) "
        f"(default: ${TOOLS_ENV}, else demo)",
    )
    ask.add_argument(
        "--plan-format",
        choices=PLAN_FORMATS,
        help="how the planner writes its plan: text (numbered calls) or tool_calls (native "
        f"tool calls) (default: ${PLAN_FORMAT_ENV}, else text)",
    )
    _add_run_options(ask)
    demo = commands.add_parser(
        "demo",
        help="answer a question offline: the scripted demo model and simulated tools",
        description="Answer a question offline, with the scripted demo model (rule-based, "
        "streams like gpt-3.5) and simulated search and math: no key, no network. The "
        "benchmark demo (LLMCompiler against ReAct and parallel tool calling) is "
        "`python -m benchmarks demo` in a clone.",
    )
    demo.add_argument(
        "question",
        nargs="?",
        default=DEMO_QUESTION,
        help=f"the question (default: {DEMO_QUESTION!r})",
    )
    _add_run_options(demo)
    return parser


_DEBUG_HELP = "on an error, also print its traceback"


def _add_run_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--max-replans",
        type=int,
        help="planning rounds allowed after the first, 0 or more (default 3)",
    )
    command.add_argument(
        "--max-concurrency",
        type=int,
        help="most tool calls running at once, 1 to 64 (default 8)",
    )
    command.add_argument(
        "--task-timeout",
        type=float,
        help="seconds one tool call may take before it becomes a timeout error (default: none)",
    )
    # Also after the command; SUPPRESS keeps a --debug given before it.
    command.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (see :data:`EXIT_CODES`)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in arguments
    command = next((a for a in arguments if a in ("ask", "demo")), None)
    prog = f"{PROG} {command}" if command else PROG
    try:
        try:
            args = build_parser().parse_args(arguments)
        except SystemExit as exit:  # --help and --version
            return int(exit.code or 0)
        return _run(args)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except _UsageError as exc:
        return _fail(prog, str(exc), 2, debug)
    except Exception as exc:
        from llmcompiler_graph.errors import LLMCompilerError

        if isinstance(exc, LLMCompilerError):  # a setting, a variable, the model: the user's
            return _fail(prog, str(exc), 2, debug)
        detail = f"internal error, {type(exc).__name__}: {exc} (--debug shows the traceback)"
        return _fail(prog, detail, 3, debug)


def _fail(prog: str, message: str, code: int, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    print(f"{prog}: {' '.join(message.split())}", file=sys.stderr)
    return code


def _run(args: argparse.Namespace) -> int:
    from llmcompiler_graph.compiler import create_llm_compiler
    from llmcompiler_graph.context import Context
    from llmcompiler_graph.errors import ConfigurationError, ModelNotConfiguredError
    from llmcompiler_graph.models import resolve_model
    from llmcompiler_graph.server import TOOLS_ENV, served_plan_format, served_tools

    settings = {
        name: value
        for name in ("max_replans", "max_concurrency", "task_timeout")
        if (value := getattr(args, name)) is not None
    }
    try:
        Context(**settings)  # checks the values before anything is built
    except ConfigurationError as exc:
        name = str(exc).split()[0]
        raise _UsageError(f"--{name.replace('_', '-')}: {exc}") from exc
    if args.command == "demo":
        print("Offline demo: the scripted demo model and simulated tools.", file=sys.stderr)
        model_name, tool_set, plan_format = "scripted:demo", "simulated", None
    else:
        model_name, tool_set, plan_format = args.model, args.tools, args.plan_format
    try:
        tools = served_tools(tool_set=tool_set)
    except ConfigurationError as exc:
        raise _UsageError(f"{exc} (or choose with --tools)") from exc
    try:
        model = resolve_model(model_name)
    except ModelNotConfiguredError as exc:
        raise _UsageError(f"{exc} To try the package offline: {PROG} demo") from exc
    app = create_llm_compiler(
        model, tools, plan_format=plan_format or served_plan_format(), **settings
    )
    from langchain_core.messages import HumanMessage

    from llmcompiler_graph.state import State

    run = _AskRun()
    question: State = {"messages": [HumanMessage(args.question)]}
    for mode, data in app.stream(question, stream_mode=["custom", "updates"]):
        if mode == "custom":
            run.show_event(data)
        elif mode == "updates" and isinstance(data, dict):
            for update in data.values():
                for message in (update or {}).get("messages", []):
                    run.read_message(message)
    print(f"\nAnswer: {run.answer}")
    failure = run.failure()
    if failure is None:
        return 0
    print(f"{PROG} {args.command}: the run failed: {failure}", file=sys.stderr)
    if run.incomplete == "joiner_failed" and "Connection" in run.answer:
        where = os.environ.get("OPENAI_BASE_URL") or "the OpenAI API"
        print(
            f"No model was reachable at {where}: check that the server is running and that "
            "OPENAI_BASE_URL points at it (for example http://localhost:11434/v1 for Ollama).",
            file=sys.stderr,
        )
    offline = (tool_set or os.environ.get(TOOLS_ENV) or "demo") == "simulated"
    if run.searches_all_failed() and not offline:
        print(
            "Every search failed. If this machine is offline, try the offline look-alike "
            f"tools: --tools simulated (or {TOOLS_ENV}=simulated)",
            file=sys.stderr,
        )
    return 1


class _AskRun:
    """What ``ask`` saw of a run: task outcomes, planner errors, and the answer."""

    def __init__(self) -> None:
        self.answer = ""
        self.incomplete: str | None = None
        self.statuses: dict[int, tuple[str, str]] = {}  # index -> (tool, status)
        self.planner_errors: list[str] = []

    def show_event(self, event: Any) -> None:
        """Print a task event: started (with the arguments the tool got) or finished."""
        if not isinstance(event, dict) or event.get("type") != "llmcompiler.task":
            return
        head = f"  [{event['index']}] {event['tool']}"
        if event["event"] == "started":
            print(f"{head} started {event.get('resolved_args', event.get('args'))}")
        elif event["event"] == "finished":
            ok = bool(event.get("ok"))
            status = "ok" if ok else str(event.get("status", "error"))
            self.statuses[int(event["index"])] = (str(event["tool"]), status)
            # Errors are printed whole (they say how to fix things); results on one line.
            detail = _one_line(str(event.get("observation")), 160) if ok else event.get("error")
            print(f"{head} {status} in {event.get('duration', 0):.2f}s: {detail}")

    def read_message(self, message: Any) -> None:
        """Note plans' stream errors, replans and the final answer from a node's messages."""
        from llmcompiler_graph.state import KIND, kind_of

        marker = getattr(message, "additional_kwargs", {}).get(KIND)
        kind = kind_of(message)
        if kind == "plan" and isinstance(marker, dict) and marker.get("error"):
            self.planner_errors.append(str(marker["error"]))
            print(f"  ! {marker['error']}")
        elif kind == "replan":
            print(f"  ~ {message.content}")
        elif getattr(message, "name", None) == "joiner":
            self.answer = str(message.content)
            self.incomplete = marker.get("incomplete") if isinstance(marker, dict) else None

    def failure(self) -> str | None:
        """Say why the run failed, or ``None`` if it produced an answer from some result."""
        reasons = {
            "joiner_failed": "the joiner model failed, so there is no answer"
            + (f" (and {self.planner_errors[-1]})" if self.planner_errors else ""),
            "replan_limit": "the replan limit was reached without an answer "
            "(raise --max-replans or ask a narrower question)",
            "model_not_configured": "no model is configured",
        }
        if self.incomplete is not None:
            return reasons.get(self.incomplete, self.incomplete)
        if self.statuses and all(s != "ok" for _, s in self.statuses.values()):
            return f"every task failed ({len(self.statuses)} of {len(self.statuses)})"
        if not self.statuses and self.planner_errors:
            return self.planner_errors[-1]
        return None

    def searches_all_failed(self) -> bool:
        """Tell whether the run searched and every search failed."""
        searches = [s for tool, s in self.statuses.values() if tool == "search"]
        return bool(searches) and all(s != "ok" for s in searches)


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


if __name__ == "__main__":
    raise SystemExit(main())
