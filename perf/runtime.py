"""The ``Runtime`` a ``make bench`` run uses, as one server process would: nothing starts until a figure
needs it, and its workers are stopped when the run's process exits (a perf run is one short process)."""

from __future__ import annotations

import atexit

from kernel_skills.runtime import Runtime

RUNTIME = Runtime.create()
atexit.register(RUNTIME.close)

__all__ = ["RUNTIME"]
