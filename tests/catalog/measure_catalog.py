"""Quick catalog timing (not a test): `python tests/catalog/measure_catalog.py [--skills N]`.

Builds N skills (SKILL.md with metadata + a reference file + a script each) in a temp dir and
times: full catalog build, full rescan, one-skill incremental reload, read_file and get.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from kernel_skills.catalog import Catalog, SkillRoot


def _make(root: Path, count: int) -> None:
    for i in range(count):
        folder = root / f"skill-{i:04d}"
        (folder / "references").mkdir(parents=True)
        (folder / "SKILL.md").write_text(
            f"---\nname: skill-{i:04d}\n"
            f"description: Skill {i} helps with topic {i}; use it when asked about it.\n"
            "license: Apache-2.0\nmetadata:\n  author: bench\n  version: '1.0'\n---\n"
            + f"# Skill {i}\n\n"
            + "A line of instructions for the agent.\n" * 80
        )
        (folder / "references" / "guide.md").write_text("Reference material.\n" * 200)
        (folder / "run.py").write_text("print('hello')\n")


def _ms(samples: list[float]) -> str:
    median = statistics.median(samples) * 1000
    return f"median {median:8.2f} ms  (min {min(samples) * 1000:.2f}, n={len(samples)})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skills", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _make(root, args.skills)
        roots = [SkillRoot(path=root)]
        Catalog(roots)  # warm the page cache
        build, rescan, one, reads, gets = [], [], [], [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            catalog = Catalog(roots)
            build.append(time.perf_counter() - started)
        for _ in range(args.repeat):
            started = time.perf_counter()
            catalog.reload(None)
            rescan.append(time.perf_counter() - started)
        target = root / "skill-0007" / "references" / "guide.md"
        for n in range(args.repeat):
            target.write_text(f"Edited {n}.\n")
            started = time.perf_counter()
            catalog.reload({target})
            one.append(time.perf_counter() - started)
        names = [s.name for s in catalog.skills()]
        for _ in range(args.repeat):
            started = time.perf_counter()
            for name in names:
                catalog.read_file(name, "references/guide.md")
            reads.append((time.perf_counter() - started) / len(names))
            started = time.perf_counter()
            for name in names:
                catalog.get(name)
            gets.append((time.perf_counter() - started) / len(names))
        print(f"catalog of {len(names)} skills, {sum(len(s.files) for s in catalog.skills())} files")
        print(f"  build (Catalog(roots))      {_ms(build)}")
        print(f"  full rescan (reload(None))  {_ms(rescan)}")
        print(f"  reload one changed file     {_ms(one)}")
        print(f"  read_file, per call         {_ms(reads)}")
        print(f"  get, per call               {_ms(gets)}")


if __name__ == "__main__":
    main()
