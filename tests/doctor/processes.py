"""Run the real CLI (or Python code) in a child process on a machine with a piece taken away: torch
hidden from every Python process (a ``sitecustomize`` that puts ``None`` in ``sys.modules['torch']``,
so ``import torch`` fails exactly as where it is not installed), or a PATH without g++."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SERVER = Path(__file__).resolve().parents[2] / "server"
HIDE_TORCH = (
    "import sys\n"
    "for name in ('torch', 'torchvision', 'torchaudio'):\n"
    "    sys.modules[name] = None  # import fails with ModuleNotFoundError, as without the package\n"
)


def child_env(tmp: Path, *, hide_torch: bool = False, without_gxx: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(SERVER), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    if hide_torch:
        site = tmp / "hide-torch"
        site.mkdir(exist_ok=True)
        (site / "sitecustomize.py").write_text(HIDE_TORCH, encoding="utf-8")
        paths.insert(0, str(site))
    env["PYTHONPATH"] = os.pathsep.join(paths)
    if without_gxx:
        env["PATH"] = str(_path_without_gxx(tmp))
    return env


def _path_without_gxx(tmp: Path) -> Path:
    """A PATH folder with the tools a run may need (not g++, nor any other C++ compiler)."""
    folder = tmp / "bin-without-gxx"
    folder.mkdir(exist_ok=True)
    for tool in ("sh", "ldconfig", "uname"):
        found = shutil.which(tool)
        if found and not (folder / tool).exists():
            (folder / tool).symlink_to(found)
    return folder


def run_cli(
    tmp: Path, *argv: str, hide_torch: bool = False, without_gxx: bool = False, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    env = child_env(tmp, hide_torch=hide_torch, without_gxx=without_gxx)
    return subprocess.run(
        [sys.executable, "-m", "kernel_skills.cli", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tmp,
        check=False,
    )


def run_python(tmp: Path, code: str, **kw: bool) -> subprocess.CompletedProcess[str]:
    env = child_env(tmp, **kw)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300, check=False
    )
