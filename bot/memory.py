"""Building large structures quickly: the cyclic garbage collector paused while they are made."""

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
