"""Command line: ``llmcompiler-graph ask|demo|bench|bench-limits``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="llmcompiler-graph",
        description="LLMCompiler on LangGraph: plan tool calls at once, run them in parallel.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    ask = commands.add_parser(
        "ask",
        help="answer a question with a real model and the demo tools "
        "($LLMCOMPILER_TOOLS=simulated for offline ones)",
    )
    ask.add_argument("question")
    ask.add_argument(
        "--model",
        help="e.g. openai:gpt-4o-mini (default: $LLMCOMPILER_MODEL, else openai:gpt-4o-mini)",
    )
    ask.add_argument("--max-replans", type=int, default=3)
    ask.add_argument("--max-concurrency", type=int, default=None)
    ask.add_argument("--task-timeout", type=float, default=None)

    from llmcompiler_graph.bench import cli as bench_cli

    bench_cli.add_commands(commands)

    args = parser.parse_args(argv)
    if args.command == "ask":
        return _ask(args)
    return bench_cli.run(args)


def _ask(args: argparse.Namespace) -> int:
    from llmcompiler_graph.graph import create_llm_compiler
    from llmcompiler_graph.models import ModelNotConfiguredError, resolve_model
    from llmcompiler_graph.served import served_tools

    try:
        model = resolve_model(args.model)
    except ModelNotConfiguredError as exc:
        print(f"llmcompiler-graph ask: {exc}", file=sys.stderr)
        print("To try the package offline, run: llmcompiler-graph demo", file=sys.stderr)
        return 2
    try:
        tools = served_tools(model)
    except ValueError as exc:
        print(f"llmcompiler-graph ask: {exc}", file=sys.stderr)
        return 2
    app = create_llm_compiler(
        model,
        tools,
        max_replans=args.max_replans,
        max_concurrency=args.max_concurrency,
        task_timeout=args.task_timeout,
    )
    from langchain_core.messages import HumanMessage

    from llmcompiler_graph.state import State

    answer = ""
    question: State = {"messages": [HumanMessage(args.question)]}
    for mode, data in app.stream(question, stream_mode=["custom", "updates"]):
        if mode == "custom":
            _show_event(data)
        elif mode == "updates" and isinstance(data, dict):
            for update in data.values():
                for message in (update or {}).get("messages", []):
                    if getattr(message, "name", None) == "joiner":
                        answer = str(message.content)
                        if answer.startswith("Replanning:"):
                            print(f"  ~ {answer}")
    print(f"\nAnswer: {answer}")
    return 0


def _show_event(event: Any) -> None:
    if not isinstance(event, dict) or event.get("type") != "llmcompiler.task":
        return
    head = f"  [{event['index']}] {event['tool']}"
    if event["event"] == "started":
        print(f"{head} started {event.get('args')}")
    elif event["event"] == "finished":
        status = "ok" if event.get("ok") else event.get("status", "error")
        detail = event.get("observation") if event.get("ok") else event.get("error")
        print(f"{head} {status} in {event.get('duration', 0):.2f}s: {str(detail)[:120]}")


if __name__ == "__main__":
    raise SystemExit(main())
