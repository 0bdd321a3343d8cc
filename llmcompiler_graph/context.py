"""Every setting, declared once: :class:`Context`, LangGraph's ``context_schema``.

Each field of :class:`Context` is one setting, with its type, default, description and
check (like the ``Context`` of LangGraph's ``react-agent`` template). Everything else is
derived from these fields:

* the keywords of :func:`~llmcompiler_graph.compiler.create_llm_compiler` (the graph's
  defaults) and the ``Attributes`` of this class's docstring;
* the keys of a run's context (``graph.invoke(..., context={...})``, or an assistant's
  context on LangGraph Platform / ``langgraph dev``), and the JSON schema Studio shows;
* validation (:meth:`Context.__post_init__` runs each field's check);
* the settings table of the documentation (its Settings page, generated from these fields
  when the site is built; ``python -m llmcompiler_graph.context`` prints it).

**Adding a setting is a one-place change**: add a field below with
``setting(default, "description", check=...)``, and read it as ``settings.<name>`` where
the nodes pass the effective settings. It is then a factory keyword, a context key,
validated and documented. :func:`~llmcompiler_graph.context.setting` and the checks
live in :mod:`llmcompiler_graph.context`; this module holds ``Context``, how a run's
settings are resolved (:func:`effective_settings`) and the settings' docs.

Precedence, highest first: a field the run's context sets (``None`` means "not set"), then
``config["max_concurrency"]`` for ``max_concurrency`` (LangGraph's own per-run limit, where
LangGraph users already set it), then the factory's keyword, then the default below.

**The deployer's safety settings are a ceiling.** A setting declared with ``tightens=`` (the
approvals, limits, timeouts and plan bounds) says which way is tighter; a run's context may
move it only that way from the graph's value (the factory's keyword, else the default), and
a run that asks for a looser value fails before anything runs, with one line naming the
setting (:func:`effective_settings`). ``config["max_concurrency"]`` is capped at the graph's
value instead (it is LangGraph's general knob). The deployer opens a setting to callers with
``create_llm_compiler(..., caller_may_loosen=[...])``. Settings without ``tightens`` (the
model, prompts, plan format, priority, fusion) are the caller's to choose.
"""

from __future__ import annotations

import functools
import math
import textwrap
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig

from llmcompiler_graph.errors import ConfigurationError, SchedulerError
from llmcompiler_graph.fetching.hazards import Effects
from llmcompiler_graph.fetching.jobs import MAX_CONCURRENCY
from llmcompiler_graph.planner.prompts import PLANNER_PROMPT
from llmcompiler_graph.planner.tool_selection import SelectTools, ToolSelector

__all__ = [
    "ALL_DECISIONS",
    "DECISION_TYPES",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_SELECT_TOOLS",
    "DEFAULT_SELECT_TOOLS_ABOVE",
    "EFFECTS_GROW",
    "FUSE_MODES",
    "MIN_RATE",
    "ONLY_GROWS",
    "ONLY_LOWER",
    "PLAN_FORMATS",
    "REVIEW_NEVER_LOOSER",
    "Check",
    "Context",
    "DecisionType",
    "FuseMode",
    "PlanFormat",
    "Settings",
    "Tightening",
    "at_least",
    "check_concurrency",
    "check_fuse",
    "check_interrupt_on",
    "check_plan_format",
    "check_positive_seconds",
    "check_priority",
    "check_rates",
    "check_select_tools",
    "check_tool_effects",
    "check_tool_limits",
    "check_tool_names",
    "each_lower",
    "effective_settings",
    "explicit_settings",
    "safety_settings",
    "setting",
    "settings_table",
]


DEFAULT_MAX_CONCURRENCY = 8
"""Tool calls running at once by default: enough for the paper's widest plans (8 searches).

Tool calls wait on I/O, so this is independent of the core count (the thread pool default
``min(32, cores + 4)`` would be 6 on a 2-core machine and serialize an 8-search plan).
"""

DEFAULT_SELECT_TOOLS = 20
"""Tools the planner sees per question when the catalogue is large (``select_tools``)."""

