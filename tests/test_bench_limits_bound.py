"""The lower bound under limits, by hand on small DAGs, and against replayed list schedules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.ideal import IdealRound, IdealTask, llmcompiler_schedule
from benchmarks.limits.bound import Limits, limited_bound, round_bound, tails
from benchmarks.limits.replay import list_schedule


def _search(index: int, ready: float = 0.0, duration: float = 1.0) -> IdealTask:
    return IdealTask(index, ready, duration, (), "search")


def _math(index: int, deps: tuple[int, ...] = (), duration: float = 1.0) -> IdealTask:
    return IdealTask(index, 0.0, duration, deps, "math")


def test_tails_are_the_longest_chain_behind_each_task() -> None:
    tasks = [_search(1), _math(2, (1,), 2.0), _math(3, (2,), 0.5), _math(4, (1,), 0.1)]
    assert tails(tasks) == {1: 2.5, 2: 0.5, 3: 0.0, 4: 0.0}


def test_tool_capacity_binds_four_searches_two_at_once() -> None:
    # 4 x 1 s of search on 2 slots: 2 s; then the joiner's 0.5 s.
    round_ = IdealRound(0.5, tuple(_search(i) for i in range(1, 5)), 0.5)
    assert round_bound(round_, Limits(tool_limits={"search": 2})) == pytest.approx(
        (2.5, "search limit")
    )
    assert round_bound(round_, Limits()) == pytest.approx((1.5, "critical path"))
    assert list_schedule([round_], Limits(tool_limits={"search": 2})).makespan == pytest.approx(2.5)


def test_release_times_raise_the_capacity_bound() -> None:
    # Work released at 0 (2 s) and at 3 (2 s) on one slot: the later release binds, 3 + 2 = 5...
    tasks = (_search(1, 0.0, 2.0), _search(2, 0.0, 2.0), _search(3, 3.0, 2.0))
    round_ = IdealRound(0.0, tasks, 0.0)
    # ...but all 6 s released at 0 bind harder: 0 + 6 / 1.
    assert round_bound(round_, Limits(tool_limits={"search": 1}))[0] == pytest.approx(6.0)
    late = IdealRound(0.0, (_search(1, 0.0, 1.0), _search(2, 5.0, 1.0)), 0.0)
    assert round_bound(late, Limits(tool_limits={"search": 1}))[0] == pytest.approx(6.0)


def test_the_tail_after_the_capacity_counts() -> None:
    # Two searches on one slot, each feeding a 2 s math step: 0 + 2 / 1 + 2 = 4 (CP is only 3).
    tasks = (_search(1), _search(2), _math(3, (1,), 2.0), _math(4, (2,), 2.0))
    round_ = IdealRound(0.0, tasks, 0.0)
    limits = Limits(tool_limits={"search": 1})
    assert round_bound(round_, limits) == pytest.approx((4.0, "search limit"))
    assert list_schedule([round_], limits).makespan == pytest.approx(4.0)


def test_global_limit_and_the_plan_stream() -> None:
    # Three 1 s calls, two at once: work / capacity says 1.5 s, but some slot runs two: 2 s.
    round_ = IdealRound(0.2, tuple(_math(i) for i in range(1, 4)), 0.0)
    assert round_bound(round_, Limits(max_concurrency=2)) == pytest.approx(
        (2.0, "all tools at once (best split)")
    )
    assert list_schedule([round_], Limits(max_concurrency=2)).makespan == pytest.approx(2.0)
    slow_plan = IdealRound(5.0, (_math(1),), 1.0)
    assert round_bound(slow_plan, Limits(max_concurrency=1)) == pytest.approx((6.0, "plan stream"))


def test_the_best_split_catches_uneven_durations() -> None:
    # 1.5 + 1.5 + 1.0 s on 2 slots: work / 2 = 2.0, but the best split is {1.5, 1.0} | {1.5}.
    tasks = (_search(1, 0.0, 1.5), _search(2, 0.0, 1.5), _search(3, 0.0, 1.0))
    round_ = IdealRound(0.0, tasks, 0.0)
    assert round_bound(round_, Limits(tool_limits={"search": 2})) == pytest.approx(
        (2.5, "search limit (best split)")
    )
    # Too many ways to split: only work / capacity is used.
    wide = IdealRound(0.0, tuple(_search(i, 0.0, 1.0 + i / 100) for i in range(1, 15)), 0.0)
    assert round_bound(wide, Limits(tool_limits={"search": 2}))[1] == "search limit"


def test_a_fused_tool_has_no_capacity_term() -> None:
    round_ = IdealRound(0.0, tuple(_search(i) for i in range(1, 5)), 0.0)
    limits = Limits(tool_limits={"search": 1})
    assert round_bound(round_, limits, fused={"search"})[0] == pytest.approx(1.0)
    fused = list_schedule([round_], limits, fused={"search"}, batch_extra_s=0.1)
    assert fused.calls == {"search": 1}  # all four ready at once: one batched call
    assert fused.makespan == pytest.approx(1.3)
    assert list_schedule([round_], limits).calls == {"search": 4}


def test_fused_calls_share_the_free_slots_evenly() -> None:
    round_ = IdealRound(0.0, tuple(_search(i) for i in range(1, 8)), 0.0)
    limits = Limits(tool_limits={"search": 2})
    fused = list_schedule([round_], limits, fused={"search"}, batch_extra_s=0.1)
    assert fused.calls == {"search": 2}  # 7 ready, room 2: batches of 4 and 3
    assert fused.tasks[1] == fused.tasks[4] == pytest.approx((0.0, 1.3))
    assert fused.tasks[5] == fused.tasks[7] == pytest.approx((0.0, 1.2))


def test_fusion_batches_only_the_calls_that_wait() -> None:
    # Lines stream 0.1 s apart; the first call starts alone, the next three wait and fuse.
    round_ = IdealRound(0.5, tuple(_search(i, 0.1 * i) for i in range(1, 5)), 0.0)
    fused = list_schedule([round_], Limits(tool_limits={"search": 1}), fused={"search"})
    assert fused.calls == {"search": 2}
    assert fused.tasks[1] == pytest.approx((0.1, 1.1))
    assert fused.tasks[2] == fused.tasks[4] == pytest.approx((1.1, 2.1))


def test_whole_plan_fusion_waits_for_the_plan_then_makes_one_call() -> None:
    # Lines stream 0.1 s apart and the plan ends at 0.5 s: one batch of four from there.
    round_ = IdealRound(0.5, tuple(_search(i, 0.1 * i) for i in range(1, 5)), 0.0)
    limits = Limits(tool_limits={"search": 2})
    fused = list_schedule([round_], limits, fused={"search"}, batch_extra_s=0.1, whole_plan=True)
    assert fused.calls == {"search": 1}
    assert fused.tasks[1] == fused.tasks[4] == pytest.approx((0.5, 1.8))
    assert limited_bound([round_], limits, {"search"}).makespan <= fused.makespan


def test_critical_path_priority_beats_fifo_by_hand() -> None:
    # Two slots; 3 feeds a math step. FIFO runs 1 and 2 first (3, then 4, later: 3 s);
    # critical-path priority runs 3 first (2 s).
    tasks = (_search(1), _search(2), _search(3), _math(4, (3,)))
    round_ = IdealRound(0.0, tasks, 0.0)
    limits = Limits(max_concurrency=2)
    fifo = list_schedule([round_], limits, priority="fifo")
    critical = list_schedule([round_], limits, priority="critical_path")
    assert fifo.makespan == pytest.approx(3.0)
    assert critical.makespan == pytest.approx(2.0)
    assert critical.tasks[3] == pytest.approx((0.0, 1.0))
    assert limited_bound([round_], limits).makespan == pytest.approx(2.0)


def test_a_tool_at_its_limit_never_blocks_another_tool() -> None:
    tasks = (_search(1), _search(2), _math(3))
    schedule = list_schedule([IdealRound(0.0, tasks, 0.0)], Limits(tool_limits={"search": 1}))
    assert schedule.tasks[3] == pytest.approx((0.0, 1.0))
    assert schedule.tasks[2] == pytest.approx((1.0, 2.0))


def test_rounds_follow_one_another() -> None:
    first = IdealRound(1.0, (_search(1, 0.5),), 0.5)  # 0.5 + 1 = 1.5; joiner to 2.0
    second = IdealRound(1.0, (_search(2, 0.5), _search(3, 0.5)), 0.5)  # 2 s of search on 1 slot
    bound = limited_bound([first, second], Limits(tool_limits={"search": 1}))
    assert bound.makespan == pytest.approx(2.0 + 0.5 + 2.0 + 0.5)
    assert bound.binding == ("critical path", "search limit")


@st.composite
def _rounds(draw: st.DrawFn) -> list[IdealRound]:
    rounds, index = [], 1
    for _ in range(draw(st.integers(1, 2))):
        tasks = []
        for _ in range(draw(st.integers(1, 8))):
            inside = [t.index for t in tasks]
            deps = (
                draw(st.lists(st.sampled_from(inside), max_size=2, unique=True)) if inside else ()
            )
            ready = max([draw(st.floats(0, 2)), *(t.ready for t in tasks)])  # lines in order
            tool = draw(st.sampled_from(["search", "math", "db"]))
            tasks.append(IdealTask(index, ready, draw(st.floats(0.01, 2)), tuple(deps), tool))
            index += 1
        rounds.append(IdealRound(max(t.ready for t in tasks) + 0.1, tuple(tasks), 0.3))
    return rounds


@settings(max_examples=150, deadline=None)
@given(
    rounds=_rounds(),
    total=st.one_of(st.none(), st.integers(1, 4)),
    search=st.integers(1, 3),
    db=st.integers(1, 2),
)
def test_the_bound_never_exceeds_a_replayed_schedule(
    rounds: list[IdealRound], total: int | None, search: int, db: int
) -> None:
    limits = Limits(total, {"search": search, "db": db})
    bound = limited_bound(rounds, limits).makespan
    for priority in ("fifo", "critical_path"):
        replay = list_schedule(rounds, limits, priority=priority)  # type: ignore[arg-type]
        assert bound <= replay.makespan + 1e-9
    fused_bound = limited_bound(rounds, limits, fused={"search"}).makespan
    fused = list_schedule(rounds, limits, fused={"search"})
    assert fused_bound <= fused.makespan + 1e-9
    assert fused.calls.get("search", 0) <= sum(t.tool == "search" for r in rounds for t in r.tasks)
    # Without limits the bound is the unlimited ideal, and a replay reaches it.
    unlimited = llmcompiler_schedule(rounds).makespan
    assert limited_bound(rounds, Limits()).makespan == pytest.approx(unlimited)
    assert list_schedule(rounds, Limits()).makespan == pytest.approx(unlimited)
