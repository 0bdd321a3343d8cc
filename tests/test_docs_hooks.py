"""The docs' generators (docs/hooks.py), without building the site: fast, in ``make check``."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _load_hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("llmcompiler_docs_hooks", DOCS / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


hooks = _load_hooks()


def test_every_marker_in_the_docs_is_one_the_hooks_know() -> None:
    used = {
        match
        for page in DOCS.rglob("*.md")
        for match in re.findall(r"<!-- generated: ([a-z-]+) -->", page.read_text("utf-8"))
    }
    assert used and used <= set(hooks.GENERATORS)


def test_the_env_example_describes_each_variable_once_with_the_comment_above_it() -> None:
    text = """\
# --- Section ------
# The model's name.
# LLMCOMPILER_MODEL=
# Shared by the next two.
A=1
# B=
# Another block.
C=2
"""
    assert hooks.env_descriptions(text) == {
        "LLMCOMPILER_MODEL": "The model's name.",
        "A": "Shared by the next two.",
        "B": "Shared by the next two.",
        "C": "Another block.",
    }


def test_the_environment_page_lists_every_variable_the_package_reads() -> None:
    found = hooks.env_names_in(ROOT / "llmcompiler_graph")
    assert {"LLMCOMPILER_MODEL", "LLMCOMPILER_TOOLS", "LLMCOMPILER_PLAN_FORMAT"} <= set(found)
    page = hooks.environment()
    for name in found:
        assert f"| `{name}` |" in page


def test_an_undescribed_variable_fails_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "LLMCOMPILER_" + "SOMETHING_NEW"  # not one constant, or the real scan would see it
    (tmp_path / "mod.py").write_text(f"NAME = {name!r}\n", encoding="utf-8")
    monkeypatch.setitem(hooks.SOURCES, "extra", tmp_path)
    with pytest.raises(hooks.PluginError, match=name):
        hooks.environment()


class _Config(dict[str, Any]):
    """The part of MkDocsConfig the nav hook reads: attribute access to ``nav``."""

    @property
    def nav(self) -> Any:
        return self["nav"]


def test_a_guide_missing_from_the_nav_is_added_to_guides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guides = tmp_path / "guides"
    guides.mkdir()
    (guides / "listed.md").write_text("# Listed\n", encoding="utf-8")
    (guides / "new-thing.md").write_text("# A new thing\n\nText.\n", encoding="utf-8")
    monkeypatch.setattr(hooks, "DOCS", tmp_path)
    config = _Config(nav=[{"Home": "index.md"}, {"Guides": [{"Listed": "guides/listed.md"}]}])
    hooks.on_config(config)  # type: ignore[arg-type]
    assert config["nav"][1]["Guides"] == [
        {"Listed": "guides/listed.md"},
        {"A new thing": "guides/new-thing.md"},
    ]


def test_an_unknown_marker_fails_the_build() -> None:
    class Page:
        class file:  # stands in for MkDocs' File
            src_uri = "guides/x.md"

    with pytest.raises(hooks.PluginError, match="unknown marker"):
        hooks.on_page_markdown("<!-- generated: nothing-like-this -->", Page(), None, None)


def test_the_benchmark_pages_render_from_the_recorded_results() -> None:
    results = hooks.benchmark_results()
    assert "| workload | approach |" in results and "How to read the table" in results
    assert "| dispatch latency | path |" in hooks.limits_results()
    assert "--questions" in hooks.benchmarks_command_line()


def test_the_results_page_checks_the_recorded_figures_as_they_were_checked() -> None:
    data = hooks._results("results.json")
    again = hooks.recorded_targets(data)
    assert [(t["name"], t["ok"]) for t in again] == [(t["name"], t["ok"]) for t in data["targets"]]
    for now, then in zip(again, data["targets"], strict=True):
        assert now["value"] == pytest.approx(then["value"]), now["name"]


def test_the_nav_lists_each_page_once() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8").split("\nnav:\n", 1)[1]
    pages = re.findall(r":\s*(\S+\.(?:md|ipynb))\s*$", nav, flags=re.MULTILINE)
    duplicated = sorted({page for page in pages if pages.count(page) > 1})
    assert pages and not duplicated, duplicated
    for page in pages:
        assert (DOCS / page).exists() or (ROOT / page).exists(), page
