"""The tutorial notebooks: committed without outputs, and each runs top to bottom offline.

They are run where they are shown: the documentation site's build executes every notebook in
a fresh Jupyter kernel (``python3``, pinned to this interpreter by :func:`_pinned_kernelspec`)
with no API key in its environment, and ``tests/test_docs_site.py`` checks that each page shows
its figures (:data:`EXPECTED_FIGURES`). Here: what can be checked without running them.
"""

from __future__ import annotations

import ast
import importlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"

# Figures (image/png outputs) each notebook must produce when run.
EXPECTED_FIGURES = {
    "01_quickstart.ipynb": 2,
    "02_dependencies_and_replanning.ipynb": 3,
    "03_bring_your_own_tools_and_model.ipynb": 2,
    "04_why_it_is_faster.ipynb": 4,
    "05_tool_calling_planner.ipynb": 3,
    "06_structured_extraction.ipynb": 2,
}

# Notebooks import the package's public API only: these modules (and the benchmark suite's
# public modules), and only names listed in the module's __all__.
PUBLIC_MODULES = {
    "llmcompiler_graph",
    "llmcompiler_graph.sim",
    "llmcompiler_graph.viz",
    "llmcompiler_graph.tools",
    "llmcompiler_graph.planner",
    "llmcompiler_graph.fetching",
}


def _public(module: str) -> bool:
    if module in PUBLIC_MODULES:
        return True
    parts = module.split(".")
    return parts[0] == "benchmarks" and not any(p.startswith("_") for p in parts)


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    return data


def _code(notebook: dict[str, Any]) -> list[str]:
    return ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]


def test_the_notebooks_exist() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(EXPECTED_FIGURES)


@pytest.mark.parametrize("name", sorted(EXPECTED_FIGURES))
def test_committed_notebook_has_no_outputs(name: str) -> None:
    notebook = _load(name)
    for number, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        assert cell.get("outputs") == [], (
            f"{name} cell {number} has stored outputs; clear them before committing "
            "(Jupyter: Edit > Clear All Outputs, or jupyter nbconvert --clear-output --inplace)"
        )
        assert cell.get("execution_count") is None, (
            f"{name} cell {number} has an execution count; clear outputs before committing"
        )


@pytest.mark.parametrize("name", sorted(EXPECTED_FIGURES))
def test_notebook_states_its_purpose_and_uses_the_public_api(name: str) -> None:
    notebook = _load(name)
    first = notebook["cells"][0]
    assert first["cell_type"] == "markdown"
    assert "**Purpose:**" in "".join(first["source"]), f"{name}: first cell must state its purpose"
    for source in _code(notebook):
        lines = [line for line in source.splitlines() if not line.lstrip().startswith("%")]
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("llmcompiler"):
                module = str(node.module)
                assert _public(module), f"{name} imports from {module}, not a public module"
                exported = set(getattr(importlib.import_module(module), "__all__", ()))
                for alias in node.names:
                    assert alias.name in exported, f"{name}: {module}.{alias.name} is not public"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("llmcompiler"):
                        assert _public(alias.name), f"{name} imports {alias.name}"


def _pinned_kernelspec(root: Path) -> None:
    """Write a ``python3`` kernelspec that runs this interpreter (found first on JUPYTER_PATH)."""
    spec = root / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3 (tests)", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
