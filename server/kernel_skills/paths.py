"""Where things live: bundled skills/kernels (source checkout or installed wheel), cache, data."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR_ENV = "KERNEL_SKILLS_CACHE_DIR"
DATA_DIR_ENV = "KERNEL_SKILLS_DATA_DIR"
_PACKAGE_DIR = Path(__file__).resolve().parent
_REPO_ROOT = _PACKAGE_DIR.parent.parent  # server/kernel_skills -> repo root (source checkout)


def _bundled(name: str) -> Path:
    """A wheel carries copies under kernel_skills/_bundled/; a source checkout has them at the root."""
    installed = _PACKAGE_DIR / "_bundled" / name
    if installed.is_dir():
        return installed
    return _REPO_ROOT / name


def bundled_skills_dir() -> Path:
    return _bundled("skills")


def bundled_kernels_dir() -> Path:
    return _bundled("kernels")


def cache_dir() -> Path:
    """Per-user cache (compile cache). ``KERNEL_SKILLS_CACHE_DIR`` overrides (tests use it)."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("kernel-skills"))


def data_dir() -> Path:
    """Per-user data (benchmark results, device calibration), never the current directory.
    ``KERNEL_SKILLS_DATA_DIR`` (which ``serve --data-dir`` sets) overrides."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("kernel-skills"))
