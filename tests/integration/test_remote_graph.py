"""``RemoteGraph`` against ``langgraph dev``: what the README's RemoteGraph snippet promises.

Offline, like the other integration tests: the built-in scripted model and simulated tools.
"""

from __future__ import annotations

from typing import Any

import pytest
from devserver import DevServer
from langgraph.pregel.remote import RemoteGraph

pytestmark = pytest.mark.integration

QUESTION = {
    "messages": [
        {"role": "user", "content": "Were Scott Derrickson and Ed Wood of the same nationality?"}
    ]
}


def test_remote_graph_invokes_and_streams_three_field_parts(langgraph_dev: DevServer) -> None:
    remote = RemoteGraph("llmcompiler", url=langgraph_dev.url)
    out = remote.invoke(QUESTION)
    assert "American" in str(out["messages"][-1]["content"])  # messages come back as dicts

    parts = list(remote.stream(QUESTION, stream_mode=["custom", "updates"]))
    assert parts and all(len(part) == 3 for part in parts)  # StreamPart(event, data, id)
    assert {part.event for part in parts} == {"custom", "updates"}
    finished: list[dict[str, Any]] = [
        part.data for part in parts if part.event == "custom" and part.data["event"] == "finished"
    ]
    assert finished and all(e["resolved_args"] == e["args"] for e in finished)  # no $N here

    with pytest.raises(ValueError, match="too many values to unpack"):
        for _mode, _data in remote.stream(QUESTION, stream_mode=["custom", "updates"]):  # type: ignore[misc]
            pass

    single = list(remote.stream(QUESTION, stream_mode="custom"))  # one mode: the data alone
    assert single and all(d["type"] == "llmcompiler.task" for d in single)
