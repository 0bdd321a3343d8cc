"""MkDocs hooks: the parts of the site that are generated from the code, so they cannot drift.

* ``<!-- generated: NAME -->`` in a page is replaced by what :data:`GENERATORS` makes of NAME:
  the settings table (from :class:`llmcompiler_graph.Context`'s fields), the environment
  variables (every ``LLMCOMPILER_*`` name in the source, described in ``.env.example``), the
  command line's options and exit codes (from its argument parser), and the benchmark results
  (rendered from the recorded ``results.json`` files by the benchmarks' own report code).
* The notebooks (``notebooks/*.ipynb``) and the recorded benchmark plots
  (``benchmarks/results/**/*.png``) are added to the site where they are, without copies.
* A guide (``docs/guides/*.md``) missing from the nav is added to the nav's Guides section,
  titled by its first heading, and named in the build log: adding a guide needs no edit here.

An unknown marker, a variable the code reads that ``.env.example`` does not describe, or a
described one the code no longer reads fails the build (``mkdocs build --strict``).
"""

from __future__ import annotations

import ast
import json
import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RESULTS = ROOT / "benchmarks" / "results"
RECORDED = "benchmarks/recorded"  # where the recorded results' files appear in the site
ENV_EXAMPLE = ROOT / ".env.example"
ENV_PREFIX = "LLMCOMPILER_"
SOURCES = {"the package": ROOT / "llmcompiler_graph", "the benchmarks": ROOT / "benchmarks"}
DEVELOPMENT_SOURCES = {"the tests": ROOT / "tests"}

log = logging.getLogger("mkdocs.hooks.llmcompiler")


def _repository_on_path() -> None:
    """Make ``benchmarks`` importable: a plain package at the repository's top, not installed.

    (MkDocs restores ``sys.path`` after loading this module, so this runs on each build.)
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


# -- the settings -------------------------------------------------------------------------


def settings() -> str:
    """Return the settings table, one row per field of ``Context``."""
    from llmcompiler_graph.context import settings_table

    return settings_table()


# -- environment variables ----------------------------------------------------------------


def env_names_in(folder: Path) -> dict[str, set[str]]:
    """Map each ``LLMCOMPILER_*`` string constant in ``folder``'s Python files to its modules."""
    found: dict[str, set[str]] = {}
    pattern = re.compile(rf"^{ENV_PREFIX}[A-Z0-9_]+$")
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if pattern.match(node.value):
                    module = ".".join(path.relative_to(folder.parent).with_suffix("").parts)
                    found.setdefault(node.value, set()).add(module.removesuffix(".__init__"))
    return found


def env_descriptions(text: str) -> dict[str, str]:
    """Read ``.env.example``: each variable's description is the comment block above it."""
    described: dict[str, str] = {}
    comment: list[str] = []
    after_assignment = False  # consecutive variables share the comment above the first
    for raw in text.splitlines():
        line = raw.strip()
        assignment = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=", line)
        if assignment:
            described[assignment.group(1)] = " ".join(comment)
            after_assignment = True
        elif line.startswith("# ---") or not line:
            comment, after_assignment = [], False
        elif line.startswith("#"):
            if after_assignment:
                comment, after_assignment = [], False
            comment.append(line.lstrip("#").strip())
    return described


def environment() -> str:
    """Return the environment variables: every ``LLMCOMPILER_*`` the code reads, then others."""
    described = env_descriptions(ENV_EXAMPLE.read_text(encoding="utf-8"))
    read: dict[str, set[str]] = {}
    development: dict[str, set[str]] = {}
    for folder in SOURCES.values():
        for name, modules in env_names_in(folder).items():
            read.setdefault(name, set()).update(modules)
    for folder in DEVELOPMENT_SOURCES.values():
        for name, modules in env_names_in(folder).items():
            if name not in read:
                development.setdefault(name, set()).update(modules)
    code = read.keys() | development.keys()
    undescribed = sorted(n for n in code if not described.get(n))
    if undescribed:
        raise PluginError(
            f"environment variables read by the code but not described in .env.example: "
            f"{', '.join(undescribed)} (add a commented line `# NAME=` with a comment above it)"
        )
    stale = sorted(n for n in described if n.startswith(ENV_PREFIX) and n not in code)
    if stale:
        raise PluginError(
            f".env.example describes {', '.join(stale)}, which no code reads any more: remove them"
        )

    def table(names: dict[str, set[str]]) -> list[str]:
        rows = ["| variable | read by | meaning |", "|---|---|---|"]
        for name in sorted(names):
            where = ", ".join(f"`{m}`" for m in sorted(names[name]))
            rows.append(f"| `{name}` | {where} | {_html_safe(described[name])} |")
        return rows

    others = ["| variable | meaning |", "|---|---|"]
    for name, meaning in described.items():
        if not name.startswith(ENV_PREFIX):
            others.append(f"| `{name}` | {_html_safe(meaning)} |")
    lines = [
        *table(read),
        "",
        "Read by other libraries (the model's provider, LangSmith, the `langgraph` CLI):",
        "",
        *others,
    ]
    if development:
        lines += ["", "For development only:", "", *table(development)]
    return "\n".join(lines)


