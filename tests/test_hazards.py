"""Ordering edges between calls that share a resource (fetching/hazards.py), alone."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcompiler_graph.errors import SchedulerError
from llmcompiler_graph.fetching.hazards import Edges, Effects, Hazards, conflict_edges

READ = Effects(reads=frozenset({"fs"}))
WRITE = Effects(writes=frozenset({"fs"}))


def test_reads_follow_the_last_write_and_overlap_each_other() -> None:
    hazards = Hazards()
    assert hazards.add(1, WRITE) == Edges((), ())
    assert hazards.add(2, READ) == Edges((1,), (1,))
    assert hazards.add(3, READ) == Edges((1,), (1,))  # not after 2: reads overlap
    assert hazards.add(4, None) == Edges((), ())  # touches nothing
    assert hazards.add(5, WRITE) == Edges((1, 2, 3), (1, 2, 3))  # WAW and WAR
    assert hazards.add(6, READ) == Edges((5,), (1, 5))  # 1 is reached through 5


def test_the_issue_plan_write_read_delete_keeps_its_order() -> None:
    delete = Effects(writes=frozenset({"fs"}))
    assert conflict_edges([(1, WRITE), (2, READ), (3, delete)]) == {1: (), 2: (1,), 3: (1, 2)}


def test_mutual_exclusion_is_a_resource_every_member_writes() -> None:
    lock = Effects(writes=frozenset({"printer"}))
    other = Effects(writes=frozenset({"fs"}))
    assert conflict_edges([(1, lock), (2, other), (3, lock), (4, lock)]) == {
        1: (),
        2: (),
        3: (1,),
        4: (3,),
    }


def test_edges_follow_plan_order_not_index_order() -> None:
    # A replan's tasks or a tool-call plan may be numbered in any order: arrival is the order.
    hazards = Hazards()
    hazards.add(7, WRITE)
    hazards.add(3, READ)
    assert hazards.add(5, WRITE) == Edges((7, 3), (7, 3))


def test_several_resources() -> None:
    copy = Effects(reads=frozenset({"a"}), writes=frozenset({"b"}))
    assert conflict_edges(
        [
            (1, Effects(writes=frozenset({"a"}))),
            (2, Effects(writes=frozenset({"b"}))),
            (3, copy),
            (4, Effects(reads=frozenset({"a", "b"}))),
        ]
    ) == {1: (), 2: (), 3: (1, 2), 4: (1, 3)}


def test_parse_reads_a_declaration_and_says_what_is_wrong() -> None:
    assert Effects.parse({"writes": ["fs"], "reads": ["fs", "db"]}) == Effects(
        reads=frozenset({"db"}), writes=frozenset({"fs"})
    )
    assert Effects.parse({}) == Effects() and not Effects()
    assert Effects.parse(WRITE) is WRITE
    with pytest.raises(
        SchedulerError, match=r"tool_effects\['f'\] has unknown key\(s\) \['read'\]"
    ):
        Effects.parse({"read": ["fs"]}, where="tool_effects['f']")
    with pytest.raises(SchedulerError, match=r"effects\['writes'\] must be a list"):
        Effects.parse({"writes": "fs"})
    with pytest.raises(SchedulerError, match="non-empty resource names"):
        Effects.parse({"reads": [""]})
    with pytest.raises(SchedulerError, match="must be a mapping"):
        Effects.parse(["fs"])


RESOURCES = ("a", "b", "c")
effects_strategy = (
    st.builds(
        lambda r, w: Effects(reads=frozenset(r) - frozenset(w), writes=frozenset(w)),
        st.sets(st.sampled_from(RESOURCES), max_size=2),
        st.sets(st.sampled_from(RESOURCES), max_size=2),
    )
    | st.none()
)


@settings(max_examples=300, deadline=None)
@given(st.lists(effects_strategy, max_size=14))
def test_direct_edges_reach_every_conflict_and_only_conflicts_are_listed(
    plan: list[Effects | None],
) -> None:
    hazards = Hazards()
    edges = {i: hazards.add(i, e) for i, e in enumerate(plan)}
    reach: dict[int, set[int]] = {}
    for i, e in enumerate(plan):
        expected = tuple(
            j for j in range(i) if e and (other := plan[j]) and e.conflicts_with(other)
        )
        assert edges[i].conflicts == expected
        assert set(edges[i].after) <= set(expected)  # a direct edge is a conflict
        reach[i] = set(edges[i].after).union(*(reach[j] for j in edges[i].after))
        assert set(expected) <= reach[i]  # every conflict is ordered through the edges