DEFAULT_SELECT_TOOLS_ABOVE = 40
"""Catalogue size beyond which the planner sees a selection (``select_tools_above``)."""

FuseMode = Literal["waiting", "plan", "off"]
FUSE_MODES: tuple[FuseMode, ...] = ("waiting", "plan", "off")
"""How calls of a batched tool are fused (see the ``fuse`` setting)."""

PlanFormat = Literal["text", "tool_calls"]
PLAN_FORMATS: tuple[PlanFormat, ...] = ("text", "tool_calls")
"""How the planner writes plans: a numbered text plan, or native tool calls."""

DecisionType = Literal["approve", "edit", "reject", "respond"]
DECISION_TYPES: tuple[DecisionType, ...] = ("approve", "edit", "reject", "respond")
"""What a reviewer may decide on a held call (LangChain's ``HumanInTheLoopMiddleware``
decisions; ``respond``: the reviewer's text is the call's result, the tool does not run)."""

ALL_DECISIONS: tuple[DecisionType, ...] = ("approve", "edit", "reject")
"""The decisions of a tool in ``interrupt_before_tools``, or ``True`` in ``interrupt_on``."""

Check = Callable[[Any], str | None]
"""Return what is wrong with a value (``"must be 1 or more"``), or ``None`` if it is fine."""


@dataclass(frozen=True)
class Tightening:
    """Which way a safety setting is tighter: a run's context may move it only that way."""

    direction: str
    """What a run may do with the graph's value, for the docs (``"lower it"``)."""
    loosens: Callable[[Any, Any], str | None]
    """``loosens(built, asked)``: how ``asked`` loosens the graph's ``built`` value, in a few
    words for the error (``"raises it above 3"``), or ``None`` if it is as tight or tighter."""
    joint: bool = False
    """Whether ``loosens`` compares whole settings (the graph's, and the run's with the
    context applied) instead of the one value: for settings that act together."""


def _lower(built: Any, asked: Any) -> str | None:
    # None is "no limit", the loosest value (as is inf for a timeout).
    if asked is None and built is not None:
        return "removes the limit"
    if built is None or (asked is not None and asked <= built):
        return None
    return f"raises it above {built!r}"


def _grow(built: Any, asked: Any) -> str | None:
    asked = asked or ()
    if "*" in asked:  # all of them: the tightest
        return None
    dropped = [name for name in built or () if name not in asked]
    return f"drops {dropped}" if dropped else None


def each_lower(amount: Callable[[Any], float] = float) -> Tightening:
    """Return the rule of a mapping of names to limits: add names or lower limits, drop none.

    Args:
        amount: Reads a limit as a number (lower is tighter).

    """

    def loosens(built: Any, asked: Any) -> str | None:
        asked = asked or {}
        for name, limit in (built or {}).items():
            if name not in asked:
                return f"drops the limit on {name!r}"
            if amount(asked[name]) > amount(limit):
                return f"raises {name!r} above {amount(limit):g}"
        return None

    return Tightening("lower a limit or add one", loosens)


ONLY_LOWER = Tightening("lower it", _lower)
"""A number that may only shrink (``None``, no limit, is the loosest value)."""

ONLY_GROWS = Tightening("add to it", _grow)
"""A collection that may only grow: every name the graph has stays (``["*"]``, all, is the
tightest, and stays once the graph has it)."""


def _effects_grow(built: Any, asked: Any) -> str | None:
    # Per tool, each resource it reads stays read or written, each it writes stays written.
    asked = asked or {}
    for name, spec in (built or {}).items():
        had = Effects.parse(spec)
        has = Effects.parse(asked.get(name, {}))
        if not had.writes <= has.writes or not had.reads <= has.reads | has.writes:
            return f"drops effects of {name!r}"
    return None


EFFECTS_GROW = Tightening("add effects (never drop one)", _effects_grow)
"""``tool_effects``: declared resources may be added (or a read made a write), never dropped."""


