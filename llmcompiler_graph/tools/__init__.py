"""Tools that come with the package; none is needed to use the graph with your own.

:mod:`.demo` has the demo tools (``search`` over Wikipedia's API and ``math``, a calculator),
:mod:`.llm_math` the paper's model-backed ``math(problem, context)`` (:func:`make_math_tool`),
:mod:`.calculator` the safe arithmetic evaluator behind ``math`` (it walks the parsed
expression and never runs code; :mod:`.calculator_rules` says what it accepts and its
limits), and :mod:`.jsonschema` builds LangChain tools from JSON-schema function specs
(OpenAI or BFCL style). The demo tools are importable from here, as
``from llmcompiler_graph.tools import demo_tools``.
"""

from llmcompiler_graph.errors import SearchError
from llmcompiler_graph.tools.demo import (
    DEFAULT_SEARCH_URL,
    SEARCH_URL_ENV,
    demo_tools,
    make_search_tool,
    math,
    search,
)
from llmcompiler_graph.tools.llm_math import make_math_tool

__all__ = [
    "DEFAULT_SEARCH_URL",
    "SEARCH_URL_ENV",
    "SearchError",
    "demo_tools",
    "make_math_tool",
    "make_search_tool",
    "math",
    "search",
]
