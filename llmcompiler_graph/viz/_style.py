"""Shared colours and the lazy matplotlib import of the plotting helpers."""

from __future__ import annotations

from typing import Any

__all__ = ["COLORS", "STATUS_LABELS", "clip_text", "escape", "new_axes"]

COLORS: dict[str, str] = {
    "ok": "#4c9f70",
    "error": "#d1495b",
    "timeout": "#edae49",
    "skipped": "#b8b8b8",
    "pending": "#ffffff",
    "planner": "#3c6e9f",
    "joiner": "#7e57c2",
    "model": "#5d7b8a",
}
"""Fill colour by task status, and by kind of model call."""

STATUS_LABELS: dict[str, str] = {
    "ok": "ran, ok",
    "error": "failed",
    "timeout": "timed out",
    "skipped": "skipped (a dependency failed)",
    "pending": "no result yet",
}


def new_axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    """Return ``(figure, axes)``: the given axes, or a new pyplot-free figure.

    Raises:
        ImportError: If matplotlib is missing; the message says what to install.

    """
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "llmcompiler_graph.viz needs matplotlib: pip install 'llmcompiler-graph[bench]' "
            "(or pip install matplotlib)"
        ) from exc
    if ax is not None:
        return ax.figure, ax
    figure = Figure(figsize=figsize, layout="constrained")
    return figure, figure.add_subplot()


def clip_text(text: str, limit: int) -> str:
    """Shorten ``text`` to at most ``limit`` characters at a word boundary, ending in "…".

    Whitespace is collapsed first. The cut falls after the last whole word that fits, with
    trailing punctuation dropped (``"Using the adjusted figures, …"`` becomes ``"Using the
    adjusted figures…"``); a single word longer than half the limit is cut inside the word.
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if text[limit - 1] != " ":  # the cut falls inside a word: drop that word if we can
        space = head.rfind(" ")
        head = head[:space] if space >= limit // 2 else head
    return head.rstrip(" ,;:.-(") + "…"


def escape(text: str) -> str:
    """Escape ``$`` so matplotlib shows ``$1`` as text, not as mathtext."""
    return text.replace("$", r"\$")
