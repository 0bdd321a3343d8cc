"""Agent Chat UI in a real browser against ``langgraph dev``: approve, edit, reject, move on.

Opt-in, because it needs what CI does not install: a clone of ``langchain-ai/agent-chat-ui``
with its packages (``pnpm install --frozen-lockfile``), named by ``AGENT_CHAT_UI_DIR``; a
Chromium (Debian's ``chromium``, ``CHROMIUM`` to use another); and Playwright for Python
(``pip install -e '.[browser]'``; never ``playwright install``). The UI runs with
``next dev`` on a free port (the first page compiles in about 30 s).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import _stop, dev_server
from devserver import REPO, DevServer, free_port, offline_env
from langgraph_sdk import get_sync_client

pytestmark = pytest.mark.integration

UI_DIR = os.environ.get("AGENT_CHAT_UI_DIR", "")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
if not UI_DIR or not (Path(UI_DIR) / "node_modules").is_dir() or not Path(CHROMIUM).exists():
    pytest.skip(
        "set AGENT_CHAT_UI_DIR to an installed agent-chat-ui clone (and have Chromium)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[browser]'")

QUESTION = "What is 6 * 7, and where is Paris?"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    env = offline_env(LLMCOMPILER_MODEL="scripted:demo-instant", LLMCOMPILER_TOOLS="simulated")
    with dev_server(tmp_path_factory.mktemp("ui-dev"), REPO / "langgraph.json", env) as dev:
        yield dev


@pytest.fixture(scope="module")
def ui() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "NEXT_TELEMETRY_DISABLED": "1"}
    process = subprocess.Popen(
        ["npx", "next", "dev", "-p", str(port)],
        cwd=UI_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if "Ready in" in line:
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(120) and process.poll() is None, "next dev did not start"
        yield f"http://localhost:{port}"
    finally:
        _stop(process)


def ask(server: DevServer, ui: str, act: Any) -> dict[str, Any]:
    """Ask in the UI with math held; ``act(page, box)`` answers; return the thread's state."""
    client = get_sync_client(url=server.url)
    context = {"interrupt_before_tools": ["math"]}
    assistant = client.assistants.create("llmcompiler", context=context)["assistant_id"]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{ui}/?apiUrl={server.url}&assistantId={assistant}")
        box = page.get_by_placeholder("Type your message...")
        box.fill(QUESTION)
        box.press("Enter")
        page.get_by_role("button", name="Approve").wait_for()  # not a read-only JSON card
        (thread,) = client.threads.search(metadata={"assistant_id": assistant}, limit=2)
        act(page, box)
        deadline = time.monotonic() + 60
        while True:  # the UI's run ends on the server: wait for the thread to be answered
            state = dict(client.threads.get_state(thread["thread_id"]))
            last = state["values"]["messages"][-1]
            if not state["next"] and last["type"] == "ai" and not last.get("tool_calls"):
                break
            assert time.monotonic() < deadline, f"the thread was not answered: {state['next']}"
            time.sleep(0.5)
        browser.close()
    return state


def results(state: dict[str, Any]) -> dict[str, str]:
    return {
        m["name"]: str(m["content"]) for m in state["values"]["messages"] if m["type"] == "tool"
    }


def test_approve(server: DevServer, ui: str) -> None:
    state = ask(server, ui, lambda page, _: page.get_by_role("button", name="Approve").click())
    assert state["next"] == [] and results(state)["math"] == "42"


def test_edit(server: DevServer, ui: str) -> None:
    def edit(page: Any, _: Any) -> None:
        page.locator("textarea").first.fill("6 * 8")
        page.get_by_role("button", name="Submit", exact=True).click()

    state = ask(server, ui, edit)
    assert state["next"] == [] and results(state)["math"] == "48"


def test_reject(server: DevServer, ui: str) -> None:
    def reject(page: Any, _: Any) -> None:
        page.get_by_placeholder("Share feedback with the agent...").fill("No math today.")
        page.get_by_role("button", name="Submit rejection").click()

    state = ask(server, ui, reject)
    assert results(state)["math"] == (
        "task 1 'math' was not run: the reviewer rejected it: No math today."
    )


def test_a_new_message_moves_on(server: DevServer, ui: str) -> None:
    def type_on(_: Any, box: Any) -> None:
        box.fill("Where is Berlin?")
        box.press("Enter")

    state = ask(server, ui, type_on)
    assert state["next"] == []
    assert "task 1 'math' was not run" in results(state)["math"]
    assert str(state["values"]["messages"][-1]["content"]).startswith("Berlin is the capital")
