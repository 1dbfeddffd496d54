"""The confined launcher: ``python -I -S confine_exec.py SPEC_JSON`` confines itself, then execs the target.

Run by ``sandbox.run_confined`` in a fresh session (its own process group). Stdlib only and loaded by
path, so it starts in tens of milliseconds: it loads ``toolchain/landlock.py`` by file path too, without
importing the package. Order: Landlock (reads, writes, exec, network, signals) -> resource limits ->
``execve`` with the given (already scrubbed) environment. Any failure exits with EXIT_CODE and a line
starting with MARKER on stderr, and the target never runs.
"""

import json
import os
import resource
import sys
from importlib.util import module_from_spec, spec_from_file_location

MARKER = "kernel-skills confine:"
EXIT_CODE = 125


def _landlock(path: str):  # type: ignore[no-untyped-def]
    spec = spec_from_file_location("_kernel_skills_landlock", path)
    assert spec is not None and spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    spec = json.loads(sys.argv[1])
    try:
        landlock = _landlock(spec["landlock"])
        own_proc = os.path.realpath("/proc/self")  # /proc/<pid>: the same process after execve
        landlock.confine(
            read=[*spec["read"], own_proc],
            read_write=spec["read_write"],
            execute=spec["execute"],
        )
        for name, value in spec["limits"].items():
            resource.setrlimit(getattr(resource, name), (value, value))
        os.chdir(spec["cwd"])
    except Exception as exc:  # every failure means: do not run the target
        print(f"{MARKER} {type(exc).__name__}: {exc}", file=sys.stderr)
        os._exit(EXIT_CODE)
    argv = spec["argv"]
    try:
        os.execve(argv[0], argv, spec["env"])
    except OSError as exc:
        print(f"{MARKER} cannot run {argv[0]}: {exc}", file=sys.stderr)
        os._exit(EXIT_CODE)


if __name__ == "__main__":
    main()
