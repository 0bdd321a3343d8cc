"""Tool selection on a hand-built catalogue: the BM25 search, the listing, the examples."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import BaseTool, StructuredTool

from llmcompiler_graph.context import Context
from llmcompiler_graph.errors import ConfigurationError
from llmcompiler_graph.nodes.tool_listing import list_tools, selection_queries, used_tools
from llmcompiler_graph.planner.prompts import DEMO_EXAMPLES
from llmcompiler_graph.planner.tool_search import ToolDoc, ToolIndex, terms
from llmcompiler_graph.planner.tool_selection import (
    Catalogue,
    filter_examples,
    merge_listing,
    tool_doc,
)
from llmcompiler_graph.planner.tool_specs import describe_tools, tool_schema
from llmcompiler_graph.state import KIND, current_turn


def make_tool(name: str, description: str, **params: str) -> BaseTool:
    """A tool whose parameters are strings described by ``params``."""
    schema = {
        "type": "object",
        "properties": {p: {"type": "string", "description": d} for p, d in params.items()},
        "required": list(params),
    }

    def run(**kwargs: Any) -> str:
        return f"{name}({kwargs})"

    return StructuredTool.from_function(
        func=run, name=name, description=description, args_schema=schema
    )


CATALOGUE = [
    make_tool("get_weather", "Current weather and forecast for a city.", city="City name."),
    make_tool("getStockPrice", "Latest trading price of a listed company.", ticker="Symbol."),
    make_tool("stock_news.latest", "Recent news articles about a company.", company=""),
    make_tool(
        "convert_currency",
        "Convert an amount of money from one currency to another.",
        amount="",
        from_currency="ISO code",
        to_currency="ISO code",
    ),
    make_tool("send_email", "Send an email message.", to="Recipient address.", body=""),
    make_tool("search_flights", "Find flights between two airports on a date.", origin=""),
    make_tool("book_hotel", "Reserve a hotel room.", city="", check_in="Arrival date."),
    make_tool("circle_area", "Area of a circle from its radius.", radius=""),
    make_tool("circle_circumference", "Circumference of a circle.", radius=""),
    make_tool("rectangle_area", "Area of a rectangle.", width="", height=""),
    make_tool("translate_text", "Translate text into another language.", text="", target=""),
    make_tool("read_file", "Read a file from disk.", path=""),
    make_tool("write_file", "Write text to a file on disk.", path="", content=""),
    make_tool("calendar.create_event", "Add an event to the user's calendar.", title=""),
    make_tool("lookup", "Look a record up.", isbn="The book's ISBN number."),
]


@pytest.fixture
def catalogue() -> Catalogue:
    return Catalogue(CATALOGUE, tool_schema)


# -- terms -------------------------------------------------------------------------------


def test_names_split_on_underscores_dots_and_case() -> None:
    assert terms("stock_news.latest") == ["stock", "news", "latest"]
    assert terms("getStockPrice") == ["get", "stock", "price"]
    assert terms("parseHTTPResponse2") == ["pars", "http", "respons", "2"]


def test_stop_words_go_and_words_are_stemmed() -> None:
    assert terms("What is the price of the stocks?") == ["price", "stock"]
    assert terms("calculates")[0] == terms("calculation")[0] == terms("calculating")[0]


def test_letters_of_any_script_are_words() -> None:
    assert terms("café Zürich") == ["café", "zürich"]


# -- search ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What's the weather like in Paris tomorrow?", "get_weather"),
        ("How much is 100 USD in euros? Convert it.", "convert_currency"),
        ("What is Apple's stock price today?", "getStockPrice"),
        ("Any news about Nvidia stock?", "stock_news.latest"),
        ("Email Bob the summary", "send_email"),
        ("I need a flight from SFO to JFK on May 3", "search_flights"),
        ("What's the area of a circle of radius 2?", "circle_area"),
        ("Put a meeting with Ana on my calendar", "calendar.create_event"),
        ("Find the book with ISBN 978-0262033848", "lookup"),  # matched by a parameter
    ],
)
def test_the_relevant_tool_ranks_first(catalogue: Catalogue, question: str, expected: str) -> None:
    assert catalogue.search(question, 3)[0] == expected


def test_a_two_word_concept_beats_a_tool_sharing_one_word(catalogue: Catalogue) -> None:
    ranked = catalogue.search("area of a rectangle", 10)
    assert ranked[0] == "rectangle_area"
    assert ranked.index("circle_area") > 0
    ranked = catalogue.search("circumference of a circle", 10)
    assert ranked[0] == "circle_circumference"


def test_search_keeps_the_limit_and_leaves_out_tools_without_a_shared_term(
    catalogue: Catalogue,
) -> None:
    assert len(catalogue.search("file", 1)) == 1
    assert set(catalogue.search("file", 10)) == {"read_file", "write_file"}
    assert catalogue.search("zebra quantum", 10) == []
    assert catalogue.search("", 10) == []


def test_ties_keep_catalogue_order() -> None:
    index = ToolIndex([ToolDoc("zulu", "same words"), ToolDoc("alfa", "same words")])
    assert index.search("same words") == ["zulu", "alfa"]


def test_tool_doc_reads_parameter_names_and_descriptions() -> None:
    doc = tool_doc(CATALOGUE[-1], tool_schema)
    assert doc == ToolDoc("lookup", "Look a record up.", (("isbn", "The book's ISBN number."),))


def test_the_index_is_built_once(catalogue: Catalogue) -> None:
    assert catalogue.index is catalogue.index
    assert len(catalogue.index) == len(CATALOGUE)


# -- listing -----------------------------------------------------------------------------


def test_listing_is_in_catalogue_order_with_used_tools_kept(catalogue: Catalogue) -> None:
    listed = merge_listing(catalogue, [["circle_area", "get_weather"], ["nope"]], ["send_email"])
    assert [t.name for t in listed] == ["get_weather", "send_email", "circle_area"]


def test_the_same_tools_render_the_same_bytes_whatever_their_ranking(
    catalogue: Catalogue,
) -> None:
    one = merge_listing(catalogue, [["read_file", "book_hotel", "lookup"]], [])
    two = merge_listing(catalogue, [["lookup"], ["book_hotel"]], ["read_file", "lookup"])
    assert describe_tools(one) == describe_tools(two)


# -- examples ----------------------------------------------------------------------------


def test_examples_are_kept_only_when_all_their_tools_are_listed() -> None:
    demo = Catalogue(
        [make_tool("search", "Search.", query=""), make_tool("math", "Math.", problem="")],
        tool_schema,
    )
    only_search = filter_examples(DEMO_EXAMPLES, ["search"], demo)
    assert only_search.count("Question:") == 2  # the two search-only examples
    assert "math(" not in only_search
    assert filter_examples(DEMO_EXAMPLES, ["search", "math"], demo).count("Question:") == 4
    assert filter_examples(DEMO_EXAMPLES, [], demo) == ""


def test_tool_call_examples_count_quoted_names(catalogue: Catalogue) -> None:
    examples = (
        'Question: weather?\n{"name": "get_weather", "args": {"city": "Oslo"}}\n###\n'
        'Question: mail?\n{"name": "send_email", "args": {}}'
    )
    kept = filter_examples(examples, ["get_weather"], catalogue)
    assert kept == 'Question: weather?\n{"name": "get_weather", "args": {"city": "Oslo"}}'


def test_example_words_that_are_not_catalogue_tools_are_ignored(catalogue: Catalogue) -> None:
    examples = "Question: x?\n1. get_weather(city='Oslo')\n2. join()<END_OF_PLAN>"
    assert filter_examples(examples, ["get_weather"], catalogue) == examples


# -- a round's listing (nodes.tool_listing) -----------------------------------------------


def plan(*tasks: dict[str, Any], thought: str | None = None) -> AIMessage:
    marker = {"kind": "plan", "tasks": list(tasks), "thought": thought}
    return AIMessage(content="", name="planner", additional_kwargs={KIND: marker})


def replan(feedback: str) -> AIMessage:
    marker = {"kind": "replan", "feedback": feedback}
    return AIMessage(content="", name="joiner", additional_kwargs={KIND: marker})


def test_a_replan_queries_the_feedback_thoughts_and_invented_tools(catalogue: Catalogue) -> None:
    messages = [
        HumanMessage("Weather in Oslo?"),
        plan(
            {"index": 1, "name": "get_weather", "args": {"city": "Oslo"}},
            {"index": 2, "name": "money_swap", "args": {"amount": 5, "to": "NOK"}},
            {"index": 3, "name": "translate_text", "args": {}, "thought": "then in Norwegian"},
            thought="missing tool: send an email",
        ),
        replan("convert the price to euros"),
    ]
    turn = current_turn(messages)
    queries = selection_queries(turn, catalogue)
    assert queries[0] == "Weather in Oslo?"
    assert queries[1:] == [
        "convert the price to euros missing tool: send an email money_swap NOK then in Norwegian"
    ]


def test_each_replan_widens_the_list_and_keeps_what_was_listed(catalogue: Catalogue) -> None:
    settings = Context(select_tools=1, select_tools_above=5)
    question = [HumanMessage("area of a circle or of a rectangle")]
    first = list_tools(catalogue, settings, question, current_turn(question))
    assert first.partial and first.names == ["circle_area"]
    messages = [*question, plan(), replan("a tool to email the result")]
    second = list_tools(catalogue, settings, messages, current_turn(messages))
    assert second.names == ["circle_area"]  # the system prompt's list stays as it was
    assert [t.name for t in second.added] == ["send_email", "rectangle_area"]


def test_tools_the_thread_called_stay_listed(catalogue: Catalogue) -> None:
    settings = Context(select_tools=1, select_tools_above=5)
    messages = [
        HumanMessage("Book me a hotel"),
        plan({"index": 1, "name": "book_hotel", "args": {}}, {"index": 2, "name": "nope"}),
        AIMessage("Booked.", name="joiner"),
        HumanMessage("What's the weather?"),
    ]
    assert used_tools(messages, catalogue) == ["book_hotel"]
    listing = list_tools(catalogue, settings, messages, current_turn(messages))
    assert listing.names == ["get_weather", "book_hotel"]


def test_up_to_the_threshold_every_tool_is_listed(catalogue: Catalogue) -> None:
    question = [HumanMessage("weather")]
    for settings in (
        Context(select_tools=3, select_tools_above=len(CATALOGUE)),
        Context(select_tools=0, select_tools_above=0),
    ):
        listing = list_tools(catalogue, settings, question, current_turn(question))
        assert not listing.partial and len(listing.tools) == len(CATALOGUE)


def test_a_selector_returning_no_list_is_replaced_by_the_lexical_search(
    catalogue: Catalogue, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Context(select_tools=lambda query, tools: "get_weather", select_tools_above=5)
    question = [HumanMessage("weather in Rome")]
    listing = list_tools(catalogue, settings, question, current_turn(question))
    assert "get_weather" in listing.names
    assert "returned str" in caplog.text


def test_select_tools_is_checked() -> None:
    for wrong in (-1, "ten", True, 2.5):
        with pytest.raises(ConfigurationError, match="select_tools must be a number"):
            Context(select_tools=wrong)
