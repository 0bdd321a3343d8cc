"""Offline simulation layer: scripted chat models, simulated tools, a shared tokenizer.

Used by the benchmarks, the offline demo and the tests to run every approach
deterministically, with realistic model and tool latencies and token costs.
"""

from llmcompiler_graph.errors import ScriptExhaustedError
from llmcompiler_graph.sim.cache import (
    CACHE_RULES,
    CacheHit,
    CacheRules,
    PrefixCache,
    cost_with_cache,
)
from llmcompiler_graph.sim.models import CallRecord, Responder, ScriptedChatModel, prompt_tokens
from llmcompiler_graph.sim.profiles import PROFILES, LatencyProfile, cost_of, get_profile
from llmcompiler_graph.sim.tokenizer import count_tokens, tokenize
from llmcompiler_graph.sim.tools import (
    ToolCallRecord,
    simulated_latency,
    simulated_math_tool,
    simulated_search_tool,
)
from llmcompiler_graph.sim.toolstream import ToolCallStream, tool_call_stream

__all__ = [
    "CACHE_RULES",
    "PROFILES",
    "CacheHit",
    "CacheRules",
    "CallRecord",
    "LatencyProfile",
    "PrefixCache",
    "Responder",
    "ScriptExhaustedError",
    "ScriptedChatModel",
    "ToolCallRecord",
    "ToolCallStream",
    "cost_of",
    "cost_with_cache",
    "count_tokens",
    "get_profile",
    "prompt_tokens",
    "simulated_latency",
    "simulated_math_tool",
    "simulated_search_tool",
    "tokenize",
    "tool_call_stream",
]
