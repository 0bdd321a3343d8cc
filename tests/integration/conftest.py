"""Fixtures for integration tests: real servers on loopback, started and stopped here."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from devserver import (
    REPO,
    STARTUP_TIMEOUT_S,
    DevServer,
    free_port,
    langgraph_cli,
    offline_env,
)

# The Agent Chat UI test needs what CI does not install (a clone of langchain-ai/agent-chat-ui
# with its packages, Chromium, Playwright): it is collected only when AGENT_CHAT_UI_DIR names
# such a clone, so a default run neither runs nor lists it (docs/development.md says how).
collect_ignore = [] if os.environ.get("AGENT_CHAT_UI_DIR") else ["test_agent_chat_ui.py"]


@pytest.fixture(scope="module")
def langgraph_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """Run ``langgraph dev`` on a free port, offline, with the scripted demo model.

    No ``--allow-blocking``: the server fails any run whose async code blocks the event loop.
    It runs in a temporary directory (so its ``.langgraph_api`` state and any ``.env`` of the
    developer's stay out of it) and is killed with its process group afterwards.
    """
    workdir = tmp_path_factory.mktemp("langgraph-dev")
    env = offline_env(LLMCOMPILER_MODEL="scripted:demo-instant", LLMCOMPILER_TOOLS="simulated")
    with dev_server(workdir, REPO / "langgraph.json", env) as server:
        yield server


@contextlib.contextmanager
def dev_server(workdir: Path, config: Path, env: dict[str, str]) -> Iterator[DevServer]:
    """Run ``langgraph dev --config config`` in ``workdir`` on a free port until the block ends."""
    port = free_port()
    command = [
        langgraph_cli(),
        "dev",
        "--no-browser",
        "--no-reload",
        "--port",
        str(port),
        "--config",
        str(config),
        "--n-jobs-per-worker",
        "4",
        "--server-log-level",
        "INFO",
    ]
    process = subprocess.Popen(
        command,
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    server = DevServer(f"http://127.0.0.1:{port}", process)
    ready = threading.Event()

    def read() -> None:
        # Drains the output (so the pipe never fills) and signals readiness: uvicorn logs
        # "Uvicorn running on ..." once its socket listens.
        assert process.stdout is not None
        for line in process.stdout:
            server.lines.append(line)
            if "Uvicorn running on" in line:
                ready.set()
        ready.set()  # the process ended: stop waiting

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not ready.wait(STARTUP_TIMEOUT_S) or process.poll() is not None:
            pytest.fail(f"langgraph dev did not start:\n{server.log[-5000:]}")
        yield server
    finally:
        _stop(process)
        reader.join(timeout=10)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)
    except ProcessLookupError:
        pass
