"""A real MCP server (the ``mcp`` package's FastMCP) the tests start on loopback or over stdio.

Run ``python tests/fakes/mcp_server.py streamable-http PORT`` (serves ``/mcp`` on
``127.0.0.1:PORT``) or ``python tests/fakes/mcp_server.py stdio``. Its tools return the
shapes MCP results come in: a plain value (FastMCP wraps it as ``{"result": ...}`` in the
structured content), a list (one text block per item), an object (a ``TypedDict``), a
result without structured content (no return annotation) and an error.
"""

from __future__ import annotations

import sys

from mcp.server.fastmcp import FastMCP
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12


class Place(TypedDict):
    """A city and its population."""

    city: str
    population: int


def build(port: int = 0) -> FastMCP:
    """Return the server with its tools (``port`` for streamable HTTP).

    Over HTTP it logs at INFO (uvicorn's "Uvicorn running on" tells the tests it listens);
    over stdio only warnings (each session starts a server, whose stderr the client shows).
    """
    level = "INFO" if port else "WARNING"
    server = FastMCP("llmcompiler-test", host="127.0.0.1", port=port, log_level=level)

    @server.tool()
    def shout(text: str) -> str:
        """Return the text in capitals."""
        return text.upper()

    @server.tool()
    def word_count(text: str) -> int:
        """Count the words of a text."""
        return len(text.split())

    @server.tool()
    def numbers(n: int) -> list[int]:
        """Return the numbers 0 .. n-1."""
        return list(range(n))

    @server.tool()
    def total(values: list[int]) -> int:
        """Sum a list of numbers."""
        return sum(values)

    @server.tool()
    def place(city: str) -> Place:
        """Look up a city's population."""
        return {"city": city, "population": 1000 * len(city)}

    @server.tool()
    def describe(where: Place) -> str:
        """Describe a place."""
        return f"{where['city']} has {where['population']} people"

    @server.tool()
    def tags(text: str):  # type: ignore[no-untyped-def]  # no annotation: no structured content
        """Return the words of a text as a JSON object."""
        return {"words": text.split()}

    @server.tool()
    def explode(reason: str) -> str:
        """Always fail."""
        raise ValueError(f"exploded: {reason}")

    return server


if __name__ == "__main__":
    transport = sys.argv[1]
    build(int(sys.argv[2]) if len(sys.argv) > 2 else 0).run(transport=transport)  # type: ignore[arg-type]
