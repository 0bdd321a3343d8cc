"""``langgraph dockerfile`` turns our ``langgraph.json`` into a LangGraph Platform image."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from devserver import REPO, langgraph_cli, offline_env

pytestmark = pytest.mark.integration


def test_dockerfile_is_generated_from_our_config(tmp_path: Path) -> None:
    # Generated inside a copy of the config so the repository is left untouched; the
    # Dockerfile must sit next to langgraph.json, whose directory is the build context.
    shutil.copy(REPO / "langgraph.json", tmp_path / "langgraph.json")
    done = subprocess.run(
        [langgraph_cli(), "dockerfile", "-c", "langgraph.json", "Dockerfile"],
        cwd=tmp_path,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    dockerfile = (tmp_path / "Dockerfile").read_text()
    config = json.loads((REPO / "langgraph.json").read_text())
    assert dockerfile.startswith(f"FROM langchain/langgraph-api:{config['python_version']}")
    assert "ADD . /deps/" in dockerfile  # our package, installed from the build context
    graphs = next(line for line in dockerfile.splitlines() if "LANGSERVE_GRAPHS" in line)
    assert json.loads(graphs.split("=", 1)[1].strip("'")) == {
        "llmcompiler": "llmcompiler_graph.server:make_graph"
    }
    assert config["graphs"] == {"llmcompiler": "llmcompiler_graph.server:make_graph"}