def _review_loosens(built: Context, run: Context) -> str | None:
    # interrupt_on and interrupt_before_tools act together: compare what each tool gets.
    names = {"*", *built.interrupt_before_tools, *run.interrupt_before_tools}
    names |= {*(built.interrupt_on or {}), *(run.interrupt_on or {})}
    for name in sorted(names):
        had, has = set(built.allowed_decisions(name)), set(run.allowed_decisions(name))
        if had and not has:
            return f"stops asking before {name!r} runs"
        if had and not has <= had:
            return f"lets a reviewer of {name!r} also {' or '.join(sorted(has - had))}"
    return None


REVIEW_NEVER_LOOSER = Tightening(
    "add reviews or narrow their decisions", _review_loosens, joint=True
)
"""``interrupt_on``: every tool the graph reviews stays reviewed, with no more decisions."""


def _rate(value: Any) -> float:
    return float(getattr(value, "requests_per_second", value))  # a number or a limiter


def setting(
    default: Any,
    description: str,
    *,
    check: Check | None = None,
    shown: str = "",
    tightens: Tightening | None = None,
) -> Any:
    """Declare one setting: a dataclass field with its description and check.

    Args:
        default: The value when neither the factory nor the run's context sets it.
        description: One sentence for the docs (the README table, the factory's docstring,
            the JSON schema Studio shows).
        check: Validates a value; returns the problem as text, or ``None``.
        shown: How the docs show the default, when its ``repr`` is too long.
        tightens: For a safety setting (a limit, an approval): which way is tighter. A run's
            context may then only tighten the graph's value, unless the deployer lists the
            setting in ``caller_may_loosen``. ``None``: the caller's to choose.

    """
    metadata = {"description": description, "check": check, "shown": shown, "tightens": tightens}
    return field(default=default, metadata=metadata)


def at_least(low: int) -> Check:
    """Return a check that a value is an int (not a bool) of at least ``low``."""

    def check(value: Any) -> str | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
        return None if ok else f"must be a whole number, {low} or more"

    return check


def check_concurrency(value: Any) -> str | None:
    """Check a concurrency limit: an int from 1 to ``MAX_CONCURRENCY``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return "must be 1 or more"
    if value > MAX_CONCURRENCY:
        return (
            f"must be at most {MAX_CONCURRENCY} (MAX_CONCURRENCY: each sync call may hold a thread)"
        )
    return None


def check_tool_limits(value: Any) -> str | None:
    """Check ``tool_limits``: ``None`` or tool names mapped to concurrency limits."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or any(check_concurrency(n) for n in value.values()):
        return f"must map tool names to limits from 1 to {MAX_CONCURRENCY}, e.g. {{'search': 2}}"
    return None


MIN_RATE = 1 / 3600
"""The lowest ``tool_rate_limits`` rate: one call an hour (a lower one would hang a run)."""


def check_rates(value: Any) -> str | None:
    """Check ``tool_rate_limits``: ``None`` or tool names mapped to rates or limiters."""

    def ok(rate: Any) -> bool:
        rate = getattr(rate, "requests_per_second", rate)  # an InMemoryRateLimiter
        return isinstance(rate, int | float) and not isinstance(rate, bool) and rate >= MIN_RATE

    if value is None or (isinstance(value, Mapping) and all(ok(r) for r in value.values())):
        return None
    return (
        "must map tool names to requests per second, at least one an hour (1/3600), "
        "e.g. {'search': 5}"
    )


def check_priority(value: Any) -> str | None:
    """Check ``priority``: ``"fifo"`` or ``"critical_path"``."""
    return None if value in ("fifo", "critical_path") else "must be 'fifo' or 'critical_path'"


def check_fuse(value: Any) -> str | None:
    """Check ``fuse``: one of :data:`FUSE_MODES`."""
    return None if value in FUSE_MODES else "must be 'waiting', 'plan' or 'off'"


