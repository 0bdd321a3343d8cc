"""Streaming parser for the planner's numbered plan (the LLMCompiler format).

::

    Thought: I need both birthplaces.
    1. search(query="Scott Derrickson")
    2. search("Ed Wood")
    3. join()<END_OF_PLAN>

:class:`PlanParser` is fed the model's text as it streams and returns each task the
moment its line is complete. Model output is untrusted input: a line that does not
parse, an unknown tool, arguments that do not fit the tool, an unsatisfiable reference
or a duplicate number becomes a :class:`PlannedTask` carrying an ``error``, never an
exception. Arguments are parsed with :mod:`ast` into literals; nothing is evaluated.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field

from llmcompiler_graph.references import ReferenceError_, dependencies

__all__ = ["END_OF_PLAN", "PlanParser", "PlannedTask", "ToolSpec", "parse_plan"]

END_OF_PLAN = "<END_OF_PLAN>"
MAX_LINE_CHARS = 200_000
MAX_CONTINUATION_LINES = 50

_TASK = re.compile(r"^\s*(?:\*\*)?(\d+)\s*(?:\*\*)?\s*[.:)]\s*(?:\*\*)?\s*(.*?)\s*$", re.DOTALL)
_THOUGHT = re.compile(r"^\s*Thought\s*:\s*(.*)$", re.IGNORECASE | re.DOTALL)
_CALL_START = re.compile(r"^\s*\d+\s*[.:)]\s*[A-Za-z_][\w.]*\s*\(")
_NAME = re.compile(r"^\s*\S*?\d+\S*\s*([A-Za-z_][\w.]*)\s*\(")
_JOIN = re.compile(r"^join\s*\(\s*\)\s*[.;]?$", re.IGNORECASE)
_JSON_NAMES = {"true": True, "false": False, "null": None, "none": None}


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """What the parser needs to know of a tool: its parameters in order, and which are required."""

    name: str
    params: tuple[str, ...]
    required: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PlannedTask:
    """One parsed plan line.

    Attributes:
        index: The task number; negative for a line that could not keep its own number
            (a duplicate, say), so that every task stays addressable.
        name: The tool name as written (empty when the line had none).
        args: Keyword arguments, references still as written (``"$1"``).
        deps: Tasks whose results the arguments use.
        thought: The ``Thought:`` text that preceded the line, if any.
        error: Why the task cannot run, phrased for the joiner; ``None`` when valid.
        line: The source text of the task.
    """

    index: int
    name: str
    args: dict[str, object] = field(default_factory=dict)
    deps: frozenset[int] = frozenset()
    thought: str | None = None
    error: str | None = None
    line: str = ""

    @property
    def label(self) -> str:
        """Return the number as the plan wrote it, or ``'?'`` for an unnumbered error."""
        return str(self.index) if self.index > 0 else "?"


class PlanParser:
    """Turn a streamed plan into tasks, one complete line at a time."""

    def __init__(
        self,
        tools: Mapping[str, ToolSpec],
        *,
        planned: Collection[int] = (),
    ) -> None:
        """Create a parser for one planning round.

        Args:
            tools: The runnable tools by name.
            planned: Task numbers from earlier rounds, which this plan may reference
                and must not reuse.
        """
        self._tools = tools
        self._planned: set[int] = set(planned)
        self._buf = ""
        self._pending: list[str] | None = None  # lines of a task call still open
        self._thought: list[str] | None = None
        self._next_anonymous = -1
        self.done = False
        self.final_thought: str | None = None
        self.tasks: list[PlannedTask] = []

    def feed(self, chunk: str) -> list[PlannedTask]:
        """Add streamed text; return the tasks whose lines it completed."""
        if self.done or not chunk:
            return []
        scan_from = max(0, len(self._buf) - len(END_OF_PLAN))
        self._buf += chunk
        end = self._buf.find(END_OF_PLAN, scan_from)
        if end >= 0:
            text, self._buf = self._buf[:end], ""
            return [*self._lines(text.split("\n")), *self.close()]
        *lines, self._buf = self._buf.split("\n")
        if len(self._buf) > MAX_LINE_CHARS:
            lines.append(self._buf)
            self._buf = ""
        return list(self._lines(lines))

    def close(self) -> list[PlannedTask]:
        """End the stream; return any task left in the last line."""
        if self.done:
            return []
        rest, self._buf = self._buf, ""
        tasks = list(self._lines([rest])) if rest.strip() else []
        if self._pending is not None and not self.done:
            source, self._pending = "\n".join(self._pending), None
            tasks.append(self._error_task(_leading_index(source), source, "the line is incomplete"))
        if self._thought and self.final_thought is None:
            self.final_thought = "\n".join(self._thought)
        self.done = True
        return tasks

    # -- lines --------------------------------------------------------------------------------

    def _lines(self, lines: list[str]) -> Iterator[PlannedTask]:
        for line in lines:
            if self.done:
                return
            for task in self._line(line):
                self.tasks.append(task)
                yield task

    def _line(self, line: str) -> list[PlannedTask]:
        stripped = line.strip()
        if self._pending is not None:
            source = "\n".join(self._pending)
            if _CALL_START.match(stripped) and _open_state(source) != "string":
                # A new task line: the open one was never closed; report it and go on.
                self._pending = None
                first = self._task_line(source)
                return [t for t in (first, *self._line(line)) if t is not None]
            self._pending.append(line)
            source = "\n".join(self._pending)
            if _open_state(source) and len(self._pending) < MAX_CONTINUATION_LINES:
                return []
            self._pending = None
            task = self._task_line(source)
            return [] if task is None else [task]
        if not stripped or stripped.startswith("```"):
            return []
        if (thought := _THOUGHT.match(stripped)) is not None:
            self._thought = [*(self._thought or []), thought.group(1).strip()]
            return []
        if _TASK.match(stripped) is None:
            if self._thought is not None:  # a thought that runs over several lines
                self._thought.append(stripped)
            return []
        if _CALL_START.match(stripped) and _open_state(stripped):
            self._pending = [stripped]
            return []
        task = self._task_line(stripped)
        return [] if task is None else [task]

    def _task_line(self, source: str) -> PlannedTask | None:
        match = _TASK.match(source)
        assert match is not None
        index, body = int(match.group(1)), match.group(2).strip().removesuffix("**").strip()
        thought, self._thought = self._thought, None
        thought_text = "\n".join(thought) if thought else None
        if _JOIN.match(body):
            self.final_thought = thought_text
            self.done = True
            return None
        if index in self._planned:
            return self._error_task(
                None,
                source,
                f"task number {index} is already used; number tasks uniquely, "
                f"continuing after the highest number so far",
                thought_text,
            )
        try:
            name, args = _parse_call(body, self._tools)
        except ValueError as exc:
            return self._error_task(index, source, str(exc), thought_text)
        try:
            deps = dependencies(args, self._planned)
        except ReferenceError_ as exc:
            self._planned.add(index)
            error = f"task {index} '{name}': {exc}"
            return PlannedTask(index, name, args, thought=thought_text, error=error, line=source)
        self._planned.add(index)
        return PlannedTask(index, name, args, deps, thought_text, None, source)

    def _error_task(
        self, index: int | None, source: str, problem: str, thought: str | None = None
    ) -> PlannedTask:
        if index is None or index in self._planned:
            index, self._next_anonymous = self._next_anonymous, self._next_anonymous - 1
        self._planned.add(index)
        name_match = _NAME.match(source)
        name = name_match.group(1) if name_match else ""
        shown = source if len(source) <= 200 else source[:200] + "..."
        label = index if index > 0 else "?"
        error = f"task {label} '{name}': {problem} (line: {shown})"
        return PlannedTask(index, name, {}, thought=thought, error=error, line=source)


def parse_plan(text: str, tools: Mapping[str, ToolSpec], *, planned: Collection[int] = ()) -> PlanParser:
    """Parse a whole plan at once; return the finished parser (``.tasks``, ``.final_thought``)."""
    parser = PlanParser(tools, planned=planned)
    parser.feed(text)
    parser.close()
    return parser


# -- calls and literals ----------------------------------------------------------------------


def _leading_index(source: str) -> int | None:
    match = _TASK.match(source)
    return int(match.group(1)) if match else None


def _parse_call(body: str, tools: Mapping[str, ToolSpec]) -> tuple[str, dict[str, object]]:
    """Parse ``name(arg, key=value)`` into the tool name and keyword arguments."""
    try:
        node = ast.parse(_quote_bare_references(body), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ValueError(f"could not parse the call ({_short(exc)}); write tool_name(arg=value, ...)") from None
    if not isinstance(node, ast.Call):
        raise ValueError("expected a tool call such as search(query=\"...\")")
    name = _dotted_name(node.func)
    if name is None:
        raise ValueError("the tool name must be a plain or dotted name")
    spec = tools.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, list(tools), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ValueError(
            f"unknown tool '{name}'{hint} Available tools: {', '.join(sorted(tools)) or 'none'}"
        )
    where = f"tool '{name}'"
    if len(node.args) > len(spec.params):
        raise ValueError(
            f"{where} takes {len(spec.params)} argument(s) ({', '.join(spec.params)}), "
            f"got {len(node.args)} positional"
        )
    args: dict[str, object] = {}
    for param, arg in zip(spec.params, node.args, strict=False):
        args[param] = _literal(arg, f"{where} argument '{param}'")
    for keyword in node.keywords:
        if keyword.arg is None:
            raise ValueError(f"{where}: **kwargs are not supported; name each argument")
        if keyword.arg not in spec.params:
            raise ValueError(
                f"{where} has no argument '{keyword.arg}'; its arguments are: "
                f"{', '.join(spec.params) or 'none'}"
            )
        if keyword.arg in args:
            raise ValueError(f"{where} got argument '{keyword.arg}' twice")
        args[keyword.arg] = _literal(keyword.value, f"{where} argument '{keyword.arg}'")
    missing = [p for p in spec.params if p in spec.required and p not in args]
    if missing:
        raise ValueError(f"{where} is missing required argument(s): {', '.join(missing)}")
    return name, args


def _dotted_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _literal(node: ast.expr, where: str) -> object:
    """Evaluate a literal node: constants, containers, signed numbers, JSON's true/false/null."""
    if isinstance(node, ast.Constant) and not isinstance(node.value, bytes):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _literal(node.operand, where)
        if isinstance(value, int | float | complex) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        items = [_literal(item, where) for item in node.elts]
        return items if not isinstance(node, ast.Set) else _set_or_list(items)
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise ValueError(f"{where}: ** inside a dict is not supported")
        return {
            _hashable(_literal(k, where), where): _literal(v, where)
            for k, v in zip(node.keys, node.values, strict=True)
            if k is not None
        }
    if isinstance(node, ast.Name) and node.id.lower() in _JSON_NAMES:
        return _JSON_NAMES[node.id.lower()]
    if isinstance(node, ast.Name):
        raise ValueError(f"{where} is the bare name {node.id}; quote text, e.g. \"{node.id}\"")
    raise ValueError(
        f"{where} is not a literal ({type(node).__name__}); "
        "use strings, numbers, lists, dicts, True/False/None or $N references"
    )


