"""A provider's prompt cache, simulated: how much of a prompt's prefix is served from cache.

Hosted models discount a prompt prefix they have seen recently and skip most of its
prefill. :class:`PrefixCache` applies one provider's rules (:class:`CacheRules`) to the
prompts a simulated model receives, so a benchmark can report cached input tokens, their
cost and the time to first token they save:

* ``"openai"``: automatic. A prefix of at least 1,024 tokens seen before is served from
  cache, in steps of 128 tokens; cached tokens cost half the input price.
* ``"anthropic"``: explicit. Only prefixes that end at a ``cache_control`` breakpoint (a
  content block carrying ``{"cache_control": {...}}``) are written, at 1.25 times the input
  price; a later prompt reads them at a tenth of the price if it has the same prefix up to
  its own breakpoint or up to one of the 20 message boundaries before it. At least 1,024
  tokens.
* ``"vllm"``: automatic prefix caching of a self-hosted server (vLLM, SGLang): blocks of 16
  tokens, no minimum beyond one block, no price (the saving is prefill time only).

A prompt is read as the simulated tokenizer sees it (:func:`prompt_token_count` equals
:func:`~llmcompiler_graph.sim.prompt_tokens`): the bound tools' schemas first, then every
message in order (its role, its text, its tool calls). Entries expire ``ttl_s`` seconds after
their last use. The cache is safe to share between threads and between models (one cache
per simulated model name is what a provider keeps per deployment).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from llmcompiler_graph.sim.profiles import LatencyProfile
from llmcompiler_graph.sim.tokenizer import tokenize
from llmcompiler_graph.sim.toolstream import tool_call_json

__all__ = [
    "CACHE_RULES",
    "CacheHit",
    "CacheRules",
    "PrefixCache",
    "breakpoint_positions",
    "common_prefix_tokens",
    "cost_with_cache",
    "prompt_token_count",
    "servable",
]

_LOOKBACK_BLOCKS = 20
"""Anthropic reads an entry ending at any of the 20 block boundaries before a breakpoint."""


@dataclass(frozen=True)
class CacheRules:
    """One provider's prompt-caching rules.

    Attributes:
        name: The provider's name (a key of :data:`CACHE_RULES`).
        min_tokens: Shortest prefix that is cached.
        block_tokens: Granularity of automatic hits (a cached prefix is a multiple of it,
            counted from ``min_tokens``); explicit caches hit at breakpoints instead.
        explicit: Only prefixes ending at a ``cache_control`` breakpoint are written.
        read_price: What a cached input token costs, as a fraction of the input price.
        write_price: What a token written to the cache costs, as a fraction of the input
            price (Anthropic charges a premium; automatic caches do not).
        prefill_share: The share of a token's prefill time a cached token still takes.
        ttl_s: Seconds an entry lives after its last use.
        source: Where the figures come from.

    """

    name: str
    min_tokens: int
    block_tokens: int
    explicit: bool
    read_price: float
    write_price: float = 1.0
    prefill_share: float = 0.02
    ttl_s: float = 300.0
    source: str = ""


CACHE_RULES: dict[str, CacheRules] = {
    "openai": CacheRules(
        "openai",
        min_tokens=1024,
        block_tokens=128,
        explicit=False,
        read_price=0.5,
        source="OpenAI prompt caching: automatic from 1,024 tokens in 128-token steps, cached "
        "input at half price (gpt-4o family; newer models discount more).",
    ),
    "anthropic": CacheRules(
        "anthropic",
        min_tokens=1024,
        block_tokens=1,
        explicit=True,
        read_price=0.1,
        write_price=1.25,
        source="Anthropic prompt caching: up to 4 cache_control breakpoints, at least 1,024 "
        "tokens (2,048 for Haiku models), writes at 1.25x and reads at 0.1x the input price, "
        "5-minute lifetime refreshed on use.",
    ),
    "vllm": CacheRules(
        "vllm",
        min_tokens=16,
        block_tokens=16,
        explicit=False,
        read_price=1.0,
        source="vLLM / SGLang automatic prefix caching: KV blocks of 16 tokens reused, no "
        "price (self-hosted): only the prefill time is saved.",
    ),
}
"""The rules of each provider the simulation knows."""


@dataclass(frozen=True)
class CacheHit:
    """What the cache did for one prompt.

    Attributes:
        input_tokens: The prompt's tokens.
        cached_tokens: Tokens of its prefix read from the cache.
        written_tokens: Tokens newly written to the cache (billed at ``write_price``).

    """

    input_tokens: int
    cached_tokens: int = 0
    written_tokens: int = 0

    @property
    def uncached_tokens(self) -> int:
        """Return the tokens neither read from the cache nor written to it."""
        return self.input_tokens - self.cached_tokens - self.written_tokens


def cost_with_cache(
    profile: LatencyProfile,
    input_tokens: int,
    output_tokens: int,
    *,
    cached_tokens: int = 0,
    written_tokens: int = 0,
    rules: CacheRules | None = None,
) -> float:
    """Return the USD cost of a call whose prompt was partly served from (or written to) cache.

    Without ``rules`` (no cache), every input token is billed at the profile's input price.
    """
    if rules is None:
        cached_tokens = written_tokens = 0
    read = rules.read_price if rules is not None else 1.0
    write = rules.write_price if rules is not None else 1.0
    plain = input_tokens - cached_tokens - written_tokens
    billed_input = plain + cached_tokens * read + written_tokens * write
    return (
        billed_input * profile.input_cost_per_mtok + output_tokens * profile.output_cost_per_mtok
    ) / 1e6


def _text(message: BaseMessage) -> str:
    return message.content if isinstance(message.content, str) else message.text


def _marked(message: BaseMessage) -> bool:
    """Tell whether ``message`` carries a ``cache_control`` breakpoint on a content block."""
    content = message.content
    return isinstance(content, list) and any(
        isinstance(block, dict) and block.get("cache_control") for block in content
    )


def _segments(
    messages: Sequence[BaseMessage], tools: Sequence[Any]
) -> list[tuple[str, list[str], bool]]:
    """Return the prompt as (role, tokens, ends at a breakpoint) per tool schema and message."""
    segments: list[tuple[str, list[str], bool]] = [
        ("tool", tokenize(json.dumps(t, sort_keys=True, default=str)), False) for t in tools
    ]
    for message in messages:
        tokens = tokenize(_text(message))
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                tokens += tokenize(tool_call_json(call["name"], call["args"]))
        segments.append((message.type, tokens, _marked(message)))
    # Anthropic caches the tool definitions with the system prompt: a breakpoint on the
    # system message covers them, and so does one on the last tool (not modelled here).
    return segments


def prompt_token_count(messages: Sequence[BaseMessage], tools: Sequence[Any] = ()) -> int:
    """Count a prompt's tokens the way the cache reads it (equal to ``sim.prompt_tokens``)."""
    return sum(len(tokens) for _, tokens, _ in _segments(messages, tools))