def check_positive_seconds(value: Any) -> str | None:
    """Check a duration: positive seconds (``inf`` too), or ``None`` for no limit."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    ok = value is None or (number and value > 0)  # NaN is not > 0
    return None if ok else "must be positive seconds or None"


def check_plan_format(value: Any) -> str | None:
    """Check ``plan_format``: one of :data:`PLAN_FORMATS`."""
    return None if value in PLAN_FORMATS else "must be one of 'text', 'tool_calls'"


def check_tool_effects(value: Any) -> str | None:
    """Check ``tool_effects``: ``None``, or tool names mapped to ``{"reads", "writes"}`` lists."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return 'must map tool names to {"reads": [...], "writes": [...]}'
    for name, spec in value.items():
        try:
            Effects.parse(spec, where=f"[{name!r}]")
        except SchedulerError as exc:
            return f"must map tool names to {{'reads': [...], 'writes': [...]}}: {exc}"
    return None


def check_select_tools(value: Any) -> str | None:
    """Check ``select_tools``: a number of tools (0: off) or a selector."""
    if isinstance(value, bool) or not (
        (isinstance(value, int) and value >= 0) or isinstance(value, ToolSelector)
    ):
        return (
            "must be a number of tools (0: list every tool) or a selector, a callable "
            "(question, tools) -> tool names such as StoreToolSelector"
        )
    return None


def check_tool_names(value: Any) -> str | None:
    """Check a list of tool names (not a bare string)."""
    ok = not isinstance(value, str) and all(isinstance(name, str) for name in value)
    return None if ok else "must be a list of tool names (or ['*'] for all)"


def check_interrupt_on(value: Any) -> str | None:
    """Check ``interrupt_on``: tool names mapped to ``True``/``False`` or allowed decisions."""
    if value is None:
        return None
    shape = (
        "must map tool names to True, False or {'allowed_decisions': [...]} (a non-empty list "
        f"of {', '.join(DECISION_TYPES)}; an optional 'description' text)"
    )
    if not isinstance(value, Mapping):
        return shape
    for name, entry in value.items():
        if not isinstance(name, str):
            return shape
        if isinstance(entry, bool):
            continue
        if not isinstance(entry, Mapping) or set(entry) - {"allowed_decisions", "description"}:
            return f"{shape} (the entry for {name!r} is not)"
        allowed = entry.get("allowed_decisions")
        if (
            isinstance(allowed, str)
            or not isinstance(allowed, list | tuple)
            or not allowed
            or any(d not in DECISION_TYPES for d in allowed)
            or not isinstance(entry.get("description", ""), str)
        ):
            return f"{shape} (the entry for {name!r} is not)"
    return None


