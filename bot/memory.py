"""Building large structures quickly: the cyclic garbage collector out of the way while they are
made (a fact base, the program's own modules)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large fact base is built (loaded, decoded
    from a snapshot or unpickled from the cache).

    Building allocates millions of small objects that all survive, so the collector would run
    again and again over a growing heap for nothing (about half of the time of loading 50,000
    facts). Nothing built here forms reference cycles; the collector is resumed afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def start_up() -> Iterator[None]:
    """A program's start-up (importing its modules) with the collector paused; afterwards
    everything that exists is moved to the permanent generation (`gc.freeze`).

    Importing creates tens of thousands of objects that live as long as the process (modules,
    classes, functions, the dataclasses' generated methods) and almost no garbage, so
    collecting during it is wasted work: about a tenth of `briefbot brief`'s start-up here
    (`bench/cli_startup.py`). Frozen, they are never scanned again, which also keeps the
    long-running server's full collections to the objects it makes while serving (Python's
    documentation suggests the same for servers). The few hundred objects in import-time
    cycles that a collection would have freed stay.
    """
    with gc_paused():
        try:
            yield
        finally:
            gc.freeze()
