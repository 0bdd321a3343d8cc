"""Keeping the machine steady while a benchmark measures.

Holds :func:`cpus_kept_awake` (a daemon thread that keeps the CPUs out of deep idle during a
session) and :func:`heap_settled` (collect, then freeze the heap out of the garbage collector
before measured runs).
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Iterator

__all__ = ["KEEP_AWAKE_INTERVAL_S", "cpus_kept_awake", "heap_settled"]

KEEP_AWAKE_INTERVAL_S = 0.0005


@contextlib.contextmanager
def cpus_kept_awake(enabled: bool = True) -> Iterator[None]:
    """Keep the machine's CPUs out of deep idle while the block runs (benchmarks only).

    On the small VMs the benchmarks are recorded on, a vCPU that halts while every thread
    sleeps takes milliseconds to wake, and every approach pays that at each hand-off between
    threads (measured on 29 November 2026: a 3.5 s diamond plan 1.027 of its ideal with idle
    vCPUs, 1.004 with this on; ReAct 1.009 and 1.006). Benchmark tools turn deep idle states
    off for the same reason (pyperf's ``system tune``); this is the user-space stand-in: one
    daemon thread that sleeps 0.5 ms at a time until the block ends. It waits for no work
    and touches no state. ``--no-keep-awake`` turns it off.
    """
    if not enabled:
        yield
        return
    stop = threading.Event()

    def tick() -> None:
        while not stop.is_set():
            time.sleep(KEEP_AWAKE_INTERVAL_S)

    thread = threading.Thread(target=tick, name="bench-keep-awake", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def heap_settled() -> None:
    """Collect, then freeze what survives out of the garbage collector (before a measured run).

    A benchmark process keeps every earlier run's results, so its heap grows run after run;
    an old-generation collection walks all of it and, landing inside a run, stalls that run
    for tens of milliseconds (seen on 29 November 2026: one dispatch of 80 ms in a wide-16
    run). Freezing (``gc.freeze``) leaves those objects out of later collections; the run's
    own garbage is collected as usual. ``timeit`` goes further and turns collection off.
    Call ``gc.unfreeze()`` when the benchmark ends.
    """
    gc.collect()
    gc.freeze()
