"""Draw a run's timeline as a Gantt chart: planner stream, each task, joiner."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from llmcompiler_graph.viz._style import COLORS, STATUS_LABELS, clip_text, escape, new_axes
from llmcompiler_graph.viz.spans import ARGS_CHARS, Span, arguments_text
from llmcompiler_graph.viz.timeline import Timeline

__all__ = ["plot_timeline", "to_spans"]

LABEL_CHARS = 44
"""Longest row label; a longer one is cut at a word boundary and listed whole under the chart."""


def plot_timeline(
    source: Any, *, ax: Any = None, title: str | None = None, origin: float | None = None
) -> Any:
    """Draw when each model call and task ran, one row each, in start order.

    Model calls are lighter until their first token arrives, then solid while they stream.
    A tick on a task's row marks when its plan line was parsed; a dotted line from the tick
    to the bar is time spent waiting for the tasks it depends on. Row labels are shortened
    at word boundaries; the full text of each shortened one is listed under the chart (and
    is :attr:`Span.text` of :func:`to_spans`). The legend sits outside the plotting area.

    Args:
        source: A :class:`Timeline`, or spans from elsewhere: :class:`Span` objects, the
            scheduler's ``Outcome`` objects (a list or an ``{index: Outcome}`` dict), or the
            simulation's ``CallRecord`` / ``ToolCallRecord`` lists (any mix).
        ax: Matplotlib axes to draw on; a new figure is made when omitted.
        title: Figure title.
        origin: The time shown as 0 (``time.perf_counter()`` seconds); defaults to the run's
            start (a :class:`Timeline`'s) or the earliest bar.

    Returns:
        The matplotlib ``Figure``.

    Raises:
        ValueError: If there is nothing to draw.

    """
    spans, start = to_spans(source)
    if not spans:
        raise ValueError(
            "plot_timeline: no spans to draw; record a run with Timeline().run(app, inputs) "
            "or pass the scheduler's outcomes"
        )
    zero = (
        origin
        if origin is not None
        else (start if start is not None else min(s.start for s in spans))
    )
    shown = [clip_text(s.label, LABEL_CHARS) for s in spans]
    notes = _full_texts(spans, shown)
    height = 0.34 * len(spans) + 1.4 + 0.16 * len(notes)
    figure, axes = new_axes(ax, (9.0, max(2.4, height)))
    for row, span in enumerate(spans):
        _bar(axes, row, span, zero)
    axes.set_yticks(range(len(spans)), [escape(label) for label in shown], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("time since the run started (s)")
    axes.set_ylabel("model calls and tasks, in start order")
    if notes:  # the full text of every shortened label, under the chart
        axes.annotate(
            escape("Full labels:\n" + "\n".join(notes)),
            (0.0, 0.0),
            xycoords="axes fraction",
            xytext=(0, -34),
            textcoords="offset points",
            va="top",
            fontsize=7,
            color="#333333",
        )
    right = max(s.end for s in spans) - zero + 0.08 * _width(spans)
    if ax is not None:  # keep room for what is already drawn (e.g. axes sharing x)
        right = max(right, axes.get_xlim()[1])
    axes.set_xlim(left=0, right=right)
    axes.grid(axis="x", alpha=0.3)
    axes.set_title(escape(title or "When each step ran"), fontsize=10)
    _legend(axes, spans)
    return figure


def _full_texts(spans: list[Span], shown: list[str]) -> list[str]:
    """Return one line per row whose label was shortened: its full text, wrapped."""
    import textwrap

    lines: list[str] = []
    for span, label in zip(spans, shown, strict=True):
        if span.text != label:
            lines += textwrap.wrap(span.text, 150, subsequent_indent="    ")
    return lines


def to_spans(source: Any) -> tuple[list[Span], float | None]:
    """Normalize a timeline source to ``(spans in start order, origin or None)``."""
    if isinstance(source, Timeline):
        return source.spans(), source.origin
    items: Iterable[Any] = source.values() if isinstance(source, Mapping) else source
    spans = [_span(item) for item in items]
    return sorted(spans, key=lambda s: s.start), None


def _span(item: Any) -> Span:
    if isinstance(item, Span):
        return item
    if hasattr(item, "started_at") and hasattr(item, "finished_at"):  # scheduler Outcome
        start = item.started_at if item.started_at is not None else item.finished_at
        return Span(
            f"${item.index} {item.name}",
            "task",
            start,
            item.finished_at,
            str(item.status),
            planned=getattr(item, "submitted_at", None),
            index=item.index,
        )
    if hasattr(item, "tool") and hasattr(item, "start"):  # simulated tool call record
        args = dict(item.args or {})
        label = f"{item.tool}({arguments_text(args, ARGS_CHARS)})"
        full = f"{item.tool}({arguments_text(args)})"
        return Span(label, "task", item.start, item.end, detail=full if full != label else None)
    if hasattr(item, "first_token") and hasattr(item, "start"):  # scripted model call record
        label = f"model call {item.index + 1}"
        return Span(label, "model", item.start, item.end, first_token=item.first_token or None)
    raise TypeError(
        f"plot_timeline cannot read {type(item).__name__}: pass a Timeline, Span objects, "
        "scheduler Outcomes, or the simulation's CallRecord/ToolCallRecord"
    )


def _width(spans: list[Span]) -> float:
    return max(s.end for s in spans) - min(s.start for s in spans)


def _bar(axes: Any, row: int, span: Span, zero: float) -> None:
    start, end = span.start - zero, span.end - zero
    color = COLORS.get(span.kind if span.kind != "task" else span.status, COLORS["model"])
    if span.end <= span.start:  # never ran (skipped, invalid): a cross at the moment it ended
        axes.plot([start], [row], marker="X", markersize=9, color=color, markeredgecolor="#333333")
        axes.annotate(
            span.status, (start, row), xytext=(8, -3), textcoords="offset points", fontsize=7
        )
        return
    split = span.first_token - zero if span.first_token is not None else start
    if split > start:
        axes.barh(row, split - start, left=start, color=color, alpha=0.3, edgecolor=color)
    axes.barh(row, end - split, left=split, color=color, edgecolor="#333333", linewidth=0.5)
    if span.planned is not None:
        planned = span.planned - zero
        axes.plot([planned, start], [row, row], linestyle=":", color="#555555", linewidth=1)
        axes.plot([planned], [row], marker="|", markersize=12, color="#222222")
    axes.annotate(
        f"{end - start:.2f} s", (end, row), xytext=(4, -3), textcoords="offset points", fontsize=7
    )


def _legend(axes: Any, spans: list[Span]) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = []
    kinds = {s.kind for s in spans}
    for kind, label in (("planner", "planner"), ("joiner", "joiner"), ("model", "model call")):
        if kind in kinds:
            handles.append(Patch(facecolor=COLORS[kind], label=label))
    if any(s.first_token is not None and s.first_token - s.start > 0.005 for s in spans):
        handles.append(
            Patch(facecolor=COLORS["planner"], alpha=0.3, label="waiting for first token")
        )
    for status in sorted(
        {s.status for s in spans if s.kind == "task"}, key=list(STATUS_LABELS).index
    ):
        handles.append(Patch(facecolor=COLORS[status], label=f"task {STATUS_LABELS[status]}"))
    if any(s.planned is not None for s in spans):
        handles.append(
            Line2D([], [], marker="|", linestyle=":", color="#222222", label="plan line parsed")
        )
    axes.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