def _set_or_list(items: list[object]) -> object:
    try:
        return set(items)  # type: ignore[arg-type]
    except TypeError:
        return items


def _hashable(key: object, where: str) -> object:
    try:
        hash(key)
    except TypeError:
        raise ValueError(f"{where}: dict keys must be strings or numbers") from None
    return key


def _quote_bare_references(source: str) -> str:
    """Wrap ``$N`` and ``${N}`` written outside string literals in quotes."""
    out: list[str] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch in "\"'":
            end, _ = _string_end(source, i)
            out.append(source[i:end])
            i = end
            continue
        if ch == "$":
            match = re.match(r"\$\{\d+\}|\$\d+", source[i:])
            if match:
                out.append(f'"{match.group(0)}"')
                i += len(match.group(0))
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _string_end(source: str, start: int) -> tuple[int, bool]:
    """Return the index just past the string literal opening at ``start``, and if it closed."""
    quote = source[start] * 3 if source.startswith(source[start] * 3, start) else source[start]
    i = start + len(quote)
    while i < len(source):
        if source[i] == "\\":
            i += 2
            continue
        if source.startswith(quote, i):
            return i + len(quote), True
        if len(quote) == 1 and source[i] == "\n":
            return i, False
        i += 1
    return len(source), False


def _open_state(source: str) -> str | None:
    """Tell why a call continues on the next line: ``"string"``, ``"bracket"`` or ``None``.

    Only a triple-quoted string or an open bracket continues; an unclosed one-line string
    is simply a broken line.
    """
    depth, i, n = 0, 0, len(source)
    while i < n:
        ch = source[i]
        if ch in "\"'":
            end, closed = _string_end(source, i)
            if not closed and source.startswith(ch * 3, i):
                return "string"
            i = end if closed else n
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        i += 1
    return "bracket" if depth > 0 else None


def _short(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError) and exc.msg:
        return exc.msg
    return type(exc).__name__
