"""Credentials in URLs never reach a prompt, the state or the events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from langchain_core.messages import BaseMessage

from llmcompiler_graph import create_llm_compiler
from llmcompiler_graph.redact import redact
from llmcompiler_graph.sim import ScriptedChatModel
from llmcompiler_graph.tools import SearchError, make_search_tool

pytestmark = pytest.mark.timeout(60)

SECRETS = ("hunter2", "s3cr3t", "bob", "ghp_abcdef123456")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "GET https://bob:hunter2@wiki.example/w/api.php?srsearch=x&token=s3cr3t failed",
            "GET https://***@wiki.example/w/api.php?srsearch=x&token=*** failed",
        ),
        ("(http://ghp_abcdef123456@github.com/x.git);", "(http://***@github.com/x.git);"),
        (
            "https://h/p?api_key=s3cr3t&q=1#access_token=hunter2",
            "https://h/p?api_key=***&q=1#access_token=***",
        ),
        (
            "https://h/p?Signature=s3cr3t&X-Amz-Credential=bob",
            "https://h/p?Signature=***&X-Amz-Credential=***",
        ),
        ("Authorization: Bearer ghp_abcdef123456", "Authorization: Bearer ***"),
        ("no url here, just text", "no url here, just text"),
        (
            "https://en.wikipedia.org/w/api.php?srsearch=Ed+Wood",
            "https://en.wikipedia.org/w/api.php?srsearch=Ed+Wood",
        ),
        ("http://[::1:bob@x", "http://***@x"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


BASE = "http://bob:hunter2@wiki.test/w/api.php?token=s3cr3t"


def clean(text: str) -> None:
    assert not [secret for secret in SECRETS if secret in text], text


@pytest.mark.parametrize(
    "handler",
    [
        lambda request: (_ for _ in ()).throw(httpx.ConnectError(f"refused {request.url}")),
        lambda request: (_ for _ in ()).throw(httpx.TooManyRedirects(f"loop {request.url}")),
        lambda request: httpx.Response(401, text="no"),
        lambda request: httpx.Response(200, json=[1]),
    ],
)
def test_search_errors_hide_the_urls_credentials(handler: Any) -> None:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    search = make_search_tool(client, base_url=BASE)
    with pytest.raises(SearchError) as info:
        search.invoke({"query": "Ed Wood"})
    clean(str(info.value))
    clean(repr(info.value.__cause__))
    assert "wiki.test" in str(info.value)  # still says which backend failed


def test_credentials_in_the_search_url_reach_no_prompt_state_or_event(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLMCOMPILER_SEARCH_URL", BASE)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect to {request.url}")

    search = make_search_tool(httpx.Client(transport=httpx.MockTransport(refuse)))
    planner = ScriptedChatModel(responses=["1. search('Ed Wood')\n2. join()"])
    joiner = ScriptedChatModel(responses=["Action: Finish(the search failed)"])
    app = create_llm_compiler(planner, [search], joiner_model=joiner)
    events: list[Any] = []
    state: dict[str, Any] = {}
    for mode, data in app.stream(
        {"messages": [("user", "Who is Ed Wood?")]}, stream_mode=["custom", "values"]
    ):
        if mode == "custom":
            events.append(data)
        else:
            state = data
    messages: list[BaseMessage] = state["messages"]
    assert messages[2].status == "error" and "wiki.test" in messages[2].text  # type: ignore[attr-defined]
    clean(repr(messages))
    clean(repr(events))
    clean(repr(joiner.calls))


def test_a_tools_own_error_is_redacted_where_it_becomes_a_message_and_an_event() -> None:
    def fetch(url: str) -> str:
        """Fetch a page."""
        raise RuntimeError(f"HTTP 500 from https://bob:hunter2@api.test/x?key=s3cr3t ({url})")

    planner = ScriptedChatModel(responses=["1. fetch('a')\n2. join()"])
    joiner = ScriptedChatModel(responses=["Action: Finish(no)"])
    app = create_llm_compiler(planner, [fetch], joiner_model=joiner)
    chunks = list(app.stream({"messages": [("user", "q")]}, stream_mode=["custom", "values"]))
    clean(repr(chunks))
    clean(repr(joiner.calls))
    assert "https://***@api.test/x?key=***" in repr(chunks)


def test_a_failing_planner_stream_is_redacted() -> None:
    class Leaky(ScriptedChatModel):
        def _stream(self, *args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("POST https://user:hunter2@llm.test/v1?api_key=s3cr3t")

    planner = Leaky(responses=[])
    joiner = ScriptedChatModel(responses=["Action: Finish(no)"])
    app = create_llm_compiler(planner, [make_search_tool()], joiner_model=joiner)
    out = app.invoke({"messages": [("user", "q")]})
    clean(repr(out["messages"]))
    clean(repr(joiner.calls))


def test_a_model_notice_is_redacted() -> None:
    from llmcompiler_graph.nodes.wiring import _notice

    notice = _notice("model 'openai:x' could not be created: bad URL https://bob:hunter2@llm.test")
    clean(str(notice.content))
    assert "https://***@llm.test" in str(notice.content)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_tools_own_error_reaches_langchains_callbacks_redacted(mode: str) -> None:
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.tools import tool

    class Errors(BaseCallbackHandler):
        def __init__(self) -> None:
            self.seen: list[str] = []

        def on_tool_error(self, error: BaseException, **kwargs: Any) -> None:
            self.seen.append(repr(error))

    @tool
    def fetch(url: str) -> str:
        """Fetch a page."""
        raise ConnectionError(f"GET {url} failed: connection reset")

    @tool
    async def afetch(url: str) -> str:
        """Fetch a page."""
        raise ConnectionError(f"GET {url} failed: connection reset")

    plan = '1. fetch("https://bob:hunter2@wiki.example/w?token=abc")\n2. join()'
    model = ScriptedChatModel(responses=[plan, "Action: Finish(no)"])
    chosen = fetch if mode == "sync" else afetch
    chosen.name = "fetch"
    app = create_llm_compiler(model, [chosen])
    errors = Errors()
    config: Any = {"callbacks": [errors]}
    question = {"messages": [("user", "q")]}
    if mode == "sync":
        app.invoke(question, config)
    else:
        import asyncio

        async def events() -> list[dict[str, Any]]:
            return [e async for e in app.astream_events(question, config, version="v2")]

        tool_errors = [e for e in asyncio.run(events()) if e["event"] == "on_tool_error"]
        # The tool's input is the plan's argument, as the tool received it; its error is ours.
        assert tool_errors and all("hunter2" not in repr(e["data"]["error"]) for e in tool_errors)
    assert errors.seen and all("hunter2" not in seen for seen in errors.seen)
    assert all("abc" not in seen and "connection reset" in seen for seen in errors.seen)