def _html_safe(text: str) -> str:
    """Keep ``<model>`` from being read as an HTML tag in a table cell."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


# -- the command line ---------------------------------------------------------------------


def command_line() -> str:
    """Return every command of ``llmcompiler-graph``: its options with their help, exit codes."""
    from llmcompiler_graph.cli import EXIT_CODES, build_parser

    parser = build_parser()
    lines = [
        _escape(parser.description or ""),
        "",
        "## Exit codes",
        "",
        "| exit code | meaning |",
        "|---|---|",
        *(f"| `{code}` | {_escape(meaning)} |" for code, meaning in EXIT_CODES.items()),
        "",
        "## Global options",
        "",
        *_options(parser),
    ]
    for name, sub in _commands(parser).items():
        lines += [
            "",
            f"## `{name}`",
            "",
            _escape(sub.description or ""),
            "",
            "```text",
            sub.format_usage().strip(),
            "```",
            "",
            *_options(sub),
        ]
    return "\n".join(lines)


def benchmarks_command_line() -> str:
    """Return the options of ``python -m benchmarks demo|bench|limits|cache``, from its parser."""
    import argparse

    from benchmarks import cli

    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    cli.add_commands(parser.add_subparsers(dest="command"))
    lines: list[str] = []
    for name, sub in _commands(parser).items():
        lines += [f"### `{name}`", "", _escape(sub.description or ""), "", *_options(sub), ""]
    return "\n".join(lines)


def _commands(parser: Any) -> dict[str, Any]:
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: Any) -> list[str]:
    import argparse

    rows = ["| option | meaning |", "|---|---|"]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
            continue
        name = ", ".join(action.option_strings) or action.dest
        if action.option_strings and action.nargs != 0:
            choices = "{" + ",".join(map(str, action.choices)) + "}" if action.choices else ""
            name += f" {action.metavar or choices or action.dest.upper()}"
        help_text = (action.help or "") % {"default": action.default, "prog": parser.prog}
        rows.append(f"| `{name}` | {_escape(help_text)} |")
    return rows


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# -- the benchmark results ----------------------------------------------------------------


def _results(relative: str) -> dict[str, Any]:
    path = RESULTS / relative
    if not path.exists():
        raise PluginError(f"no recorded benchmark results at {path.relative_to(ROOT)}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def benchmark_results() -> str:
    """Return the main benchmark's report, rendered from its recorded ``results.json``."""
    from benchmarks.session_report import render_report

    data = _results("results.json")
    settings = data["settings"]
    report = render_report(
        settings.get("title", "LLMCompiler benchmark"),
        settings,
        data["summary"],
        recorded_targets(data),
        data.get("micro"),
    )
    return _demote_headings(report)


