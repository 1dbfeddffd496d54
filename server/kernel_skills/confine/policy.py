"""The confinement policy: which walls there are, what a missing one means, and the one opt-out.

A child process we start on untrusted input is confined, and when it cannot be it refuses to run
(fail closed). The only way around that is the operator's explicit opt-out for trusted local use,
``KERNEL_SKILLS_UNCONFINED=1`` (the CLI's ``--unconfined``; never the default), read by ``opted_out()``
and nowhere else. It covers both children:

- the compile worker (``reads.py``: a mount namespace, then Landlock on its reads) then runs NVRTC
  unconfined, and every compile result says so;
- a launched child (``child.run_confined``, the emulator's engine) stays confined wherever Landlock
  is available; where it is not, the opt-out lets it run unconfined instead of refusing.

The names this variable replaced (``RETIRED_ENVS``) are no longer read, which fails closed (confined);
``retired_settings()`` says so where the user looks (``kernel-skills doctor``, the server's start-up log).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from kernel_skills.confine import landlock
from kernel_skills.errors import DeviceUnavailable

UNCONFINED_ENV = "KERNEL_SKILLS_UNCONFINED"
COMPILE_RETIRED_ENV = "KERNEL_SKILLS_UNCONFINED_COMPILE"
EMULATOR_RETIRED_ENV = "KERNEL_SKILLS_UNCONFINED_EMULATOR"
RETIRED_ENVS = (COMPILE_RETIRED_ENV, EMULATOR_RETIRED_ENV)
WITHOUT_ENV = "KERNEL_SKILLS_SANDBOX_WITHOUT"  # tests: "landlock", "namespace" or both, comma-separated


def opted_out() -> bool:
    """Whether the operator opted out of confinement (``KERNEL_SKILLS_UNCONFINED=1``)."""
    return os.environ.get(UNCONFINED_ENV) == "1"


def retired_settings(names: tuple[str, ...] = RETIRED_ENVS) -> list[str]:
    """One sentence for each retired opt-out variable among ``names`` that is still set."""
    return [f"{name} is no longer read; set {UNCONFINED_ENV}=1" for name in names if os.environ.get(name)]


def skipped_walls() -> set[str]:
    """The walls a test switched off with ``KERNEL_SKILLS_SANDBOX_WITHOUT``."""
    return set(filter(None, os.environ.get(WITHOUT_ENV, "").split(",")))


def landlock_available() -> bool:
    """Whether children can be confined by Linux Landlock here."""
    return sys.platform == "linux" and landlock.abi_version() >= 1


def require_child_confinement() -> str:
    """A short description of the confinement a launched child gets (``child.run_confined``);
    DeviceUnavailable when there is none and the operator did not opt out."""
    if landlock_available():
        abi = landlock.abi_version()
        net = "TCP denied" if abi >= 4 else "network left to the runner's seccomp filter"
        return f"Landlock ABI {abi} (files: own work folder only; {net}), rlimits, own process group"
    if opted_out():
        return f"UNCONFINED ({UNCONFINED_ENV}=1: trusted local use only)"
    raise DeviceUnavailable(
        "the CPU emulator runs each submission's PTX in an engine process that Linux Landlock must confine "
        "(kernel 5.13 or later with the landlock LSM enabled, e.g. lsm=...,landlock on the kernel command "
        "line); it is "
        f"not available here, so nothing was run. For trusted local use only, set {UNCONFINED_ENV}=1"
    )


def weaker_than_default() -> str | None:
    """Why the compile worker's reads will be less confined than the default, judged without starting
    it (cheap probes); None when nothing points that way. Each compile result reports the truth."""
    if opted_out():
        return f"{UNCONFINED_ENV}=1 (--unconfined): NVRTC runs unconfined and may read any host file"
    missing = []
    skipped = skipped_walls()
    if "landlock" in skipped or landlock.abi_version() < 1:
        missing.append("Landlock")
    if "namespace" in skipped or not user_namespaces_allowed():
        missing.append("unprivileged user namespaces")
    if not missing:
        return None
    if len(missing) == 2:
        return "neither Landlock nor unprivileged user namespaces are available: compiles will be refused"
    return f"{missing[0]} is not available: compiles are confined by the other wall only"


def user_namespaces_allowed() -> bool:
    for path, refused in (
        ("/proc/sys/user/max_user_namespaces", "0"),
        ("/proc/sys/kernel/unprivileged_userns_clone", "0"),
        ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1"),
    ):
        try:
            if Path(path).read_text().strip() == refused:
                return False
        except OSError:
            continue
    return True