@dataclass(frozen=True, kw_only=True)
class Context:
    """Settings of a run; every field overrides the graph's default (``None``: not set)."""

    model: str | None = setting(
        None,
        'Planner model as "provider:name" (any provider init_chat_model knows: '
        '"openai:gpt-4o-mini", "anthropic:claude-3-5-haiku-latest", "ollama:llama3.1" ...), '
        'a bare OpenAI name, or "scripted:<name>"; None: LLMCOMPILER_MODEL. Used by graphs '
        "built without a model object.",
    )
    joiner_model: str | None = setting(None, "Joiner model, same form; defaults to `model`.")
    planner_prompt: str = setting(
        PLANNER_PROMPT,
        "Replaces the planner's system prompt (`llmcompiler_graph.planner.prompts`).",
        shown="built-in",
    )
    joiner_prompt: str | None = setting(
        None,
        "Replaces the joiner's prompt (`llmcompiler_graph.joiner.prompts`); `None`: the built-in "
        "one.",
    )
    examples: str | None = setting(None, "Few-shot plan examples appended to the planner prompt.")
    max_replans: int = setting(
        3,
        "Planning rounds allowed after the first; then the joiner must answer.",
        check=at_least(0),
        tightens=ONLY_LOWER,
    )
    max_concurrency: int = setting(
        DEFAULT_MAX_CONCURRENCY,
        "Most tool calls running at once, at most 64 (`MAX_CONCURRENCY`); a run may lower it "
        "with its context or LangGraph's `config[\"max_concurrency\"]` (capped at the graph's).",
        check=check_concurrency,
        tightens=ONLY_LOWER,
    )
    task_timeout: float | None = setting(
        None,
        "Seconds one tool call may take before it becomes a timeout error; None (or inf): no "
        "limit.",
        check=check_positive_seconds,
        tightens=ONLY_LOWER,
    )
    tool_limits: Mapping[str, int] | None = setting(
        None,
        'Most calls of one tool running at once, on top of `max_concurrency`, e.g. {"search": 2}; '
        "a task waiting for its tool never holds back other tools' tasks.",
        check=check_tool_limits,
        tightens=each_lower(),
    )
    tool_rate_limits: Mapping[str, float] | None = setting(
        None,
        'Requests per second per tool (a token bucket, burst 1), e.g. {"search": 5}, at least '
        "1/3600; the factory also takes a `langchain_core` `InMemoryRateLimiter` per tool. "
        "Waiting is a timer.",
        check=check_rates,
        tightens=each_lower(_rate),
    )
    priority: str = setting(
        "fifo",
        'Which ready task starts first when more are ready than may run: "fifo" (the paper\'s '
        'order) or "critical_path" (the longest chain of dependents first; ties in plan order).',
        check=check_priority,
    )
    fuse: Literal["waiting", "plan", "off"] = setting(
        "waiting",
        "How calls of a tool given in `batch_tools` are fused into batched calls (results split "
        'back per task): "waiting" (ready calls that would wait for capacity; never delays a '
        'call), "plan" (hold them until the plan has streamed, then one call for all that are '
        'ready: fewest calls, started later) or "off". True/False mean "waiting"/"off".',
        check=check_fuse,
    )
    tool_effects: Mapping[str, Mapping[str, Sequence[str]]] | None = setting(
        None,
        'The shared resources each tool reads and writes, e.g. {"write_file": {"writes": '
        '["fs"]}, "read_file": {"reads": ["fs"]}}: two calls that touch a common resource, one '
        "of them writing it, run in plan order; reads overlap. Per tool, replaces what its "
        '`metadata["llmcompiler_effects"]` declares.',
        check=check_tool_effects,
        tightens=EFFECTS_GROW,
    )
    interrupt_before_tools: Sequence[str] = setting(
        (),
        "Tools whose calls wait for a human's review (LangGraph `interrupt`, LangChain's HITL "
        'format: approve, edit or reject); ["*"]: all. Needs a checkpointer.',
        check=check_tool_names,
        tightens=ONLY_GROWS,
    )
    interrupt_on: Mapping[str, bool | Mapping[str, Any]] | None = setting(
        None,
        "Tools whose calls wait for a human, with the decisions each allows, as LangChain's "
        '`HumanInTheLoopMiddleware` takes them: {"send_email": True, "delete": '
        '{"allowed_decisions": ["approve", "reject"]}} (True: approve, edit, reject; '
        '"respond" only when listed; "*": every tool). Adds to `interrupt_before_tools`.',
        check=check_interrupt_on,
        tightens=REVIEW_NEVER_LOOSER,
    )
    prompt_budget_chars: int = setting(
        40_000,
        "Most characters of plans and results in the joiner's and replanner's prompts (about "
        "10,000 tokens); beyond it the largest texts are clipped first, and the prompt says so. "
        "The planner's earlier conversation gets a quarter of it on top, the same in every round.",
        check=at_least(1_000),
        tightens=ONLY_LOWER,
    )
    fallback_answer_chars: int = setting(
        4_000,
        "Longest answer written when the joiner model fails (it stays in the thread's history).",
        check=at_least(500),
        tightens=ONLY_LOWER,
    )
    max_plan_tasks: int = setting(
        200,
        "Most tasks one plan may run; later tasks end with an error naming this setting.",
        check=at_least(1),
        tightens=ONLY_LOWER,
    )
    max_plan_line_chars: int = setting(
        20_000,
        "Longest line of a plan; the planner's stream is cut at a longer line.",
        check=at_least(100),
        tightens=ONLY_LOWER,
    )
    max_plan_chars: int = setting(
        200_000,
        "Longest plan; the planner's stream is cut there.",
        check=at_least(100),
        tightens=ONLY_LOWER,
    )
    plan_format: Literal["text", "tool_calls"] = setting(
        "text",
        '"text": the planner writes a numbered LLMCompiler plan; "tool_calls": it makes native '
        "tool calls, numbered in order, `$N` in an argument standing for call N's result "
        "(for models trained on function calling). The served graph's default: "
        "LLMCOMPILER_PLAN_FORMAT.",
        check=check_plan_format,
    )
    cache_breakpoints: bool = setting(
        True,
        "Mark Anthropic prompt-cache breakpoints (`cache_control` on the end of the system "
        "prompt and of the conversation) when the planner or joiner is an Anthropic chat model; "
        "other providers cache prefixes on their own and get their messages unchanged.",
        check=lambda v: None if isinstance(v, bool) else "must be True or False",
    )
    select_tools: int | SelectTools = setting(  # noqa: RUF009 - declares a field, as above
        DEFAULT_SELECT_TOOLS,
        "With more tools than `select_tools_above`, the planner sees only those relevant to the "
        "question: a number k (the k best by BM25 over names, descriptions and parameters), or "
        "a selector `(question, tools) -> names` such as `StoreToolSelector` (a LangGraph "
        "store's semantic index); 0: every tool. Tools the thread used stay listed, a replan "
        "widens the list, and a plan may call any tool.",
        check=check_select_tools,
    )
    select_tools_above: int = setting(
        DEFAULT_SELECT_TOOLS_ABOVE,
        "Catalogue size beyond which `select_tools` applies; up to it the planner sees every tool.",
        check=at_least(0),
    )

    def __post_init__(self) -> None:
        """Normalize lists to tuples and run every field's check.

        Raises:
            ConfigurationError: Naming the setting, the value and what values it takes.

        """
        names = self.interrupt_before_tools
        if isinstance(names, list | set | frozenset):  # a tuple, hashable and immutable
            object.__setattr__(self, "interrupt_before_tools", tuple(names))
        if isinstance(self.fuse, bool):  # the 0.2 values
            object.__setattr__(self, "fuse", "waiting" if self.fuse else "off")
        for f in fields(self):
            check: Check | None = f.metadata.get("check")
            problem = check(getattr(self, f.name)) if check is not None else None
            if problem is not None:
                raise ConfigurationError(f"{f.name} {problem}, got {getattr(self, f.name)!r}")

    def needs_approval(self, tool: str) -> bool:
        """Tell whether calls of ``tool`` wait for a human's approval."""
        return bool(self.allowed_decisions(tool))

    def allowed_decisions(self, tool: str) -> tuple[DecisionType, ...]:
        """Return the decisions a reviewer may make on a call of ``tool`` (``()``: none asked).

        The two settings add up: a tool either names waits; its ``interrupt_on`` entry (else
        the ``"*"`` entry) says which decisions it allows, ``True`` or a listing in
        ``interrupt_before_tools`` meaning approve, edit and reject.
        """
        entries = self.interrupt_on or {}
        entry = entries.get(tool, entries.get("*"))
        listed = tool in self.interrupt_before_tools or "*" in self.interrupt_before_tools
        if isinstance(entry, Mapping):
            return tuple(entry["allowed_decisions"])
        return ALL_DECISIONS if listed or entry is True else ()

    def override(self, context: Context | Mapping[str, Any] | None) -> Context:
        """Return these settings with the fields ``context`` sets applied."""
        changes = explicit_settings(context)
        return replace(self, **changes) if changes else self


