"""A plan message reads as the planner wrote it in Markdown renderers (Agent Chat UI).

Its text is a fenced code block, so ``$1", "$2`` is not read as inline math; what the planner
sees on a replan keeps its own format (the plan's lines, not the block).
"""

from __future__ import annotations

from fakes.apps import scripted_app
from langchain_core.messages import AIMessage
from markdown_it import MarkdownIt

from llmcompiler_graph.nodes.transcript import code_block
from llmcompiler_graph.state import kind_of

PLAN = (
    "Thought: look both up, then compare.\n"
    '1. search(query="Paris")\n'
    '2. search(query="Berlin")\n'
    '3. math(problem="which is larger", context=["$1", "$2"])\n'
    "4. join()"
)


def blocks(text: str) -> list[tuple[str, str]]:
    """Return the top-level Markdown blocks of ``text`` as (type, content)."""
    return [(t.type, t.content) for t in MarkdownIt("commonmark").parse(text) if t.level == 0]


def test_a_text_plan_is_shown_as_a_code_block_of_what_the_planner_wrote() -> None:
    replan = 'Thought: again.\n5. search(query="Rome")\n6. join()'
    built = scripted_app(
        [f"{PLAN}<END_OF_PLAN>", f"{replan}<END_OF_PLAN>"],
        joins=["Thought: more.\nAction: Replan(need Rome)", "Action: Finish(done)"],
    )
    out = built.app.invoke({"messages": [("user", "q")]})
    plans = [m for m in out["messages"] if isinstance(m, AIMessage) and kind_of(m) == "plan"]
    assert [blocks(str(p.content)) for p in plans] == [
        [("fence", f"{PLAN}\n")],
        [("fence", f"{replan}\n")],
    ]
    # The replanner reads the first plan's lines as they were, not the Markdown block.
    replanner_prompt = built.model.calls[2][-1].text
    assert '3. math(problem="which is larger", context=["$1", "$2"])' in replanner_prompt
    assert "```" not in replanner_prompt


def test_the_fence_is_longer_than_any_backtick_run_in_the_plan() -> None:
    text = 'Thought: the tool takes ```code```.\n1. run(code="````x````")'
    assert blocks(code_block(text)) == [("fence", f"{text}\n")]
    assert code_block("") == "" and code_block("  \n") == "  \n"
