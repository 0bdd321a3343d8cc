"""The package's layering: every module imports, no import cycles, lower layers stay low.

Layers, bottom up: ``fetching`` (the task fetching unit, pure Python, with the thread pool
in ``executor.workers``) and ``planner`` (prompts, parser), then the executor's tool calls,
the joiner and the LangGraph layer (graph, nodes, rounds, approval, state...), with
``tools``, ``sim``, ``viz`` and ``bench`` beside it: no core module imports them at import
time (``served`` picks tools inside a function; the package's ``__init__`` re-exports
``tool_from_spec`` as public API).
"""

from __future__ import annotations

import ast
import graphlib
import importlib
import pkgutil
import sys
from pathlib import Path

import pytest

import llmcompiler_graph

PACKAGE = Path(llmcompiler_graph.__file__).parent
MODULES = pkgutil.walk_packages([str(PACKAGE)], prefix="llmcompiler_graph.")
ALL = [*sorted(m.name for m in MODULES), "llmcompiler_graph"]
LANGGRAPH_LAYER = {
    f"llmcompiler_graph.{name}"
    for name in (
        "graph",
        "nodes",
        "plan_and_schedule",
        "plan_stream",
        "plan_reader",
        "stream_cancel",
        "approval",
        "approval_answers",
        "state",
        "context",
        "context_fields",
        "transcript",
        "render",
        "events",
        "models",
        "served",
        "joiner",
        "cli",
    )
}
BESIDE = ("tools", "sim", "viz", "bench")


def source(module: str) -> Path:
    path = PACKAGE.joinpath(*module.split(".")[1:])
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def top_level_imports(module: str) -> set[str]:
    """Modules imported when ``module`` is imported (not inside functions)."""
    tree = ast.parse(source(module).read_text())
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {m for m in found if m in ALL or not m.startswith("llmcompiler_graph")}


def internal(module: str) -> set[str]:
    return {m for m in top_level_imports(module) if m.startswith("llmcompiler_graph")}


@pytest.mark.parametrize("module", ALL)
def test_every_module_imports(module: str) -> None:
    importlib.import_module(module)


def test_no_import_cycles() -> None:
    graph = {m: internal(m) - {m} for m in ALL if m != "llmcompiler_graph"}
    for deps in graph.values():
        deps.discard("llmcompiler_graph")
    # A module imports its parent packages first: a package's __init__ is part of the chain.
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError naming the cycle


def test_fetching_is_pure_python_and_imports_no_higher_layer() -> None:
    for module in (m for m in ALL if m.startswith("llmcompiler_graph.fetching")):
        for imported in top_level_imports(module):
            root = imported.split(".")[0]
            if root == "llmcompiler_graph":
                assert imported.startswith("llmcompiler_graph.fetching") or imported == (
                    "llmcompiler_graph.executor.workers"
                ), (module, imported)
            else:
                assert root in sys.stdlib_module_names | {"__future__"}, (module, imported)


def test_planner_imports_nothing_from_the_langgraph_layer() -> None:
    for module in (m for m in ALL if m.startswith("llmcompiler_graph.planner")):
        imported = top_level_imports(module)
        assert not imported & LANGGRAPH_LAYER, (module, imported & LANGGRAPH_LAYER)
        assert not any(m.split(".")[0] == "langgraph" for m in imported), module


def test_core_modules_do_not_import_tools_sim_viz_or_bench() -> None:
    core = [
        m
        for m in ALL
        if m != "llmcompiler_graph"
        and not m.startswith(tuple(f"llmcompiler_graph.{b}" for b in BESIDE))
    ]
    for module in core:
        bad = {m for m in internal(module) if m.split(".")[1] in BESIDE}
        assert not bad, (module, bad)


def test_modules_do_not_re_export_other_modules_names() -> None:
    """Only a package's ``__init__`` gathers names; a module's ``__all__`` is its own."""
    for module in ALL:
        path = source(module)
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text())
        imported = {
            alias.asname or alias.name
            for node in tree.body
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        exported: set[str] = set()
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                exported = set(ast.literal_eval(node.value))
        assert not exported & imported, (module, sorted(exported & imported))
