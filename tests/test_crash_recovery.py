"""Crash-safe rounds: kill -9 at several points, resume in a new process.

Each scenario runs ``tests/durability/crash_child.py`` in subprocesses sharing one thread
in a SQLite file or a real PostgreSQL server: the child stops itself at the kill point once
everything that finished before it is saved, prints ``READY``, and is killed with SIGKILL;
a new process resumes the thread with ``invoke(None, config)``. Side effects are counted
from a log file the tools append to: a tool call that had finished never runs again (its
recorded result is replayed, to the right task), a plan is never asked for twice, calls in
flight at the crash run again (at least once).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.durability.postgres import postgres_server

CHILD = Path(__file__).parent / "durability" / "crash_child.py"
ROOT = Path(__file__).resolve().parents[1]


def child(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def crash(args: list[str]) -> None:
    """Run a child to its kill point, then kill it with SIGKILL."""
    proc = child(args)
    assert proc.stdout is not None
    try:
        for line in proc.stdout:  # blocks until the child speaks; no timing involved
            if "READY" in line and "NEVER-READY" not in line:
                break
        else:
            proc.wait(60)
            pytest.fail(f"the child ended before its kill point:\n{proc.stderr.read()}")  # type: ignore[union-attr]
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(60)
    assert proc.returncode == -signal.SIGKILL


def finish(args: list[str]) -> dict[str, Any]:
    """Run a child to the end; return what it reported."""
    proc = child(args)
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    (line,) = [s for s in out.splitlines() if s.startswith("RESULT ")]
    return dict(json.loads(line.removeprefix("RESULT ")))


def effects(log: Path) -> Counter[str]:
    return Counter(log.read_text().splitlines())


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with postgres_server() as uri:
        yield uri


def stores(tmp_path: Path, kind: str, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return str(tmp_path / "threads.sqlite")
    uri = request.getfixturevalue("postgres")
    # A database per test, so tests sharing the server never see each other's threads.
    import psycopg

    name = f"t{uuid.uuid4().hex}"
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return uri.rsplit("/", 1)[0] + f"/{name}"


CASES = [
    pytest.param("sqlite", "sync", marks=pytest.mark.slow),
    pytest.param("sqlite", "async", marks=pytest.mark.slow),
    pytest.param("postgres", "sync", marks=[pytest.mark.slow, pytest.mark.integration]),
    pytest.param("postgres", "async", marks=[pytest.mark.slow, pytest.mark.integration]),
]


@pytest.mark.parametrize(("kind", "mode"), CASES)
def test_tasks_in_flight(
    tmp_path: Path, kind: str, mode: str, request: pytest.FixtureRequest
) -> None:
    store, log = stores(tmp_path, kind, request), tmp_path / "effects.log"
    crash(["inflight", "crash", store, str(log), mode])
    before = effects(log)
    assert before["plan"] == 1 and before["effect e1"] == before["effect e3"] == 1
    assert {before["effect h4"], before["effect h5"], before["effect h6"]} == {1}
    out = finish(["inflight", "resume", store, str(log), mode])
    after = effects(log)
    # Finished calls replayed, the plan not asked again; calls in flight ran again.
    assert after["plan"] == 1
    assert after["effect e1"] == after["effect e2"] == after["effect e3"] == 1
    assert after["effect h4"] == after["effect h5"] == after["effect h6"] == 2
    assert after["effect e7"] == 1 and after["joiner"] == 1
    # Tasks 1-3 finished in the order 3, 2, 1 and their results were recorded in that
    # order: each still reaches its own task.
    assert out["plan_error"] is None  # the plan had ended: replayed whole, not marked cut
    names = {1: "e1", 2: "e2", 3: "e3", 4: "h4", 5: "h5", 6: "h6", 7: "e7"}
    assert out["results"] == {str(i): ["success", f"did {n}"] for i, n in names.items()}


@pytest.mark.parametrize(("kind", "mode"), CASES)
def test_mid_stream(tmp_path: Path, kind: str, mode: str, request: pytest.FixtureRequest) -> None:
    store, log = stores(tmp_path, kind, request), tmp_path / "effects.log"
    crash(["midstream", "crash", store, str(log), mode])
    assert effects(log) == Counter({"plan": 1, "effect e1": 1, "effect e2": 1})
    out = finish(["midstream", "resume", store, str(log), mode])
    # The part of the plan recorded before the crash is kept and not re-asked; task 3 was
    # never planned. The joiner reads the plan as cut and may replan.
    assert effects(log) == Counter({"plan": 1, "effect e1": 1, "effect e2": 1, "joiner": 1})
    assert sorted(out["results"]) == ["1", "2"]
    assert "stream was cut short" in out["plan_error"]


@pytest.mark.parametrize(("kind", "mode"), CASES)
def test_inside_approval(
    tmp_path: Path, kind: str, mode: str, request: pytest.FixtureRequest
) -> None:
    store, log = stores(tmp_path, kind, request), tmp_path / "effects.log"
    paused = finish(["approval", "pause", store, str(log), mode])  # process 1: asks
    assert paused["interrupt"] and sorted(paused["results"]) == ["1"]
    crash(["approval", "crash", store, str(log), mode])  # process 2: approves, dies
    assert effects(log)["email a"] == effects(log)["email b"] == 1
    out = finish(["approval", "resume", store, str(log), mode])  # process 3: resumes
    after = effects(log)
    assert after["email a"] == after["email b"] == 1  # approved emails are not sent twice
    assert after["email c"] == 2  # in flight at the crash: at least once
    assert after["plan"] == 1 and after["effect e1"] == 1 and after["effect e5"] == 1
    assert out["results"]["2"] == ["success", "sent to a"]
    assert out["results"]["3"] == ["success", "sent to b"]
    assert out["results"]["5"][0] == "success"
