"""The documentation site builds strictly, and shows what the code generates.

``mkdocs build --strict`` fails on a broken link, a missing reference, an unknown generated
marker, an environment variable ``.env.example`` does not describe, or a notebook cell that
raises. The build executes the notebooks (offline, no key in the environment), so this test is
also where each notebook is checked to draw its figures on its page.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_notebooks import EXPECTED_FIGURES, _pinned_kernelspec

ROOT = Path(__file__).resolve().parents[1]
MKDOCS = Path(sys.executable).with_name("mkdocs")

# Runs a Jupyter kernel per notebook: the module's first test waits for the whole build, which
# takes minutes on a busy 2-core machine (the subprocess has its own 900 s limit).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not MKDOCS.exists():
        pytest.skip("mkdocs is not installed (pip install -e '.[dev]')")
    out = tmp_path_factory.mktemp("site")
    jupyter = tmp_path_factory.mktemp("jupyter")
    _pinned_kernelspec(jupyter)  # the notebooks run in this interpreter, whatever else is set up
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LLMCOMPILER_MODEL")
    }
    env.update(LANGSMITH_TRACING="false", NO_MKDOCS_2_WARNING="1", JUPYTER_PATH=str(jupyter))
    build = subprocess.run(
        [str(MKDOCS), "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    problems = [line for line in build.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert build.returncode == 0, "\n".join(problems) or build.stderr[-3000:]
    return out


def _text(page: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", sorted(EXPECTED_FIGURES))
def test_each_notebook_page_shows_its_figures(site: Path, name: str) -> None:
    page = site / "notebooks" / name.removesuffix(".ipynb") / "index.html"
    figures = re.findall(r'<img [^>]*src="data:image/png', page.read_text(encoding="utf-8"))
    assert len(figures) >= EXPECTED_FIGURES[name], (
        f"{name} shows {len(figures)} figure(s), expected {EXPECTED_FIGURES[name]}"
    )


def test_the_settings_page_lists_every_setting(site: Path) -> None:
    from dataclasses import fields

    from llmcompiler_graph import Context

    text = _text(site / "guides" / "settings" / "index.html")
    for field in fields(Context):
        assert field.metadata["description"].replace("`", "")[:40] in text, field.name


def test_the_environment_page_lists_what_the_code_reads(site: Path) -> None:
    text = _text(site / "reference" / "environment" / "index.html")
    for name in ("LLMCOMPILER_MODEL", "LLMCOMPILER_TOOLS", "LLMCOMPILER_PLAN_FORMAT"):
        assert name in text


def test_the_cli_page_has_every_command_option_and_exit_code(site: Path) -> None:
    import argparse

    from llmcompiler_graph.cli import EXIT_CODES, build_parser

    text = _text(site / "reference" / "cli" / "index.html")
    for code, meaning in EXIT_CODES.items():
        assert meaning.replace("`", "")[:40] in text, code
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in {"": parser, **commands.choices}.items():
        for action in command._actions:
            for option in action.option_strings:
                assert option in text, (name, option)
        assert (command.description or "")[:40] in text, name


def test_the_results_pages_are_rendered_from_the_recorded_files(site: Path) -> None:
    text = _text(site / "benchmarks" / "results" / "index.html")
    assert "measured/ideal" in text and "LLMCompiler (async)" in text
    limits = _text(site / "benchmarks" / "limits" / "index.html")
    assert "critical path" in limits and "dispatch latency" in limits
    caching = _text(site / "benchmarks" / "caching" / "index.html")
    assert "planner input tokens from cache" in caching and "both cached" in caching
    assert (site / "benchmarks" / "recorded" / "plots" / "overview.png").exists()


def test_the_api_reference_uses_the_package_s_modules(site: Path) -> None:
    text = _text(site / "reference" / "api" / "index.html")
    assert "create_llm_compiler" in text and "ScriptedChatModel" in text
    errors = _text(site / "reference" / "errors" / "index.html")
    assert "LLMCompilerError" in errors and "ConfigurationError" in errors
