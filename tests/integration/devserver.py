"""Helpers for integration tests: free ports, an offline environment, ``langgraph dev``."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass
class DevServer:
    """A running ``langgraph dev`` process and what it printed."""

    url: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    @property
    def log(self) -> str:
        return "".join(self.lines)


REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))  # for `fakes`

STARTUP_TIMEOUT_S = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def offline_env(**extra: str) -> dict[str, str]:
    """Return this process's environment without keys or endpoints, telemetry off."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "LANGSMITH_", "LANGCHAIN_", "LLMCOMPILER_"))
    }
    env.update(
        LANGSMITH_TRACING="false",
        LANGGRAPH_CLI_NO_ANALYTICS="1",
        LANGGRAPH_NO_VERSION_CHECK="true",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def langgraph_cli() -> str:
    found = Path(sys.executable).with_name("langgraph")
    if found.exists():
        return str(found)
    which = shutil.which("langgraph")
    if which is None:
        pytest.skip("the langgraph CLI is not installed (pip install 'langgraph-cli[inmem]')")
    return which
