"""Ordering edges between calls that share a resource: the paper's control dependencies.

A tool declares the shared resources its calls read and write (:class:`Effects`, e.g.
``write_file`` writes ``"fs"`` and ``read_file`` reads it). Two calls *conflict* when they
touch a common resource and at least one of them writes it: a read after a write (RAW), a
write after a read (WAR) or a write after a write (WAW). The later one in plan order then
waits until the earlier one has ended, however it ended; reads of one resource overlap
freely. Plain mutual exclusion is a resource that every member writes.

:class:`Hazards` assigns the edges as jobs arrive, in plan order, so they only ever point
to earlier jobs, like ``$N`` dependencies: together they never form a cycle. For each new
job it returns :class:`Edges`:

* ``after``: the direct edges, as a compiler draws them. Per resource, a read follows the
  last write before it; a write follows the last write and every read since that write.
  Every earlier conflicting job is reachable through them, so they are what the task
  events (``waits_for``), the plan's picture and critical-path priority use.
* ``conflicts``: every earlier job the new one conflicts with. The scheduler waits on those
  still unfinished rather than on the direct edges alone, because a job that ends without
  running (skipped, cancelled) may end before the jobs it follows: ordering through it
  would not hold.

::

    hazards = Hazards()
    hazards.add(1, Effects(writes=frozenset({"fs"})))  # Edges(after=(), conflicts=())
    hazards.add(2, Effects(reads=frozenset({"fs"})))   # Edges(after=(1,), conflicts=(1,))
    hazards.add(3, Effects(reads=frozenset({"fs"})))   # after 1 too; 2 and 3 overlap
    hazards.add(4, Effects(writes=frozenset({"fs"})))  # Edges(after=(1, 2, 3), ...)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from llmcompiler_graph.errors import SchedulerError

__all__ = ["EFFECT_KEYS", "Edges", "Effects", "Hazards", "conflict_edges"]

EFFECT_KEYS = ("reads", "writes")
"""The keys of a tool's effects declaration: ``{"reads": [...], "writes": [...]}``."""


@dataclass(frozen=True, slots=True)
class Effects:
    """The shared resources a tool's calls read and write (resources are plain names)."""

    reads: frozenset[str] = frozenset()
    writes: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, spec: object, *, where: str = "effects") -> Effects:
        """Read a declaration ``{"reads": [...], "writes": [...]}`` (either key optional).

        An :class:`Effects` is returned as is. A resource named in both lists is a write.

        Raises:
            SchedulerError: Naming ``where``, for anything else.

        """
        if isinstance(spec, Effects):
            return spec
        example = '{"reads": ["fs"]} or {"writes": ["fs"]}'
        if not isinstance(spec, Mapping):
            raise SchedulerError(f"{where} must be a mapping like {example}, got {spec!r}")
        unknown = sorted(str(k) for k in spec if k not in EFFECT_KEYS)
        if unknown:
            raise SchedulerError(
                f"{where} has unknown key(s) {unknown}: only 'reads' and 'writes', e.g. {example}"
            )
        found: dict[str, frozenset[str]] = {}
        for key in EFFECT_KEYS:
            names = spec.get(key, ())
            if isinstance(names, str) or not isinstance(names, Iterable):
                raise SchedulerError(
                    f"{where}[{key!r}] must be a list of resource names, got {names!r}"
                )
            names = list(names)
            if not all(isinstance(n, str) and n for n in names):
                raise SchedulerError(
                    f"{where}[{key!r}] must hold non-empty resource names, got {names!r}"
                )
            found[key] = frozenset(names)
        return cls(reads=found["reads"] - found["writes"], writes=found["writes"])

    @property
    def resources(self) -> frozenset[str]:
        """Return every resource the calls touch."""
        return self.reads | self.writes

    def conflicts_with(self, other: Effects) -> bool:
        """Tell whether two calls must keep their plan order (a common resource, one writes)."""
        return bool(self.writes & other.resources or other.writes & self.resources)

    def __bool__(self) -> bool:
        """Tell whether the calls touch any resource at all."""
        return bool(self.reads or self.writes)


class Edges(NamedTuple):
    """A job's ordering edges to earlier jobs, each in plan order (see the module's doc)."""

    after: tuple[int, ...]
    conflicts: tuple[int, ...]


_NONE = Edges((), ())


class _Resource:
    """One resource's history so far: every access, the last write, the reads since."""

    __slots__ = ("accesses", "last_write", "reads_since")

    def __init__(self) -> None:
        self.accesses: list[tuple[int, bool]] = []  # (job, writes), in plan order
        self.last_write: int | None = None
        self.reads_since: list[int] = []


class Hazards:
    """Assign ordering edges to jobs as they arrive, in plan order. Not thread-safe."""

    def __init__(self) -> None:
        """Start with no job."""
        self._resources: dict[str, _Resource] = {}
        self._order: dict[int, int] = {}  # job -> its position in plan order

    def add(self, index: int, effects: Effects | None) -> Edges:
        """Add the next job in plan order and return its edges to the jobs before it."""
        self._order[index] = len(self._order)
        if not effects:
            return _NONE
        after: set[int] = set()
        conflicts: set[int] = set()
        for name in sorted(effects.resources):
            resource = self._resources.setdefault(name, _Resource())
            writes = name in effects.writes
            conflicts.update(j for j, w in resource.accesses if writes or w)
            if resource.last_write is not None:
                after.add(resource.last_write)
            if writes:
                after.update(resource.reads_since)
                resource.last_write, resource.reads_since = index, []
            else:
                resource.reads_since.append(index)
            resource.accesses.append((index, writes))
        after.discard(index)
        conflicts.discard(index)
        order = self._order.__getitem__
        return Edges(tuple(sorted(after, key=order)), tuple(sorted(conflicts, key=order)))


def conflict_edges(jobs: Iterable[tuple[int, Effects | None]]) -> dict[int, tuple[int, ...]]:
    """Return each job's direct ordering edges (``Edges.after``), jobs given in plan order."""
    hazards = Hazards()
    return {index: hazards.add(index, effects).after for index, effects in jobs}
