"""The simulated prompt cache's accounting, on hand-built prompts of known token counts."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from llmcompiler_graph.sim import ScriptedChatModel, get_profile, prompt_tokens
from llmcompiler_graph.sim.cache import (
    CACHE_RULES,
    CacheHit,
    PrefixCache,
    breakpoint_positions,
    common_prefix_tokens,
    cost_with_cache,
    prompt_token_count,
    servable,
)
from llmcompiler_graph.sim.replies import chunk_schedule

BREAK = {"type": "ephemeral"}


def words(n: int, word: str = "abcd") -> str:
    """Return a text of exactly ``n`` simulated tokens (one per word)."""
    return word + f" {word}" * (n - 1)


def marked(message: BaseMessage) -> BaseMessage:
    """Return ``message`` as one text block carrying a ``cache_control`` breakpoint."""
    block = {"type": "text", "text": str(message.content), "cache_control": BREAK}
    return message.model_copy(update={"content": [block]})


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_counts_match_the_simulated_models_counts() -> None:
    call = {"name": "search", "args": {"query": "x"}, "id": "1", "type": "tool_call"}
    messages = [
        SystemMessage(words(30)),
        HumanMessage("What is it?"),
        AIMessage("Looking.", tool_calls=[call]),
        marked(HumanMessage(words(7, "wxyz"))),
    ]
    tools = [{"type": "function", "function": {"name": "search", "parameters": {}}}]
    assert prompt_token_count(messages, tools) == prompt_tokens(messages, tools)
    assert prompt_token_count([SystemMessage(words(1500))]) == 1500


def test_openai_rules_nothing_below_1024_tokens() -> None:
    cache = PrefixCache("openai")
    prompt = [SystemMessage(words(1000))]
    assert cache.serve(prompt) == CacheHit(1000)
    assert cache.serve(prompt) == CacheHit(1000)  # seen before, still too short


def test_openai_rules_prefix_in_128_token_steps() -> None:
    cache = PrefixCache("openai")
    first = [SystemMessage(words(1500)), HumanMessage(words(10, "wxyz"))]
    assert cache.serve(first) == CacheHit(1510)  # nothing seen yet
    # Same system prompt, another question: 1,024 + 3 * 128 = 1,408 tokens read.
    second = [SystemMessage(words(1500)), HumanMessage(words(300, "mnop"))]
    assert cache.serve(second) == CacheHit(1800, 1408)
    # The second prompt stored its own prefixes, up to 1,792 tokens.
    third = [*second, AIMessage("ok")]
    assert cache.serve(third).cached_tokens == 1792


def test_a_change_at_the_start_or_in_a_role_is_a_miss() -> None:
    cache = PrefixCache("openai")
    cache.serve([SystemMessage(words(1500))])
    assert cache.serve([SystemMessage("next_index 2 " + words(1500))]).cached_tokens == 0
    assert cache.serve([HumanMessage(words(1500))]).cached_tokens == 0  # same text, a user's
    assert cache.serve([SystemMessage(words(1500))]).cached_tokens == 1408


def test_entries_expire_after_their_lifetime_and_a_read_refreshes_them() -> None:
    clock = Clock()
    cache = PrefixCache("openai", clock=clock)
    prompt = [SystemMessage(words(1100))]
    cache.serve(prompt)
    clock.now = 290.0
    assert cache.serve(prompt).cached_tokens == 1024  # read: lifetime starts again
    clock.now = 580.0
    assert cache.serve(prompt).cached_tokens == 1024
    clock.now = 900.0  # 320 s idle
    assert cache.serve(prompt).cached_tokens == 0


def test_anthropic_rules_write_and_read_only_at_breakpoints() -> None:
    cache = PrefixCache("anthropic")
    system = marked(SystemMessage(words(1500)))
    assert cache.serve([system, HumanMessage(words(20, "wxyz"))]) == CacheHit(1520, 0, 1500)
    assert cache.serve([system, HumanMessage(words(40, "mnop"))]) == CacheHit(1540, 1500, 0)
    # Without breakpoints nothing is ever written.
    bare = [SystemMessage(words(1500, "efgh")), HumanMessage("q")]
    cache.serve(bare)
    assert cache.serve(bare).cached_tokens == 0


def test_anthropic_reads_an_earlier_breakpoint_within_the_lookback() -> None:
    cache = PrefixCache("anthropic")
    system = marked(SystemMessage(words(1500)))
    q1, a1 = HumanMessage(words(50, "wxyz")), AIMessage(words(60, "mnop"))
    q2, a2 = HumanMessage(words(30, "qrst")), AIMessage(words(40, "uvwx"))
    # Question 2 of a thread: breakpoints on the system prompt and on the conversation's end.
    assert cache.serve([system, marked(a1), q2]) == CacheHit(1590, 0, 1560)
    two = cache.serve([system, q1, marked(a1), HumanMessage("q2")])
    assert two == CacheHit(1612, 1500, 110)  # the system prompt read, the conversation written
    # Question 3: its conversation ends later; the entry at a1's end is found looking back.
    three = cache.serve([system, q1, a1, q2, marked(a2), HumanMessage("q3")])
    assert three == CacheHit(1682, 1610, 70)


def test_anthropic_below_its_minimum_writes_nothing() -> None:
    cache = PrefixCache("anthropic")
    prompt = [marked(SystemMessage(words(600))), HumanMessage("q")]
    assert cache.serve(prompt) == CacheHit(601)
    assert cache.serve(prompt) == CacheHit(601)
    assert breakpoint_positions(prompt) == [600]


def test_vllm_rules_blocks_of_16_without_a_price() -> None:
    cache = PrefixCache("vllm")
    prompt = [SystemMessage(words(40)), HumanMessage("q")]
    cache.serve(prompt)
    assert cache.serve(prompt).cached_tokens == 32
    profile = get_profile("gpt-3.5-like")
    rules = CACHE_RULES["vllm"]
    assert cost_with_cache(profile, 41, 10, cached_tokens=32, rules=rules) == pytest.approx(
        cost_with_cache(profile, 41, 10)
    )


def test_cost_discounts_cached_tokens_and_charges_writes() -> None:
    profile = get_profile("gpt-4-like")  # $10 / $30 per million tokens
    plain = cost_with_cache(profile, 2000, 100)
    assert plain == pytest.approx((2000 * 10 + 100 * 30) / 1e6)
    openai = cost_with_cache(profile, 2000, 100, cached_tokens=1408, rules=CACHE_RULES["openai"])
    assert openai == pytest.approx(((592 + 1408 * 0.5) * 10 + 100 * 30) / 1e6)
    anthropic = cost_with_cache(
        profile, 2000, 100, cached_tokens=1500, written_tokens=400, rules=CACHE_RULES["anthropic"]
    )
    assert anthropic == pytest.approx(((100 + 1500 * 0.1 + 400 * 1.25) * 10 + 100 * 30) / 1e6)
    # Without rules the counts are ignored: no cache, no discount.
    assert cost_with_cache(profile, 2000, 100, cached_tokens=1408) == pytest.approx(plain)


def test_common_prefix_and_what_a_cache_can_serve_of_it() -> None:
    first = [SystemMessage(words(1500)), HumanMessage(words(10, "wxyz"))]
    replan = [*first, HumanMessage(words(200, "mnop"))]
    assert common_prefix_tokens(first, replan) == 1510
    assert common_prefix_tokens(first, [SystemMessage(words(1500)), AIMessage("wxyz")]) == 1500
    assert common_prefix_tokens([HumanMessage("a b")], [SystemMessage("a b")]) == 0
    assert servable(CACHE_RULES["openai"], 1510) == 1408
    assert servable(CACHE_RULES["openai"], 1000) == 0
    assert servable(CACHE_RULES["anthropic"], 1510) == 1510
    # The replan reads what the first prompt left, up to its new rounds (rounded down).
    cache = PrefixCache("openai")
    cache.serve(first)
    assert cache.serve(replan).cached_tokens == servable(cache.rules, 1510)


# -- in a scripted model ------------------------------------------------------------------


def test_a_scripted_model_reports_cached_tokens_costs_them_and_prefills_them_fast() -> None:
    profile = get_profile("gpt-4-like")
    model = ScriptedChatModel(
        responses=["one", "two"],
        latency=profile,
        prompt_cache=PrefixCache("openai"),
        prefill_s_per_token=0.0001,
    )
    prompt = [SystemMessage(words(1500)), HumanMessage("q")]
    first = model._begin(prompt, None, None)
    second = model._begin(prompt, None, None)
    assert first.usage["input_token_details"] == {"cache_read": 0, "cache_creation": 0}
    assert second.usage["input_token_details"] == {"cache_read": 1408, "cache_creation": 0}
    assert first.prefill_s == pytest.approx(1501 * 0.0001)
    share = CACHE_RULES["openai"].prefill_share
    assert second.prefill_s == pytest.approx((1501 - 1408 * (1 - share)) * 0.0001)
    for turn in (first, second):  # the first token waits for the prefill, then the ttft
        deadline, _ = next(chunk_schedule(turn, profile))
        assert deadline - turn.start == pytest.approx(turn.prefill_s + profile.ttft_s)
    assert model.cost_usd(second.usage) == pytest.approx(
        cost_with_cache(profile, 1501, 1, cached_tokens=1408, rules=CACHE_RULES["openai"])
    )


def test_calls_record_what_the_cache_served_and_the_total_cost_uses_it() -> None:
    model = ScriptedChatModel(
        responses=["one", "two"],
        latency=get_profile("gpt-3.5-like"),
        prompt_cache=PrefixCache("openai"),
    )
    prompt = [SystemMessage(words(1500)), HumanMessage("q")]
    replies = [model.invoke(prompt), model.invoke(prompt)]
    assert [r.usage_metadata["input_token_details"]["cache_read"] for r in replies] == [0, 1408]  # type: ignore[index]
    assert sorted(e.cached_tokens for e in model.events) == [0, 1408]
    profile, rules = get_profile("gpt-3.5-like"), CACHE_RULES["openai"]
    expected = sum(
        cost_with_cache(profile, 1501, 1, cached_tokens=c, rules=rules) for c in (0, 1408)
    )
    assert model.cost_usd() == pytest.approx(expected)
    plain = ScriptedChatModel(responses=["one"], latency=get_profile("gpt-3.5-like"))
    reply = plain.invoke(prompt)
    assert "input_token_details" not in (reply.usage_metadata or {})
