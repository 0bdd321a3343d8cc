"""Streaming reader for plans written as native tool calls (``plan_format="tool_calls"``).

A tool-calling model streams each call as ``tool_call_chunks``: the first chunk of a call
carries its id and name, later ones fragments of its JSON arguments, all with the call's
``index``. :class:`ToolCallPlanReader` is fed those chunks as they arrive and returns a
:class:`~llmcompiler_graph.planner.parser.PlannedTask` per call the moment the call is
complete: when the next call's first chunk arrives, or when the stream ends (the protocol
has no end-of-call marker). The tasks are the ones the text parser produces, so the task
fetching unit and the executor treat both formats alike.

Calls are numbered in order, from the first free number (``start``), continuing across
replans. Any string argument may use ``$N`` / ``${N}`` for the result of call N, with the
rules of :mod:`llmcompiler_graph.planner.references` (an argument that is exactly ``"$N"``
receives the result object). The message's text is the plan's thought.

Model output is untrusted: malformed JSON, arguments that are not an object, an unknown
tool, arguments the tool does not take or a missing required one, and bad references
become tasks carrying an ``error``, never an exception. Nothing here imports LangChain:
chunks are plain mappings with ``index``, ``id``, ``name`` and ``args`` (LangChain's
``ToolCallChunk``).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from llmcompiler_graph.planner.references import ReferenceError_, dependencies
from llmcompiler_graph.planner.syntax import ToolSpec
from llmcompiler_graph.planner.tasks import PlannedTask, available_tools, task_label

__all__ = [
    "JOIN_TOOL",
    "MAX_ARGUMENT_DEPTH",
    "MAX_TOOL_NAME_CHARS",
    "ToolCallPlanReader",
    "read_tool_call_plan",
]

JOIN_TOOL = "join"
"""A call of this name (no tool has it) is ignored, keeping its number: some models add it."""

MAX_TOOL_NAME_CHARS = 256
"""Longest tool name a call may stream (providers allow 64); a longer one fails its call."""

MAX_ARGUMENT_DEPTH = 100
"""Deepest nesting of a call's JSON arguments; deeper ones fail the call (before they are
parsed, so no recursion limit is ever reached by the parser, the planner or a serializer)."""

_MAX_SHOWN = 200
_JSON_NESTING = re.compile(r'"(?:[^"\\]|\\.)*+"?|[\[{]|[\]}]')  # a string, an opening, a closing


@dataclass
class _OpenCall:
    """A call whose arguments are still streaming."""

    key: object
    id: str | None
    name: str = ""
    fragments: list[str] = field(default_factory=list)
    thought: str | None = None
    size: int = 0
    too_long: bool = False
    name_too_long: bool = False


class ToolCallPlanReader:
    """Turn a stream of tool-call chunks into tasks, one complete call at a time.

    The result does not depend on how the arguments are split into fragments.
    """

    def __init__(
        self,
        tools: Mapping[str, ToolSpec],
        *,
        start: int = 1,
        planned: Collection[int] = (),
        max_call_chars: int | None = None,
    ) -> None:
        """Create a reader for one planning round.

        Args:
            tools: The runnable tools by name.
            start: The number of this message's first call (the first free number).
            planned: Task numbers from earlier rounds, which calls may reference.
            max_call_chars: Longest arguments a call may have; a longer call fails (its
                extra fragments are not kept). ``None``: no limit.

        """
        self._tools = tools
        self._max_call_chars = max_call_chars
        self._planned: set[int] = set(planned)
        self._next = max(start, max(self._planned, default=0) + 1)
        self._open: _OpenCall | None = None
        self._closed_keys: set[object] = set()
        self._text: list[str] = []  # message text since the last call began
        self.stray_fragments = 0
        """Argument fragments that arrived for a call already complete (they are ignored)."""
        self.done = False
        self.final_thought: str | None = None
        self.tasks: list[PlannedTask] = []

    def feed_text(self, text: str) -> None:
        """Add streamed message text: the thought of the next call (or of the plan)."""
        if text and not self.done:
            self._text.append(text)

    def feed(self, chunks: Iterable[Mapping[str, object]]) -> list[PlannedTask]:
        """Add a streamed message's tool-call chunks; return the tasks they completed."""
        if self.done:
            return []
        tasks: list[PlannedTask] = []
        for chunk in chunks:
            key = self._key(chunk)
            if self._open is not None and key == self._open.key:
                self._extend(self._open, chunk)
                continue
            if key in self._closed_keys:
                self.stray_fragments += 1
                continue
            tasks += self._finish()
            thought = "".join(self._text).strip() or None
            self._text = []
            self._open = _OpenCall(key, _str(chunk.get("id")), thought=thought)
            self._extend(self._open, chunk)
        return tasks

    def close(self) -> list[PlannedTask]:
        """End the stream; return the task of the last call, if one was open."""
        if self.done:
            return []
        tasks = self._finish()
        self.final_thought = "".join(self._text).strip() or None
        self.done = True
        return tasks

    # -- calls --------------------------------------------------------------------------------

    def _key(self, chunk: Mapping[str, object]) -> object:
        """Tell which call a chunk belongs to: its ``index``; else a new id or name starts one."""
        index = chunk.get("index")
        if index is not None:
            return ("index", index)
        if self._open is not None and chunk.get("id") and chunk.get("id") == self._open.id:
            return self._open.key  # a provider that repeats the id in every chunk
        if chunk.get("id") or chunk.get("name") or self._open is None:
            return ("call", len(self._closed_keys) + (self._open is not None))
        return self._open.key

    def _extend(self, call: _OpenCall, chunk: Mapping[str, object]) -> None:
        if call.id is None:
            call.id = _str(chunk.get("id"))
        name = chunk.get("name")
        if isinstance(name, str) and name and call.name != name and not call.name_too_long:
            if len(call.name) + len(name) > MAX_TOOL_NAME_CHARS:
                call.name_too_long = True  # its pieces are no longer kept
            else:
                call.name += name
        args = chunk.get("args")
        if isinstance(args, Mapping):  # a provider that sends parsed arguments
            try:
                args = json.dumps(args)
            except (TypeError, ValueError, RecursionError):
                args = "<arguments that are not JSON>"
        if not isinstance(args, str) or call.too_long:
            return
        call.size += len(args)
        if self._max_call_chars is not None and call.size > self._max_call_chars:
            call.too_long, call.fragments = True, []
            return
        call.fragments.append(args)

    def _finish(self) -> list[PlannedTask]:
        call, self._open = self._open, None
        if call is None:
            return []
        self._closed_keys.add(call.key)
        index, self._next = self._next, self._next + 1
        if call.name == JOIN_TOOL and JOIN_TOOL not in self._tools:
            return []  # it takes its number, as a numbered join() does in a text plan
        try:
            task = self._task(index, call)
        except Exception as exc:  # one call that cannot be read fails alone
            task = PlannedTask(
                index,
                _shown_name(call),
                {},
                thought=call.thought,
                error=f"{task_label(index, _shown_name(call))}: this call could not be read "
                f"({type(exc).__name__}); call the tool with plain JSON arguments",
                line=f"{index}. {_shown_name(call) or '?'}(...)",
            )
        self._planned.add(index)
        self.tasks.append(task)
        return [task]

    def _task(self, index: int, call: _OpenCall) -> PlannedTask:
        raw = "".join(call.fragments)
        name = _shown_name(call)
        line = f"{index}. {name or '?'}({_shorten(raw.strip() or '{}')})"

        def error(problem: str, args: dict[str, object] | None = None) -> PlannedTask:
            message = f"{task_label(index, name)}: {problem} (call: {line})"
            return PlannedTask(
                index, name, args or {}, thought=call.thought, error=message, line=line
            )

        if call.name_too_long:
            return error(
                f"the tool name is longer than {MAX_TOOL_NAME_CHARS} characters; "
                f"call one of the tools: {', '.join(sorted(self._tools)) or 'none'}"
            )
        if call.too_long:
            return error(
                f"the arguments are longer than max_plan_line_chars={self._max_call_chars} "
                "characters; pass shorter values (or raise max_plan_line_chars)"
            )
        if _nesting(raw) > MAX_ARGUMENT_DEPTH:
            return error(
                f"the arguments nest deeper than {MAX_ARGUMENT_DEPTH} levels of lists and "
                "objects; pass flatter values"
            )
        parsed: object = {}
        problem: str | None = None
        try:
            parsed = json.loads(raw) if raw.strip() else {}
        except (ValueError, RecursionError) as exc:
            problem = _json_problem(exc)
        kept = parsed if isinstance(parsed, dict) else None  # shown on the error task
        if not name:
            return error("the tool call has no tool name", kept)
        spec = self._tools.get(name)
        if spec is None:
            close = difflib.get_close_matches(name, list(self._tools), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else "."
            available = available_tools(name, self._tools)
            return error(f"unknown tool '{name}'{hint} {available}", kept)
        if problem is not None:
            return error(problem)
        if not isinstance(parsed, dict):
            return error(
                f"the arguments must be a JSON object of named arguments, got {_json_type(parsed)}"
            )
        args: dict[str, object] = parsed
        listed = ", ".join(spec.params) or "none"
        unknown = [k for k in args if k not in spec.params]
        if unknown:
            return error(
                f"tool '{name}' has no argument(s) {', '.join(map(repr, unknown))}; "
                f"its arguments are: {listed}",
                args,
            )
        missing = [p for p in spec.params if p in spec.required and p not in args]
        if missing:
            return error(
                f"tool '{name}' is missing required argument(s): {', '.join(missing)}", args
            )
        try:
            deps = dependencies(args, self._planned, own=index)
        except ReferenceError_ as exc:
            return error(str(exc), args)
        return PlannedTask(index, name, args, deps, call.thought, None, line)


def read_tool_call_plan(
    chunks: Iterable[Mapping[str, object]],
    tools: Mapping[str, ToolSpec],
    *,
    start: int = 1,
    text: str = "",
    planned: Collection[int] = (),
) -> ToolCallPlanReader:
    """Read a whole tool-call plan at once; return the finished reader (``.tasks``)."""
    reader = ToolCallPlanReader(tools, start=start, planned=planned)
    reader.feed_text(text)
    reader.feed(chunks)
    reader.close()
    return reader


def _json_problem(exc: BaseException) -> str:
    detail = (
        f"{exc.msg} at character {exc.pos}"
        if isinstance(exc, json.JSONDecodeError)
        else type(exc).__name__
    )
    return (
        f"the arguments are not valid JSON ({detail}); "
        'send one JSON object, e.g. {"query": "..."}'
    )


def _nesting(raw: str) -> int:
    """Return how deep ``raw``'s JSON lists and objects nest (one pass, no recursion)."""
    depth = deepest = 0
    for match in _JSON_NESTING.finditer(raw):
        mark = match.group()
        if mark in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif mark in "]}":
            depth -= 1
    return deepest


def _shown_name(call: _OpenCall) -> str:
    """Return the call's tool name, or its start when it grew too long to be one."""
    return f"{call.name[:60]}..." if call.name_too_long else call.name


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _shorten(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "..."