def common_prefix_tokens(
    first: Sequence[BaseMessage], second: Sequence[BaseMessage], tools: Sequence[Any] = ()
) -> int:
    """Return how many leading tokens two prompts share (a message's role is part of it)."""
    shared = 0
    for (role_a, tokens_a, _), (role_b, tokens_b, _) in zip(
        _segments(first, tools), _segments(second, tools), strict=False
    ):
        if role_a != role_b:
            break
        for token_a, token_b in zip(tokens_a, tokens_b, strict=False):
            if token_a != token_b:
                return shared
            shared += 1
        if len(tokens_a) != len(tokens_b):
            break
    return shared


def servable(rules: CacheRules, tokens: int) -> int:
    """Return the most of a ``tokens``-long prefix seen before that ``rules`` serve from cache.

    For automatic caches it is the prefix rounded down to a hit's granularity (0 below the
    minimum); explicit caches serve a prefix that ends at a breakpoint whole.
    """
    if tokens < rules.min_tokens:
        return 0
    if rules.explicit:
        return tokens
    step = max(rules.block_tokens, 1)
    return rules.min_tokens + (tokens - rules.min_tokens) // step * step


def breakpoint_positions(messages: Sequence[BaseMessage], tools: Sequence[Any] = ()) -> list[int]:
    """Return the token positions where the prompt's ``cache_control`` breakpoints end."""
    positions, at = [], 0
    for _, tokens, marked in _segments(messages, tools):
        at += len(tokens)
        if marked:
            positions.append(at)
    return positions


