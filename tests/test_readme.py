"""The README: short, starts offline with the reader's own tools, and its figures are recorded ones.

Its Python blocks run in ``tests/test_doc_examples.py``; here: its length, its quick start,
that CI runs its test command, and that its headline benchmark figures are the recorded ones.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
RESULTS = ROOT / "benchmarks" / "results" / "results.json"


def test_the_readme_is_short() -> None:
    assert len(README.splitlines()) <= 220


def test_the_quick_start_is_make_demo_and_make_test_and_ci_runs_the_test_command() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(make \w+)", quick_start, flags=re.MULTILINE)
    assert commands == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, flags=re.MULTILINE)


def test_the_first_screen_shows_the_offline_example_with_the_reader_s_own_tools() -> None:
    first_screen = "\n".join(README.splitlines()[:70])
    assert "ScriptedChatModel(responses=[plan, answer])" in first_screen
    assert "create_llm_compiler(model, [get_weather, warmer])" in first_screen


def test_every_relative_link_of_the_readme_exists() -> None:
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README):
        if "://" in target:
            continue
        assert (ROOT / target).exists(), target


def test_the_headline_figures_are_the_recorded_ones() -> None:
    summary = json.loads(RESULTS.read_text(encoding="utf-8"))["summary"]
    block = README.split("<!-- headline:start", 1)[1].split("<!-- headline:end -->", 1)[0]
    for workload, label in (("movie", "Movie"), ("parallelqa", "ParallelQA")):
        ours = summary[workload]["llmcompiler"]
        row = next(line for line in block.splitlines() if line.startswith(f"| {label} "))
        assert f"{ours['speedup_vs_react']:.2f}x" in row, (workload, row)
        assert f"{ours['speedup_vs_parallel']:.2f}x" in row, (workload, row)
    ratios = [
        rows["llmcompiler"]["vs_ideal"]
        for rows in summary.values()
        if rows.get("llmcompiler", {}).get("vs_ideal") is not None
    ]
    assert f"measured/ideal {min(ratios):.3f} to {max(ratios):.3f}" in block
    assert f"Over {len(ratios)} workloads" in block