def recorded_targets(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Check the recorded figures against the targets again, so each line reads as today's.

    The figures are the recorded ones; only the wording of a note (why a target was missed)
    follows the current code.
    """
    from benchmarks.report import evaluate_targets

    with_dependencies = sorted(
        {t["name"].split(":")[0] for t in data["targets"] if "vs parallel tool" in t["name"]}
    )
    return evaluate_targets(
        data["summary"],
        profile=data["settings"]["profile"]["name"],
        with_dependencies=with_dependencies,
        all_overheads_ms=[x for run in data["runs"] for x in run.get("overheads_ms") or ()],
        micro=data.get("micro"),
    )


def limits_results() -> str:
    """Return the benchmark under limits, rendered from its recorded ``results.json``."""
    from benchmarks.limits.report import markdown_tables, targets_text

    data = _results("limits/results.json")
    return "\n".join(
        [
            markdown_tables(data["summary"], data.get("dispatch", {})),
            "",
            "Targets (printed, not asserted):",
            "",
            targets_text(data["targets"]),
        ]
    )


def tools_results() -> str:
    """Return the many-tools benchmark, rendered from its recorded ``results.json``."""
    from benchmarks.tool_selection import report

    return report(_results("tools/results.json"))


def hazards_results() -> str:
    """Return the hazard benchmark, rendered from its recorded ``results.json``."""
    from benchmarks.hazards.suite import summary_table, targets_text

    data = _results("hazards/results.json")
    settings = data["settings"]
    return "\n".join(
        [
            f"Recorded {settings['date_utc'][:10]}, profile `{settings['profile']}`, seed "
            f"{settings['seed']}, {settings['samples']} plans.",
            "",
            summary_table(data["summary"]),
            "",
            "Targets (printed, not asserted):",
            "",
            targets_text(data["targets"]),
        ]
    )


def cache_results(folder: str = "cache") -> str:
    """Return the prompt-caching benchmark, rendered from its recorded ``results.json``."""
    from benchmarks.caching import render_cache_report

    data = _results(f"{folder}/results.json")
    return _demote_headings(render_cache_report(data["settings"], data["summary"], data["targets"]))


def recorded_on() -> str:
    """When the main results were recorded, with which profile and seed (from their settings)."""
    settings = _results("results.json")["settings"]
    return (
        f"{settings['date_utc'][:10]}, profile `{settings['profile']['name']}`, "
        f"seed {settings['seed']}"
    )


def _demote_headings(markdown: str) -> str:
    return re.sub(r"^(#+) ", r"#\1 ", markdown, flags=re.MULTILINE)


GENERATORS: dict[str, Callable[[], str]] = {
    "settings": settings,
    "environment": environment,
    "cli": command_line,
    "benchmarks-cli": benchmarks_command_line,
    "benchmark-results": benchmark_results,
    "limits-results": limits_results,
    "tools-results": tools_results,
    "hazards-results": hazards_results,
    "cache-results": cache_results,
    "cache-results-vllm": lambda: cache_results("cache-vllm"),
    "recorded-on": recorded_on,
}
MARKER = re.compile(r"<!-- generated: ([a-z-]+) -->")


# -- MkDocs events --------------------------------------------------------------------------


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Add every guide the nav does not list to its Guides section."""
    _repository_on_path()
    nav = config.nav
    if not nav:  # no nav: MkDocs lists every page by itself
        return config
    listed = set(_nav_files(nav))
    missing = sorted(
        p.relative_to(DOCS).as_posix()
        for p in (DOCS / "guides").glob("*.md")
        if p.relative_to(DOCS).as_posix() not in listed
    )
    if missing:
        guides = next((e["Guides"] for e in nav if isinstance(e, dict) and "Guides" in e), None)
        if guides is None:
            raise PluginError("mkdocs.yml's nav has no 'Guides' section for the guides")
        for page in missing:
            guides.append({_title(DOCS / page): page})
        log.info("guides not in mkdocs.yml's nav, added at the end of Guides: %s", missing)
    return config


def _nav_files(nav: Any) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [f for item in nav for f in _nav_files(item)]
    if isinstance(nav, dict):
        return [f for value in nav.values() for f in _nav_files(value)]
    return []


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem.replace("-", " ").capitalize()


@event_priority(100)  # before mkdocs-jupyter turns the notebooks into pages
def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the notebooks and the recorded benchmark plots to the site, from where they are."""
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        # A File whose source folder is the repository's top (not File.generated, whose
        # abs_src_path mkdocs-jupyter's wrapper cannot see).
        uri = notebook.relative_to(ROOT).as_posix()
        files.append(
            File(uri, str(ROOT), config.site_dir, config.use_directory_urls)  # type: ignore[arg-type]
        )
    for image in sorted(RESULTS.rglob("*.png")):
        uri = f"{RECORDED}/{image.relative_to(RESULTS).as_posix()}"
        files.append(File.generated(config, uri, abs_src_path=str(image)))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace each ``<!-- generated: NAME -->`` marker with what the code says."""

    def generate(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise PluginError(
                f"{page.file.src_uri}: unknown marker {match.group(0)!r}; "
                f"known: {', '.join(sorted(GENERATORS))}"
            )
        return GENERATORS[name]()

    return MARKER.sub(generate, markdown)
