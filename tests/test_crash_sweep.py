"""Crash safety at every moment: kill a run after each checkpointer write and in each tool call.

``tests/durability/sweep.py`` forks a child per kill point (the k-th write of the
checkpointer returned, or the k-th tool call did its side effect), kills it with SIGKILL
there, resumes the thread in another child, and checks the rules of the journal: a call
whose result was saved never runs again, results reach their own tasks, a saved plan is
neither asked again nor cut, every task of the plan gets its result. Plan formats (text,
tool calls) x drivers (threads, asyncio) x scenarios (a round; an approval pass).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

COMBOS = [
    pytest.param(scenario, fmt, mode, id=f"{scenario}-{fmt}-{mode}")
    for scenario in ("round", "approval")
    for fmt in ("text", "tool_calls")
    for mode in ("sync", "async")
]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="the sweep forks")
@pytest.mark.parametrize(("scenario", "fmt", "mode"), COMBOS)
def test_every_crash_moment(tmp_path: Path, scenario: str, fmt: str, mode: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.durability.sweep", scenario, fmt, mode, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    (line,) = [s for s in proc.stdout.splitlines() if s.startswith("SWEEP ")]
    report = json.loads(line.removeprefix("SWEEP "))
    assert report["problems"] == []
    # The sweep reached past the round's last write and its last tool call.
    assert report["tried"]["write"] >= 5
    assert report["tried"]["call"] == (6 if scenario == "round" else 3)
