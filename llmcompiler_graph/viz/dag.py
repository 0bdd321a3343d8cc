"""Draw a plan's task DAG: tasks as boxes, ``$N`` dependencies as arrows, a join per round.

Ordering edges (two tasks share a resource, one writes it: ``tool_effects``) are dashed
arrows of another colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import BaseMessage, ToolMessage

from llmcompiler_graph.state import current_turn, kind_of, planned_tasks, result_record
from llmcompiler_graph.viz._style import COLORS, STATUS_LABELS, clip_text, escape, new_axes

__all__ = ["plot_plan_dag"]

_ORDER_COLOR = "#d2691e"
"""The colour of an ordering edge (a shared resource), beside the black ``$N`` arrows."""
_COLUMN_INCHES = 2.4
_ROW_INCHES = 0.85


@dataclass
class _Node:
    key: str
    label: str
    status: str
    column: int
    parents: list[str]
    row: float = 0.0
    dashed: bool = False
    after: list[str] = field(default_factory=list)
    """Tasks this one runs after because they share a resource (drawn dashed)."""


def plot_plan_dag(source: Any, *, ax: Any = None, title: str | None = None) -> Any:
    """Draw the task graph of a plan, or of every plan (round) of the last question.

    Each task is a box ``$N tool`` with its first argument, coloured by how it ended (when
    results are present); an arrow ``A -> B`` means B uses A's result (``$A``), a dashed
    orange one that B runs after A because they share a resource and one of them writes it
    (``tool_effects``). Tasks in one column neither depend on nor wait for each other, so
    they run at the same time. Each round ends in a ``join`` box; a dashed grey arrow from
    it leads to the next round after a replan.

    Args:
        source: A plan ``AIMessage`` (name ``"planner"``), a list of messages, or the graph's
            output state (``{"messages": [...]}``).
        ax: Matplotlib axes to draw on; a new figure is made when omitted.
        title: Figure title; defaults to the question.

    Returns:
        The matplotlib ``Figure``.

    Raises:
        ValueError: If ``source`` holds no plan.

    """
    messages = _messages(source)
    turn = current_turn(messages)
    if not turn.rounds:
        raise ValueError(
            "plot_plan_dag: no plan found; pass the graph's output state, its messages, "
            "or a plan AIMessage (name 'planner')"
        )
    answered = bool(messages) and kind_of(messages[-1]) == "answer"
    nodes, starts = _layout(turn.rounds, answered)
    columns = max(n.column for n in nodes.values()) + 1
    rows = max(sum(1 for n in nodes.values() if n.column == c) for c in range(columns))
    size = (max(6.0, _COLUMN_INCHES * columns), max(2.6, _ROW_INCHES * rows + 1.3))
    figure, axes = new_axes(ax, size)
    _draw(axes, nodes)
    axes.set_xlim(-0.7, columns - 0.3)
    axes.set_ylim(-(rows - 1) / 2 - 0.8, (rows - 1) / 2 + 0.6)
    axes.axis("off")
    if len(starts) > 1:  # name the rounds above their first column
        top = (rows - 1) / 2 + 0.45
        for number, column in enumerate(starts, start=1):
            label = "plan 1" if number == 1 else f"plan {number} (replan {number - 1})"
            axes.text(column, top, label, ha="center", fontsize=8, color="#555555", style="italic")
    question = turn.question.text if turn.question is not None else ""
    axes.set_title(
        escape(title if title is not None else clip_text(question, 90) or "Plan"), fontsize=10
    )
    _legend(axes, {n.status for n in nodes.values()}, any(n.after for n in nodes.values()))
    return figure


def _messages(source: Any) -> list[BaseMessage]:
    if isinstance(source, Mapping) and "messages" in source:
        source = source["messages"]
    if isinstance(source, BaseMessage):
        return [source]
    if isinstance(source, Sequence) and all(isinstance(m, BaseMessage) for m in source):
        return list(source)
    raise TypeError(
        "plot_plan_dag takes a plan AIMessage, a list of messages or the output state, "
        f"got {type(source).__name__}"
    )


def _layout(rounds: Sequence[Any], answered: bool) -> tuple[dict[str, _Node], list[int]]:
    nodes: dict[str, _Node] = {}
    starts: list[int] = []
    offset = 0
    previous_join: str | None = None
    for number, round_ in enumerate(rounds, start=1):
        starts.append(offset)
        status = _statuses(round_.results)
        tasks = planned_tasks(round_.plan)
        level: dict[int, int] = {}
        here = {int(t["index"]) for t in tasks}
        keys: list[str] = []
        for task in tasks:
            index = int(task["index"])
            deps = [int(d) for d in task.get("deps", [])]
            after = [int(a) for a in task.get("after", []) if int(a) not in deps]
            local = [level[d] for d in deps + after if d in here and d in level]
            level[index] = 1 + max(local) if local else 0
            key = f"t{index}"
            parents = [f"t{d}" for d in deps if f"t{d}" in nodes]
            if previous_join is not None and not any(d in here for d in deps):
                parents.append(previous_join)
            nodes[key] = _Node(
                key,
                _task_label(task),
                status.get(str(task.get("id")), "pending"),
                offset + level[index],
                parents,
                dashed=index <= 0,
                after=[f"t{a}" for a in after if f"t{a}" in nodes],
            )
            keys.append(key)
        join_column = offset + (max(level.values()) + 1 if level else 0)
        used = {p for k in keys for p in (*nodes[k].parents, *nodes[k].after)}
        last = number == len(rounds)
        outcome = "answer" if last and answered else ("replan" if not last else "pending")
        join = f"j{number}"
        nodes[join] = _Node(
            join,
            f"join → {outcome}",
            "joiner",
            join_column,
            [k for k in keys if k not in used] or ([previous_join] if previous_join else []),
        )
        previous_join = join
        offset = join_column + 1
    _assign_rows(nodes)
    return nodes, starts


def _statuses(results: Sequence[ToolMessage]) -> dict[str, str]:
    found: dict[str, str] = {}
    for message in results:
        artifact = result_record(message)
        fallback = "error" if message.status == "error" else "ok"
        found[message.tool_call_id] = str(artifact.get("status", fallback))
    return found


def _task_label(task: Mapping[str, Any]) -> str:
    index = int(task["index"])
    number = f"${index}" if index > 0 else "invalid"
    name = str(task.get("name") or "?")
    args = task.get("args") or {}
    values = args.values() if isinstance(args, Mapping) else [args]
    detail = clip_text(", ".join(str(v) for v in values if v is not None), 24)
    return f"{number}  {name}" + (f"\n{detail}" if detail else "")


def _assign_rows(nodes: dict[str, _Node]) -> None:
    # Barycentre ordering: a node sits near the mean row of its parents, columns centred.
    for column in sorted({n.column for n in nodes.values()}):
        members = [n for n in nodes.values() if n.column == column]
        weights = {n.key: _parent_weight(nodes, n, column) for n in members}
        members.sort(key=lambda node: weights[node.key])
        for position, node in enumerate(members):
            node.row = (len(members) - 1) / 2 - position


def _parent_weight(nodes: Mapping[str, _Node], node: _Node, column: int) -> float:
    rows = [nodes[p].row for p in node.parents if p in nodes and nodes[p].column < column]
    return -sum(rows) / len(rows) if rows else 0.0


def _draw(axes: Any, nodes: Mapping[str, _Node]) -> None:
    boxes: dict[str, Any] = {}
    for node in nodes.values():
        fill = COLORS["joiner"] if node.status == "joiner" else COLORS.get(node.status, "#ffffff")
        boxes[node.key] = axes.text(
            node.column,
            node.row,
            escape(node.label),
            ha="center",
            va="center",
            fontsize=8.5,
            color="white" if node.status in ("joiner", "error", "ok") else "black",
            bbox={
                "boxstyle": "round,pad=0.45",
                "facecolor": fill,
                "edgecolor": "#333333",
                "linestyle": "--" if node.dashed else "-",
            },
            zorder=3,
        )
    for node in nodes.values():
        for parent in node.after:
            axes.annotate(
                "",
                xy=(0, 0.5),
                xycoords=boxes[node.key],
                xytext=(1, 0.5),
                textcoords=boxes[parent],
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": _ORDER_COLOR,
                    "linestyle": "--",
                    "shrinkA": 2,
                    "shrinkB": 2,
                    "connectionstyle": "arc3,rad=0.15",
                },
                zorder=2,
            )
        for parent in node.parents:
            replan = parent.startswith("j")
            axes.annotate(
                "",
                xy=(0, 0.5),
                xycoords=boxes[node.key],
                xytext=(1, 0.5),
                textcoords=boxes[parent],
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": "#888888" if replan else "#333333",
                    "linestyle": "--" if replan else "-",
                    "shrinkA": 2,
                    "shrinkB": 2,
                    "connectionstyle": "arc3,rad=0.0",
                },
                zorder=2,
            )


def _legend(axes: Any, statuses: set[str], ordered: bool) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    shown = [s for s in STATUS_LABELS if s in statuses]
    handles: list[Any] = [
        Patch(facecolor=COLORS[s], edgecolor="#333333", label=STATUS_LABELS[s]) for s in shown
    ]
    handles.append(Patch(facecolor=COLORS["joiner"], edgecolor="#333333", label="joiner"))
    if ordered:
        label = "runs after (shared resource)"
        handles.append(Line2D([], [], color=_ORDER_COLOR, linestyle="--", label=label))
    axes.legend(
        handles=handles,
        loc="lower center",
        ncol=len(handles),
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, -0.12),
    )
