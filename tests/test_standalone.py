"""The repository stands alone: its data ships with it, nothing reads a folder beside it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import llmcompiler_graph
from benchmarks.paper import DATASET_FILES, dataset_dir

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path(llmcompiler_graph.__file__).resolve().parent

# A path into a folder named "shared" (`"shared"`, `../shared`, `shared/datasets`): prose such
# as "shared by both units" is fine, a way to reach data outside the repository is not.
_SHARED_PATH = re.compile(r"""["'/\\]shared\b|\bshared[/\\"']""")


def _mentions_shared_path(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [
        f"{path}:{number}: {line.strip()}"
        for number, line in enumerate(text.splitlines(), 1)
        if _SHARED_PATH.search(line)
    ]


def test_the_pattern_catches_the_old_ways_of_reaching_the_shared_folder() -> None:
    for line in ('parents[3] / "shared" / "datasets"', "../shared/datasets/bfcl", "'shared'"):
        assert _SHARED_PATH.search(line), line
    assert not _SHARED_PATH.search("Dependency bookkeeping shared by both task fetching units")


def test_no_module_under_the_package_mentions_a_shared_folder() -> None:
    found = [hit for p in sorted(PACKAGE.rglob("*.py")) for hit in _mentions_shared_path(p)]
    assert found == []


def test_no_test_or_notebook_reads_a_shared_folder() -> None:
    files = [*REPO.joinpath("tests").rglob("*.py"), *REPO.joinpath("notebooks").glob("*.ipynb")]
    found = [hit for p in sorted(files) if p != Path(__file__) for hit in _mentions_shared_path(p)]
    assert found == []


def test_the_data_and_its_notices_are_in_the_repository() -> None:
    assert {p.name for p in dataset_dir().iterdir()} >= {
        *DATASET_FILES.values(),
        "README.md",
        "LICENSE-LLMCompiler",
    }
    assert dataset_dir() == REPO / "benchmarks" / "data"
    bfcl = REPO / "tests" / "data" / "bfcl"
    for name in ("BFCL_v4_parallel.json", "BFCL_v4_parallel_multiple.json"):
        assert (bfcl / name).is_file() and (bfcl / "possible_answer" / name).is_file()
    notice = (REPO / "NOTICE").read_text(encoding="utf-8")
    for source in ("SqueezeAILab/LLMCompiler", "CC BY-SA 4.0", "bfcl-eval", "Apache License 2.0"):
        assert source in notice


def _clone(tmp_path: Path) -> Path:
    """Clone the repository's HEAD into an otherwise empty folder; return the clone."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed, so the repository cannot be cloned")
    head = subprocess.run(
        [git, "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    if head.returncode != 0:
        pytest.skip(f"{REPO} is not a git checkout (an sdist?), so there is nothing to clone")
    alone = tmp_path / "alone"
    alone.mkdir()
    clone = alone / "llmcompiler-graph"
    subprocess.run(
        [git, "clone", "--quiet", "--no-hardlinks", str(REPO), str(clone)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert sorted(p.name for p in alone.iterdir()) == ["llmcompiler-graph"]
    return clone


def _env_for(clone: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LLMCOMPILER_"))}
    env.update(PYTHONPATH=str(clone), LANGSMITH_TRACING="false", PYTHONDONTWRITEBYTECODE="1")
    return env


@pytest.mark.slow
def test_a_lone_clone_runs_the_demo_and_its_data_tests_without_skips(tmp_path: Path) -> None:
    clone = _clone(tmp_path)
    env = _env_for(clone)
    out = tmp_path / "demo-out"
    # The demo's own code path (`make demo`: python -m benchmarks demo), from the clone's root.
    demo = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, llmcompiler_graph as p, benchmarks.__main__ as b;"
            "print('package at', p.__file__);"
            "sys.exit(b.main(sys.argv[1:]))",
            *("demo", "--questions", "1", "--profile", "instant", "--out", str(out)),
        ],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert f"package at {clone / 'llmcompiler_graph'}" in demo.stdout
    for workload in DATASET_FILES:
        assert f"| {workload} | LLMCompiler |" in demo.stdout
    assert (out / "results.json").is_file()
    # The tests that need the data run in the clone, and none is skipped.
    tests = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "tests/test_bench_workloads.py",
            "tests/reliability/test_bfcl.py",
            "-k",
            "paper or dataset or bfcl_sample",
        ],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    summary = tests.stdout.strip().splitlines()[-1] if tests.stdout.strip() else tests.stderr
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    assert "passed" in summary and "skipped" not in summary, summary
