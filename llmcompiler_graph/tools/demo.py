"""The demo tools: ``search`` (Wikipedia, no key needed) and ``math`` (the paper's, model-backed).

>>> from llmcompiler_graph.tools.demo import demo_tools, math
>>> math.invoke({"problem": "(3 + 4) * 2"})
'14'
>>> [t.name for t in demo_tools()]
['search', 'math']

``search`` asks the MediaWiki search API of English Wikipedia for the best-matching article and
returns its title and summary. Point ``LLMCOMPILER_SEARCH_URL`` at another MediaWiki site with
Wikimedia's REST API (``https://de.wikipedia.org``, or a mirror; the address of its
``/w/api.php`` works too) to search there; the variable is read at each call. For tests or
custom transports, build the tool with :func:`make_search_tool` and your own ``httpx.Client``.

:data:`math` is the pure calculator: it evaluates arithmetic with
:func:`llmcompiler_graph.tools.calculator.safe_eval`, which walks the parsed expression and never
runs code. :func:`demo_tools` pairs ``search`` with the paper's ``math(problem, context)``
(:func:`~llmcompiler_graph.tools.llm_math.make_math_tool`), which solves word problems over
earlier results with a chat model and evaluates plain arithmetic itself.
"""

from __future__ import annotations

import html
import os
import re
from typing import Any
from urllib.parse import quote

import httpx
from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool, tool

from llmcompiler_graph.errors import CalculatorError, SearchError
from llmcompiler_graph.tools.calculator import format_number, safe_eval
from llmcompiler_graph.tools.llm_math import make_math_tool

__all__ = [
    "DEFAULT_SEARCH_URL",
    "SEARCH_URL_ENV",
    "demo_tools",
    "make_search_tool",
    "math",
    "search",
]

DEFAULT_SEARCH_URL = "https://en.wikipedia.org"
SEARCH_URL_ENV = "LLMCOMPILER_SEARCH_URL"
SEARCH_TIMEOUT_S = 10.0
MAX_RESULT_CHARS = 1500
USER_AGENT = "llmcompiler-graph (LLMCompiler demo search tool; python-httpx)"

_FIX = f"set {SEARCH_URL_ENV} or use your own search tool"


@tool("math", parse_docstring=True)
def math(problem: str, context: list[str] | None = None) -> str:
    """Evaluate an arithmetic expression such as '(3 + 4) * 2' or 'sqrt(16) / 2'.

    Use numbers from earlier tasks with $N references. Only arithmetic: no variables or words.
    Allowed: numbers, + - * / // % ** (or ^), parentheses, pi, e, sqrt, log, log10, exp, sin,
    cos, tan, abs, round, min, max, floor, ceil.

    Args:
        problem: The arithmetic expression, e.g. '$1 * 2' or '(120 - 45) / 3'.
        context: Optional earlier results the problem relies on; write their numbers into the
            problem, the calculator does not read this list.

    """
    try:
        return format_number(safe_eval(problem))
    except CalculatorError as exc:
        if context:
            shown = "; ".join(str(item) for item in context)
            hint = f"Copy the numbers you need from the context ({_clip(shown, 200)}) into problem."
        else:
            hint = "Rewrite the problem as plain arithmetic."
        raise CalculatorError(
            f"math cannot evaluate {_clip(problem, 200)!r}: {exc}. {hint}"
        ) from exc


def make_search_tool(
    client: httpx.Client | None = None, *, base_url: str | None = None
) -> BaseTool:
    """Build the ``search`` tool.

    Args:
        client: The HTTP client to use (for tests, proxies or custom transports); it is not
            closed by the tool. ``None`` opens a fresh client for each call, so importing this
            module never touches the network.
        base_url: The MediaWiki site to search; ``None`` reads ``LLMCOMPILER_SEARCH_URL`` at each
            call, falling back to English Wikipedia.

    Returns:
        A tool named ``search`` taking one argument, ``query``.

    """

    def search(query: str) -> str:
        """Look up an entity, person, place or fact on Wikipedia and return the article summary.

        Search for one entity at a time (a name or a short phrase, not a whole question); plan
        one search task per entity so they run in parallel.

        Args:
            query: What to look up, e.g. 'Scott Derrickson'.

        """
        return _search(query, client, base_url)

    built: BaseTool = tool("search", parse_docstring=True)(search)
    return built


