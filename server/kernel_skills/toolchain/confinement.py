"""The compile worker's confinement settings, shared by its parent and child, and a start-up outlook.

The worker always confines itself (``namespace.py`` then ``landlock.py``) and refuses to serve when it
cannot, unless the operator opts out explicitly for trusted local use (``--unconfined-compile``, i.e.
``KERNEL_SKILLS_UNCONFINED_COMPILE=1``).
"""

from __future__ import annotations

import os
from pathlib import Path

CONFINE, UNCONFINED = "confine", "unconfined"  # the worker's MODE argument
COMPILE_UNCONFINED_ENV = "KERNEL_SKILLS_UNCONFINED_COMPILE"
WITHOUT_ENV = "KERNEL_SKILLS_SANDBOX_WITHOUT"  # tests: "landlock", "namespace" or both, comma-separated
DEFAULT_METHOD = "namespace+landlock"


def compile_unconfined() -> bool:
    return os.environ.get(COMPILE_UNCONFINED_ENV) == "1"


def weaker_than_default() -> str | None:
    """Why compiles will be less confined than the default, judged without starting the worker
    (cheap probes); None when nothing points that way. Each compile result reports the truth."""
    if compile_unconfined():
        flag = f"{COMPILE_UNCONFINED_ENV}=1 (--unconfined-compile)"
        return f"{flag}: NVRTC runs unconfined and may read any host file"
    from kernel_skills.toolchain import landlock

    missing = []
    skipped = set(filter(None, os.environ.get(WITHOUT_ENV, "").split(",")))
    if "landlock" in skipped or landlock.abi_version() < 1:
        missing.append("Landlock")
    if "namespace" in skipped or not _user_namespaces_allowed():
        missing.append("unprivileged user namespaces")
    if not missing:
        return None
    if len(missing) == 2:
        return "neither Landlock nor unprivileged user namespaces are available: compiles will be refused"
    return f"{missing[0]} is not available: compiles are confined by the other wall only"


def _user_namespaces_allowed() -> bool:
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
