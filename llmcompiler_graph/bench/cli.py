"""The ``demo`` and ``bench`` subcommands."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_commands", "run"]


def add_commands(commands: Any) -> None:
    """Register ``demo`` and ``bench`` on the CLI's subparsers."""
    demo = commands.add_parser("demo", help="offline simulated demo (no key, no network)")
    demo.add_argument("--out", default="bench-results/demo", help="folder for the JSON and plots")
    bench = commands.add_parser("bench", help="full simulated benchmark suite")
    bench.add_argument("--workload", action="append", help="workload name (repeatable)")
    bench.add_argument("--profile", default="gpt-3.5-like")
    bench.add_argument("--samples", type=int, default=None)
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--out", default="bench-results")


def run(args: argparse.Namespace) -> int:
    """Run the chosen subcommand."""
    raise SystemExit(f"'{args.command}' is not built yet")
