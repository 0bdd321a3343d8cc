"""Tests for the demo tools; the search backend is an ``httpx.MockTransport`` (no network)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import httpx
import pytest
from langchain_core.tools import BaseTool

from llmcompiler_graph.errors import CalculatorError
from llmcompiler_graph.tools import SearchError, demo_tools, make_search_tool, math, search
from llmcompiler_graph.tools import demo as tools

Handler = Callable[[httpx.Request], httpx.Response]

SEARCH_HIT = {
    "batchcomplete": "",
    "query": {
        "searchinfo": {"totalhits": 812},
        "search": [
            {
                "ns": 0,
                "title": "Scott Derrickson",
                "pageid": 8573370,
                "snippet": '<span class="searchmatch">Scott</span> Derrickson (born 1966) is an',
            }
        ],
    },
}
SUMMARY = {
    "type": "standard",
    "title": "Scott Derrickson",
    "description": "American filmmaker (born 1966)",
    "extract": "Scott Derrickson is an American filmmaker. He is known for Doctor Strange.",
}


def wikipedia(
    requests: list[httpx.Request], summary: Mapping[str, object] | None = None
) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.url.path == "/w/api.php":
            return httpx.Response(200, json=SEARCH_HIT)
        if request.url.path.startswith("/api/rest_v1/page/summary/"):
            if summary is None:
                return httpx.Response(404, json={"type": "not_found"})
            return httpx.Response(200, json=summary)
        return httpx.Response(500)

    return handle


def tool_with(handler: Handler, base_url: str | None = None) -> BaseTool:
    return make_search_tool(httpx.Client(transport=httpx.MockTransport(handler)), base_url=base_url)


# --- math ------------------------------------------------------------------------------------


def test_math_is_a_tool_named_math() -> None:
    assert isinstance(math, BaseTool)
    assert math.name == "math"
    assert "Evaluate an arithmetic expression such as '(3 + 4) * 2'" in math.description
    assert "$N references" in math.description
    assert set(math.args) == {"problem", "context"}


@pytest.mark.parametrize(
    ("problem", "expected"),
    [("(3 + 4) * 2", "14"), ("sqrt(16) / 2", "2"), ("0.1 + 0.2", "0.3"), ("2 ^ 10", "1024")],
)
def test_math_evaluates(problem: str, expected: str) -> None:
    assert math.invoke({"problem": problem}) == expected


def test_math_accepts_context() -> None:
    assert (
        math.invoke({"problem": "57 - 1", "context": ["Scott Derrickson was born in 1966"]}) == "56"
    )


def test_math_error_names_problem_and_hints() -> None:
    with pytest.raises(
        ValueError, match="math cannot evaluate 'x \\* 2': unknown name 'x'"
    ) as info:
        math.invoke({"problem": "x * 2"})
    assert "Rewrite the problem as plain arithmetic" in str(info.value)
    assert isinstance(info.value, CalculatorError)


def test_math_error_hint_shows_context() -> None:
    with pytest.raises(ValueError, match="from the context \\(born in 1966\\)"):
        math.invoke({"problem": "2024 - his birth year", "context": ["born in 1966"]})


# --- search ----------------------------------------------------------------------------------


def test_search_returns_title_and_extract() -> None:
    requests: list[httpx.Request] = []
    result = tool_with(wikipedia(requests, SUMMARY)).invoke({"query": "Scott Derrickson"})
    assert result == (
        "Scott Derrickson: Scott Derrickson is an American filmmaker. "
        "He is known for Doctor Strange."
    )
    query, summary = requests
    assert query.url.host == "en.wikipedia.org"
    assert dict(query.url.params) == {
        "action": "query",
        "list": "search",
        "srsearch": "Scott Derrickson",
        "format": "json",
        "srlimit": "1",
    }
    assert summary.url.raw_path.decode() == "/api/rest_v1/page/summary/Scott_Derrickson"
    assert all(r.headers["User-Agent"].startswith("llmcompiler-graph") for r in requests)


def test_search_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    requests: list[httpx.Request] = []
    monkeypatch.setenv("LLMCOMPILER_SEARCH_URL", "http://wiki.test/w/api.php")
    tool_with(wikipedia(requests, SUMMARY)).invoke({"query": "Scott"})
    assert [str(r.url.copy_with(query=None)) for r in requests] == [
        "http://wiki.test/w/api.php",
        "http://wiki.test/api/rest_v1/page/summary/Scott_Derrickson",
    ]


def test_search_title_is_url_encoded() -> None:
    hit = {"query": {"search": [{"title": "AC/DC & Co"}]}}
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        if request.url.path == "/w/api.php":
            return httpx.Response(200, json=hit)
        return httpx.Response(200, json={"title": "AC/DC & Co", "extract": "A band."})

    assert tool_with(handle).invoke({"query": "acdc"}) == "AC/DC & Co: A band."
    assert seen[1] == "/api/rest_v1/page/summary/AC%2FDC_%26_Co"


def test_search_falls_back_to_snippet_without_summary() -> None:
    result = tool_with(wikipedia([], summary=None)).invoke({"query": "Scott Derrickson"})
    assert result == "Scott Derrickson: Scott Derrickson (born 1966) is an"


def test_search_marks_disambiguation_pages() -> None:
    page = {"type": "disambiguation", "title": "Mercury", "extract": "Mercury may refer to:"}
    result = tool_with(wikipedia([], page)).invoke({"query": "Mercury"})
    assert result.startswith("Mercury: Mercury may refer to:")
    assert "search for a more specific name" in result


def test_search_truncates_long_extracts() -> None:
    page = {"title": "Long", "extract": "word " * 1000}
    result = tool_with(wikipedia([], page)).invoke({"query": "long"})
    assert len(result) <= tools.MAX_RESULT_CHARS
    assert result.endswith("word...")


def test_search_without_hits() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"batchcomplete": "", "query": {"search": []}})

    result = tool_with(handle).invoke({"query": "qwzxv"})
    assert result == "No Wikipedia article found for 'qwzxv'; try other keywords or a simpler name."


def test_search_unreachable_raises_clear_error() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(SearchError) as info:
        tool_with(handle, base_url="http://wiki.test").invoke({"query": "Scott Derrickson"})
    message = str(info.value)
    assert message.startswith("search backend unreachable: ConnectError: connection refused")
    assert "http://wiki.test" in message
    assert "set LLMCOMPILER_SEARCH_URL or use your own search tool" in message


def test_search_timeout_is_unreachable() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.extensions["timeout"]["read"] == tools.SEARCH_TIMEOUT_S
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(SearchError, match="search backend unreachable: ReadTimeout"):
        tool_with(handle).invoke({"query": "x"})


@pytest.mark.parametrize(
    ("response", "fragment"),
    [
        (httpx.Response(503, text="busy"), "search backend answered HTTP 503"),
        (httpx.Response(200, text="<html>"), "not JSON"),
        (httpx.Response(200, json=[1, 2]), "unexpected JSON"),
        (
            httpx.Response(200, json={"error": {"code": "x", "info": "Bad search"}}),
            "refused the query 'q': Bad search",
        ),
    ],
)
def test_search_bad_backend_answers(response: httpx.Response, fragment: str) -> None:
    with pytest.raises(SearchError, match=fragment):
        tool_with(lambda request: response).invoke({"query": "q"})


def test_search_rejects_empty_query() -> None:
    with pytest.raises(ValueError, match="non-empty query"):
        tool_with(wikipedia([])).invoke({"query": "  "})


def test_default_search_tool_opens_its_client_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    requests: list[httpx.Request] = []
    transport = httpx.MockTransport(wikipedia(requests, SUMMARY))
    real_client = httpx.Client
    clients: list[httpx.Client] = []

    def fake_client(**kwargs: object) -> httpx.Client:
        client = real_client(transport=transport)
        clients.append(client)
        return client

    monkeypatch.setattr(httpx, "Client", fake_client)
    assert search.name == "search"
    assert search.invoke({"query": "Scott Derrickson"}).startswith("Scott Derrickson:")
    assert len(clients) == 1 and clients[0].is_closed
    assert len(requests) == 2


def test_demo_tools() -> None:
    assert [t.name for t in demo_tools()] == ["search", "math"]
    assert "query" in json.dumps(search.args)
