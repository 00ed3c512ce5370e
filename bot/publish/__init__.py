"""Publishing the fact base to every replica: verified snapshots stored in the database.

`briefbot publish` verifies `seeds/` and stores it as one immutable, versioned snapshot
(`store`); replicas with `BRIEFBOT_FACTBASE=database` load the newest at start and follow new
ones (`follow`); the snapshot's payload rebuilds the verified objects without re-verifying a
quote (`payload`).
"""

from __future__ import annotations
