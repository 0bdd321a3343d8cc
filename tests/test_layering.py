"""The package's layering: every module imports, no import cycles, lower layers stay low.

Every import counts, also those inside functions: a cycle that only closes at call time is
still a cycle a reader has to untangle. Layers, bottom up (a module may import its own layer
and those below it):

``redact`` -> ``errors`` -> ``fetching`` (the task fetching unit, stdlib only) -> ``planner``
-> ``executor`` -> ``state`` -> ``context`` -> ``models``, ``prompt_cache`` -> ``joiner`` ->
``nodes`` (the LangGraph layer) -> ``compiler`` -> ``server``, ``cli`` and the package's
``__init__``.

Beside the core: ``sim`` (offline models and tools), ``tools`` (ready-made tools) and ``viz``
(pictures). The core never imports them, except where resolving a model name or serving the
demo graph needs them (listed in ``BESIDE_ALLOWED``).
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
ROOT = "llmcompiler_graph"
ALL = [*sorted(m.name for m in pkgutil.walk_packages([str(PACKAGE)], prefix=f"{ROOT}.")), ROOT]

LAYERS: list[tuple[str, ...]] = [
    ("redact",),
    ("errors",),
    ("fetching",),
    ("planner",),
    ("executor",),
    ("state",),
    ("context",),
    ("models", "prompt_cache", "store_selection"),
    ("joiner",),
    ("nodes",),
    ("compiler",),
    ("server", "cli", ""),
]
BESIDE: dict[str, int] = {"sim": 1, "tools": 7, "viz": 5}
"""Each package beside the core, with the highest core layer it may import."""
BESIDE_ALLOWED = {
    ("llmcompiler_graph.models", "sim"),  # "scripted:demo" names a model in sim
    ("llmcompiler_graph.server", "sim"),  # the served graph's offline tool set
    ("llmcompiler_graph.server", "tools"),  # the served graph's demo tools
    ("llmcompiler_graph", "tools"),  # tool_from_spec is public API
}


def source(module: str) -> Path:
    path = PACKAGE.joinpath(*module.split(".")[1:])
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def all_imports(module: str) -> set[str]:
    """Every module ``module`` imports, at its top or inside functions."""
    found: set[str] = set()
    tree = ast.parse(source(module).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    assert not any(
        isinstance(n, ast.ImportFrom) and n.level
        for n in ast.walk(ast.parse(source(module).read_text()))
    ), f"{module}: use absolute imports"
    return {m for m in found if m in ALL or not m.startswith(ROOT)}


def internal(module: str) -> set[str]:
    return {m for m in all_imports(module) if m.startswith(ROOT)} - {module}


def relative(module: str) -> str:
    return module[len(ROOT) + 1 :] if module != ROOT else ""


def layer_of(module: str) -> int | None:
    """The core layer of ``module`` (longest matching prefix), or None beside the core."""
    name = relative(module)
    best: tuple[int, int] | None = None
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if name == prefix or (prefix and name.startswith(prefix + ".")):
                if best is None or len(prefix) > best[1]:
                    best = (rank, len(prefix))
    return None if best is None else best[0]


def beside_of(module: str) -> str | None:
    top = relative(module).split(".")[0]
    return top if top in BESIDE else None


@pytest.mark.parametrize("module", ALL)
def test_every_module_imports(module: str) -> None:
    importlib.import_module(module)


def test_every_module_has_a_place_in_the_layers() -> None:
    homeless = [m for m in ALL if layer_of(m) is None and beside_of(m) is None]
    assert homeless == []


def test_no_import_cycles_even_through_imports_inside_functions() -> None:
    graph: dict[str, set[str]] = {}
    for module in ALL:
        deps = internal(module)
        # Importing a module imports its parent packages first (but not the importer's own
        # ancestors: a package's __init__ may gather its submodules).
        ancestors = {".".join(module.split(".")[:k]) for k in range(1, module.count(".") + 1)}
        for dep in list(deps):
            parts = dep.split(".")
            deps.update(".".join(parts[:k]) for k in range(2, len(parts)))
        deps -= ancestors
        deps.discard(ROOT)
        graph[module] = deps - {module}
    graph.pop(ROOT)
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError naming the cycle


def test_no_two_packages_import_each_other() -> None:
    def package(module: str) -> str:
        return relative(module).split(".")[0]

    edges = {
        (package(m), package(d))
        for m in ALL
        for d in internal(m)
        if package(m) != package(d) and m != ROOT
    }
    assert not {(a, b) for a, b in edges if (b, a) in edges}


def test_lower_layers_never_import_higher_ones() -> None:
    wrong = []
    for module in ALL:
        mine = layer_of(module)
        if mine is None:
            continue
        for dep in internal(module):
            theirs = layer_of(dep)
            if theirs is None:
                if (module, beside_of(dep)) not in BESIDE_ALLOWED:
                    wrong.append((module, dep))
            elif theirs > mine:
                wrong.append((module, dep))
    assert wrong == []


def test_packages_beside_the_core_stay_beside_it() -> None:
    wrong = []
    for module in ALL:
        mine = beside_of(module)
        if mine is None:
            continue
        for dep in internal(module):
            other = beside_of(dep)
            theirs = layer_of(dep)
            if other is not None and other != mine:
                wrong.append((module, dep))  # sim, tools and viz never import each other
            elif theirs is not None and theirs > BESIDE[mine]:
                wrong.append((module, dep))
    assert wrong == []


def test_fetching_is_pure_python() -> None:
    for module in (m for m in ALL if relative(m).startswith("fetching")):
        for imported in all_imports(module):
            root = imported.split(".")[0]
            if root == ROOT:
                assert layer_of(imported) is not None and layer_of(imported) <= 2, (
                    module,
                    imported,
                )
            else:
                assert root in sys.stdlib_module_names | {"__future__"}, (module, imported)


def test_planner_knows_nothing_of_langgraph() -> None:
    for module in (m for m in ALL if relative(m).startswith("planner")):
        imported = all_imports(module)
        assert not any(m.split(".")[0] == "langgraph" for m in imported), module


def test_role_packages_say_their_role_and_paper_section() -> None:
    for package, section in (
        ("planner", "3.1"),
        ("fetching", "3.2"),
        ("executor", "3.3"),
        ("joiner", "3.4"),
    ):
        doc = importlib.import_module(f"{ROOT}.{package}").__doc__ or ""
        assert f"(paper section {section})" in doc.splitlines()[0], package
    assert "LangGraph" in (importlib.import_module(f"{ROOT}.nodes").__doc__ or "")


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


def test_the_public_api_is_small_and_every_error_shares_one_base() -> None:
    from llmcompiler_graph import errors

    public = set(llmcompiler_graph.__all__)
    assert {"create_llm_compiler", "Context", "State", "LLMCompilerError"} <= public
    assert len(public) <= 20
    for name in errors.__all__:
        assert name in public, name
        assert issubclass(getattr(errors, name), errors.LLMCompilerError), name
    # No exception class is declared anywhere else without the common base.
    for module in ALL:
        for value in vars(importlib.import_module(module)).values():
            if (
                isinstance(value, type)
                and issubclass(value, Exception)
                and value.__module__ == module
                and module != f"{ROOT}.errors"
                and not value.__name__.startswith("_")
            ):
                assert issubclass(value, errors.LLMCompilerError), f"{module}.{value.__name__}"