class PrefixCache:
    """A simulated provider cache of prompt prefixes, under one provider's :class:`CacheRules`.

    Call :meth:`serve` once per model call: it returns how many tokens of the prompt were
    read from the cache and written to it, and records the prompt's prefixes for later calls.
    """

    def __init__(
        self, rules: CacheRules | str = "openai", *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Create an empty cache applying ``rules`` (or the rules named so in CACHE_RULES)."""
        self.rules = CACHE_RULES[rules] if isinstance(rules, str) else rules
        self._clock = clock
        self._entries: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Return the number of prefixes stored (expired ones included until next use)."""
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def serve(self, messages: Sequence[BaseMessage], tools: Sequence[Any] = ()) -> CacheHit:
        """Return what the cache serves for this prompt, then store its cacheable prefixes."""
        segments = _segments(messages, tools)
        boundaries: list[int] = []  # token position after each segment
        breakpoints: list[int] = []
        total = 0
        for _, tokens, marked in segments:
            total += len(tokens)
            boundaries.append(total)
            if marked:
                breakpoints.append(total)
        rules = self.rules
        if rules.explicit:
            writable = sorted({b for b in breakpoints if b >= rules.min_tokens})
            readable: set[int] = set(writable)
            for b in breakpoints:
                before = [x for x in boundaries if x <= b]
                readable.update(x for x in before[-_LOOKBACK_BLOCKS - 1 :] if x >= rules.min_tokens)
        else:
            writable = list(range(rules.min_tokens, total + 1, max(rules.block_tokens, 1)))
            readable = set(writable)
        digests = _prefix_digests(segments, sorted(readable | set(writable)))
        now = self._clock()
        with self._lock:
            cached = 0
            for position in sorted(readable, reverse=True):
                seen = self._entries.get(digests[position])
                if seen is not None and now - seen <= rules.ttl_s:
                    cached = position
                    break
            written = max((p for p in writable if p > cached), default=cached) - cached
            for position in writable:
                if position <= cached + written:
                    self._entries[digests[position]] = now
            if cached:  # a read refreshes the entry's lifetime
                self._entries[digests[cached]] = now
        return CacheHit(total, cached, written if rules.write_price != 1.0 else 0)


def _prefix_digests(
    segments: Iterable[tuple[str, list[str], bool]], positions: Sequence[int]
) -> dict[int, bytes]:
    """Return the digest of the prompt's first ``p`` tokens for each ``p`` in ``positions``."""
    wanted = sorted(set(positions))
    digests: dict[int, bytes] = {}
    running = hashlib.sha256()
    at, k = 0, 0
    for role, tokens, _ in segments:
        for number, token in enumerate(tokens):
            while k < len(wanted) and wanted[k] == at:  # the digest of the first ``at`` tokens
                digests[at] = running.digest()
                k += 1
            if number == 0:  # a message's role is part of its first token's identity
                running.update(b"\x1e" + role.encode() + b"\x1e")
            running.update(token.encode() + b"\x1f")
            at += 1
    while k < len(wanted) and wanted[k] == at:
        digests[at] = running.digest()
        k += 1
    return digests
