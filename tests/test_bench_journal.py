"""The journal benchmark (``make bench-journal``) runs, and every task of its plan runs."""

from __future__ import annotations

from benchmarks.journal import run_suite, table


def test_the_journal_benchmark_runs_each_kind_with_every_task() -> None:
    rows = run_suite(60, 1, modes=("sync", "async"), checkpointers=("none", "memory", "sqlite"))
    assert {(r["mode"], r["checkpointer"]) for r in rows} == {
        (mode, kind) for mode in ("sync", "async") for kind in ("none", "memory", "sqlite")
    }
    assert all(r["seconds"] > 0 and r["lines"] == 60 for r in rows)
    assert all(r["ratio"] == 1.0 for r in rows if r["checkpointer"] == "none")
    text = table(rows)
    assert text.startswith("Simulation:") and "| 60 | async | sqlite |" in text
