"""Confining a child process we start: one room, one job, one opt-out. No MCP imports; it imports
neither ``toolchain`` nor ``emulator`` (both use it), only the utilities.

- ``policy``: the walls' availability probes, what is required and what a missing wall means, and the
  one opt-out ``KERNEL_SKILLS_UNCONFINED=1`` (``--unconfined``; trusted local use only) read by
  ``opted_out()``; the retired per-child variables are reported, never read;
- ``reads``: a process confining its own reads (the compile worker): ``enter_namespace`` while it is
  single-threaded, ``confine_reads`` once it is warm; over ``namespace`` (a user + mount namespace whose
  root holds only the allowed folders) and ``landlock`` (the kernel's read allow-list);
- ``child``: ``run_confined`` starts a program (the emulator's engine) through the confined
  ``launcher`` (``launcher.cpp``, built once with g++: Landlock on reads, writes, execution, TCP,
  signals; rlimits; an allow-listed environment) in its own process group with a wall-clock timeout.

The engine's own seccomp filter stays with the engine (``emulator/engine/``).
"""

from __future__ import annotations

from kernel_skills import lazy

_EXPORTS = {
    "UNCONFINED_ENV": "kernel_skills.confine.policy",
    "RETIRED_ENVS": "kernel_skills.confine.policy",
    "COMPILE_RETIRED_ENV": "kernel_skills.confine.policy",
    "EMULATOR_RETIRED_ENV": "kernel_skills.confine.policy",
    "WITHOUT_ENV": "kernel_skills.confine.policy",
    "opted_out": "kernel_skills.confine.policy",
    "retired_settings": "kernel_skills.confine.policy",
    "landlock_available": "kernel_skills.confine.policy",
    "require_child_confinement": "kernel_skills.confine.policy",
    "weaker_than_default": "kernel_skills.confine.policy",
    "UNCONFINED_REPORT": "kernel_skills.confine.reads",
    "enter_namespace": "kernel_skills.confine.reads",
    "confine_reads": "kernel_skills.confine.reads",
    "ConfinedResult": "kernel_skills.confine.child",
    "MAX_FILE_MB": "kernel_skills.confine.child",
    "MAX_OPEN_FILES": "kernel_skills.confine.child",
    "MAX_PROCESSES": "kernel_skills.confine.child",
    "run_confined": "kernel_skills.confine.child",
    "scrubbed_env": "kernel_skills.confine.child",
    "build_launcher": "kernel_skills.confine.launcher",
    "launcher_path": "kernel_skills.confine.launcher",
    "library_paths": "kernel_skills.confine.launcher",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy.exports(__name__, _EXPORTS)
