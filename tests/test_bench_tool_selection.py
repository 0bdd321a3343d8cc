"""The many-tools benchmark (benchmarks/tool_selection.py) on a few BFCL questions."""

from __future__ import annotations

from pathlib import Path

from benchmarks.tool_selection import load_pool, report, run_tool_selection, write


def test_the_pool_is_the_579_distinct_bfcl_functions() -> None:
    specs, questions = load_pool()
    assert len(specs) == 579
    assert len({s["name"] for s in specs}) == 579
    assert len(questions) == 400
    assert all(q.needed and q.text for q in questions)


def test_the_benchmark_measures_each_k_and_prints_the_targets(tmp_path: Path) -> None:
    results = run_tool_selection((5, 10, 20), limit=12)
    rows = {row["k"]: row for row in results["rows"]}
    assert sorted(rows) == [0, 5, 10, 20]
    assert rows[0]["recall"] == 1.0  # every tool listed
    assert rows[0]["tools_listed_mean"] == 579
    assert rows[10]["tools_listed_mean"] <= 10
    assert rows[5]["recall"] <= rows[10]["recall"] <= rows[20]["recall"]
    for fmt in ("text", "tool_calls"):
        tokens = [rows[k][f"prompt_tokens_{fmt}_mean"] for k in (5, 10, 20, 0)]
        assert tokens == sorted(tokens)
        assert rows[0]["ttft_s"]["gpt-4-like"][fmt] > rows[10]["ttft_s"]["gpt-4-like"][fmt]
    text = report(results)
    assert "SIMULATION" in text
    assert "selection recall at k = 10" in text
    assert "planner prompt tokens" in text
    files = write(results, tmp_path)
    assert [f.name for f in files] == ["results.json", "RESULTS.md"]