search = make_search_tool()


def demo_tools(model: BaseChatModel | str | None = None) -> list[BaseTool]:
    """Return the demo tools: ``search`` and the paper's model-backed ``math``.

    Args:
        model: The model behind ``math`` for word problems (see
            :func:`~llmcompiler_graph.tools.llm_math.make_math_tool`); ``None`` for the
            run's model. Plain arithmetic never calls it. The pure calculator stays
            available as :data:`math`.

    """
    return [search, make_math_tool(model)]


def _search(query: str, client: httpx.Client | None, base_url: str | None) -> str:
    query = query.strip()
    if not query:
        raise ValueError("search needs a non-empty query, e.g. search(query='Scott Derrickson')")
    base = (base_url or os.environ.get(SEARCH_URL_ENV) or DEFAULT_SEARCH_URL).rstrip("/")
    base = base.removesuffix("/w/api.php")
    http = client or httpx.Client(follow_redirects=True)
    try:
        return _lookup(http, base, query)
    # "from None": the httpx error's own text may hold the URL's credentials, and a traced
    # tool run records the chained exception too.
    except httpx.TransportError as exc:
        raise SearchError(
            f"search backend unreachable: {type(exc).__name__}: {exc} ({base}); {_FIX}"
        ) from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise SearchError(
            f"search backend request failed: {type(exc).__name__}: {exc} ({base}); {_FIX}"
        ) from None
    finally:
        if client is None:
            http.close()


def _lookup(http: httpx.Client, base: str, query: str) -> str:
    params = {
        "action": "query",
        "list": "search",
        "srsearch": query,
        "format": "json",
        "srlimit": "1",
    }
    found = _get_json(http, f"{base}/w/api.php", params)
    if isinstance(found.get("error"), dict):
        info = found["error"].get("info", found["error"])
        raise SearchError(f"search backend refused the query {query!r}: {info}")
    hits = found.get("query", {}).get("search", []) if isinstance(found.get("query"), dict) else []
    if not hits or not isinstance(hits[0], dict) or not hits[0].get("title"):
        return f"No Wikipedia article found for {query!r}; try other keywords or a simpler name."
    title = str(hits[0]["title"])
    summary_url = f"{base}/api/rest_v1/page/summary/{quote(title.replace(' ', '_'), safe='')}"
    summary = _get_json(http, summary_url, None, missing_ok=True)
    extract = str(summary.get("extract") or "").strip()
    if not extract:  # no summary (e.g. a site without the REST API): use the search snippet
        snippet = re.sub(r"<[^>]+>", "", str(hits[0].get("snippet") or ""))
        extract = html.unescape(snippet).strip() or "(no summary available)"
    if summary.get("type") == "disambiguation":
        extract += " (This is a disambiguation page: search for a more specific name.)"
    return _clip(f"{summary.get('title') or title}: {extract}", MAX_RESULT_CHARS)


def _get_json(
    http: httpx.Client, url: str, params: dict[str, str] | None, *, missing_ok: bool = False
) -> dict[str, Any]:
    response = http.get(
        url,
        params=params,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        timeout=SEARCH_TIMEOUT_S,
    )
    if missing_ok and response.status_code == 404:
        return {}
    if response.status_code >= 400:
        raise SearchError(f"search backend answered HTTP {response.status_code} for {url}; {_FIX}")
    try:
        data = response.json()
    except ValueError as exc:
        raise SearchError(f"search backend sent a response that is not JSON from {url}") from exc
    if not isinstance(data, dict):
        raise SearchError(
            f"search backend sent unexpected JSON from {url}: {_clip(str(data), 100)}"
        )
    return data


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 3]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "..."