def _track_explicit(cls: type[Context]) -> None:
    # Remember which fields a caller set, so a run's context can set a field back to its
    # default over a factory's other value. ``None`` means "not set" (as it always has).
    generated = cls.__init__

    @functools.wraps(generated)
    def __init__(self: Context, **kwargs: Any) -> None:
        given = {k: v for k, v in kwargs.items() if v is not None}
        generated(self, **given)
        object.__setattr__(self, "_explicit", frozenset(given))

    cls.__init__ = __init__  # type: ignore[method-assign]


_track_explicit(Context)

Settings = Context
"""The effective settings of a run are a :class:`Context` too (the old name, kept)."""

_FIELDS: dict[str, Field[Any]] = {f.name: f for f in fields(Context)}


def explicit_settings(context: Context | Mapping[str, Any] | None) -> dict[str, Any]:
    """Return the settings ``context`` sets (non-``None`` fields given to it).

    A ``Context`` built without ``__init__`` (e.g. by a validator) counts the fields that
    differ from their defaults.
    """
    if context is None:
        return {}
    if isinstance(context, Mapping):
        return dict(explicit_settings(Context(**context)))
    given = getattr(context, "_explicit", None)
    if given is None:
        given = {f.name for f in fields(Context) if getattr(context, f.name) != _default(f)}
    return {name: getattr(context, name) for name in given if getattr(context, name) is not None}


