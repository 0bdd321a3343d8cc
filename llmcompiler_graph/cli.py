"""Command line: ``llmcompiler-graph ask|demo``.

``ask`` answers a question with a real model and the demo tools; ``demo`` does the same
offline, with the scripted demo model and simulated tools (no key, no network). The benchmark
suite is not part of the package: run it from a clone with ``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["DEMO_QUESTION", "main"]

DEMO_QUESTION = "Were Scott Derrickson and Ed Wood of the same nationality?"
"""What ``llmcompiler-graph demo`` asks when no question is given (the paper's example)."""


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

    demo = commands.add_parser(
        "demo",
        help="answer a question offline: the scripted demo model and simulated tools "
        "(search over a small corpus, math), no key, no network",
    )
    demo.add_argument("question", nargs="?", default=DEMO_QUESTION)
    demo.add_argument("--max-replans", type=int, default=3)
    demo.add_argument("--max-concurrency", type=int, default=None)
    demo.add_argument("--task-timeout", type=float, default=None)

    args = parser.parse_args(argv)
    if args.command == "demo":
        os.environ["LLMCOMPILER_TOOLS"] = "simulated"
        args.model = "scripted:demo"
        print("Offline demo: the scripted demo model and simulated tools.", file=sys.stderr)
    return _ask(args)


def _ask(args: argparse.Namespace) -> int:
    from llmcompiler_graph.compiler import create_llm_compiler
    from llmcompiler_graph.errors import ModelNotConfiguredError
    from llmcompiler_graph.models import resolve_model
    from llmcompiler_graph.server import TOOLS_ENV, served_tools

    try:
        model = resolve_model(args.model)
    except ModelNotConfiguredError as exc:
        print(f"llmcompiler-graph ask: {exc}", file=sys.stderr)
        print("To try the package offline, run: llmcompiler-graph demo", file=sys.stderr)
        return 2
    try:
        tools = served_tools()
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
    print(f"llmcompiler-graph ask: the run failed: {failure}", file=sys.stderr)
    if run.incomplete == "joiner_failed" and "Connection" in run.answer:
        where = os.environ.get("OPENAI_BASE_URL") or "the OpenAI API"
        print(
            f"No model was reachable at {where}: check that the server is running and that "
            "OPENAI_BASE_URL points at it (for example http://localhost:11434/v1 for Ollama).",
            file=sys.stderr,
        )
    if run.searches_all_failed() and os.environ.get(TOOLS_ENV, "demo") != "simulated":
        print(
            "Every search failed. If this machine is offline, try the offline look-alike "
            f"tools: {TOOLS_ENV}=simulated llmcompiler-graph ask ...",
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
