"""``python -m benchmarks demo|bench|limits|tools|cache``: the benchmarks (offline, simulated)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from benchmarks import cli


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark command line; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="LLMCompiler benchmarks, offline and simulated: scripted models with "
        "realistic latency, simulated tools, no key, no network.",
    )
    cli.add_commands(parser.add_subparsers(dest="command", required=True))
    return cli.run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