def effective_settings(
    defaults: Context,
    context: Context | Mapping[str, Any] | None,
    config: RunnableConfig | None = None,
    *,
    loosenable: Collection[str] = (),
) -> Context:
    """Combine the graph's defaults, ``config["max_concurrency"]`` and the run's context.

    The run's context may only tighten a setting declared with ``tightens``, unless its name
    is in ``loosenable`` (the factory's ``caller_may_loosen``); ``config["max_concurrency"]``
    is capped at the graph's value instead.

    Raises:
        ConfigurationError: For a context that loosens a deployer's setting, naming it, the
            graph's value and how to open it to callers; or a ``config["max_concurrency"]``
            that is not a number.

    """
    changes: dict[str, Any] = {}
    limit = (config or {}).get("max_concurrency")
    if limit is not None:
        concurrency = _config_concurrency(limit)
        if "max_concurrency" not in loosenable:
            concurrency = min(concurrency, defaults.max_concurrency)
        changes["max_concurrency"] = concurrency
    asked = explicit_settings(context)
    changes.update(asked)
    run = replace(defaults, **changes) if changes else defaults
    for name, value in asked.items():
        rule: Tightening | None = _FIELDS[name].metadata.get("tightens")
        if rule is None or name in loosenable:
            continue
        built = getattr(defaults, name)
        why = rule.loosens(defaults, run) if rule.joint else rule.loosens(built, value)
        if why is not None:
            raise ConfigurationError(
                f"the run's context sets {name}={value!r}, which {why}: this graph was built "
                f"with {name}={built!r} and a run may only {rule.direction} (the deployer can "
                f"allow more with create_llm_compiler(..., caller_may_loosen=[{name!r}]))"
            )
    return run


def safety_settings() -> dict[str, Tightening]:
    """Return the settings a run may only tighten, with how each tightens."""
    return {name: f.metadata["tightens"] for name, f in _FIELDS.items() if f.metadata["tightens"]}


def _config_concurrency(limit: object) -> int:
    """Read LangGraph's general per-run knob: any number, clamped to 1..MAX_CONCURRENCY."""
    if isinstance(limit, bool) or not isinstance(limit, int | float) or math.isnan(limit):
        raise ConfigurationError(
            f'config["max_concurrency"] must be a number of tool calls, got {limit!r}'
        )
    return MAX_CONCURRENCY if limit >= MAX_CONCURRENCY else max(1, int(limit))


def _default(f: Field[Any]) -> Any:
    return f.default if f.default is not MISSING else None


def settings_table() -> str:
    """Return the settings as a Markdown table (the docs' Settings page)."""
    rows = [
        "| setting | type | default | a run may | meaning |",
        "|---|---|---|---|---|",
    ]
    for f in fields(Context):
        shown = f.metadata.get("shown") or repr(_default(f))
        kind = str(f.type).replace("|", "or")
        rule: Tightening | None = f.metadata.get("tightens")
        may = "set it" if rule is None else f"only {rule.direction}"
        description = f.metadata["description"]
        rows.append(f"| `{f.name}` | `{kind}` | `{shown}` | {may} | {description} |")
    return "\n".join(rows)


def settings_args_doc(indent: str = "    ") -> str:
    """Return the settings as Google-style ``Args``/``Attributes`` entries."""
    return "\n".join(
        textwrap.fill(
            f"{f.name}: {f.metadata['description']}",
            width=96,
            initial_indent=indent,
            subsequent_indent=indent * 2,
        )
        for f in fields(Context)
    )


Context.__doc__ = f"{Context.__doc__}\n\nAttributes:\n{settings_args_doc()}\n"

if __name__ == "__main__":
    print(settings_table())
