"""Only here to copy the bundled skills/ and kernels/ into the wheel (kernel_skills/_bundled/).

Everything else about the package is in pyproject.toml. An editable install reads them from the
source checkout instead (see kernel_skills/paths.py).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "result", ".*")


class BuildPyWithBundled(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "kernel_skills" / "_bundled"
        for name in ("skills", "kernels"):
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=IGNORE, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithBundled})
