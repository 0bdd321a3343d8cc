"""Latency and price profiles of simulated models.

Holds :class:`LatencyProfile` (time to first token, output rate, prices), the named
profiles in :data:`PROFILES`, :func:`get_profile` to look one up by name and
:func:`cost_of` to price a call's token counts.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PROFILES", "LatencyProfile", "cost_of", "get_profile"]


@dataclass(frozen=True)
class LatencyProfile:
    """Latency and price figures of a simulated model.

    A rate of 0 tokens/s means tokens are emitted without delay.
    """

    name: str
    ttft_s: float
    output_tokens_per_s: float
    input_cost_per_mtok: float
    output_cost_per_mtok: float
    source: str = ""
    """Where the figures come from; they are approximations."""


# Figures are approximations of publicly reported measurements (OpenAI pricing pages
# and third-party latency trackers such as artificialanalysis.ai, 2023-2024); they set
# the relative speed/cost of the simulation, not a claim about any live endpoint.
PROFILES: dict[str, LatencyProfile] = {
    "instant": LatencyProfile("instant", 0.0, 0.0, 0.0, 0.0, "No latency, no cost (unit tests)."),
    # gpt-3.5-turbo: ~0.4-0.6 s TTFT, ~60-90 output tok/s, $0.50 / $1.50 per Mtok.
    "gpt-3.5-like": LatencyProfile(
        "gpt-3.5-like", 0.5, 75.0, 0.50, 1.50, "Approximates gpt-3.5-turbo (public reports)."
    ),
    # gpt-4-turbo: ~0.8-1.0 s TTFT, ~20-35 output tok/s, $10 / $30 per Mtok.
    "gpt-4-like": LatencyProfile(
        "gpt-4-like", 0.9, 28.0, 10.0, 30.0, "Approximates gpt-4-turbo (public reports)."
    ),
}


def get_profile(name: str) -> LatencyProfile:
    """Return the profile called ``name``.

    Raises:
        ValueError: If there is no such profile; the message lists valid names.

    """
    try:
        return PROFILES[name]
    except KeyError:
        msg = f"Unknown latency profile {name!r}; valid names: {', '.join(sorted(PROFILES))}"
        raise ValueError(msg) from None


def cost_of(profile: LatencyProfile, input_tokens: int, output_tokens: int) -> float:
    """Return the USD cost of a call with the given token counts under ``profile``."""
    return (
        input_tokens * profile.input_cost_per_mtok + output_tokens * profile.output_cost_per_mtok
    ) / 1e6
