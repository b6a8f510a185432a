"""Imported once per run by the forkserver every step process of that run forks from.

It imports the code location and opens (and closes) the Dagster instance once, so the
instance's storage modules (SQLAlchemy, Alembic, the SQLite or Postgres storages) are
already imported in each forked step process instead of being imported again by every
step: with them, a step process starts in a fraction of a second instead of seconds.
Nothing stays open across the fork: the instance is disposed of before any step forks.

Last, what it imported is frozen out of the garbage collector's reach: a collection in a
step would otherwise write to every object's header, copying the forkserver's shared pages
into each step process (~25 MB a step at the peak of a 50,000-listing day).
"""

import contextlib
import gc
import os

import dagster as dg

import phoenix_assets.definitions  # noqa: F401  (the preload itself)

if os.environ.get("DAGSTER_HOME"):
    # Only a warm-up: a step opens the instance itself and reports any problem there.
    with contextlib.suppress(Exception), dg.DagsterInstance.get():
        pass

gc.collect()
gc.freeze()
