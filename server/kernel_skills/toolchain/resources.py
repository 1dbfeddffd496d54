"""Per-kernel resources: the ``-Xptxas=-v`` report in NVRTC's log, and parameter sizes from the cubin
(``cuobjdump -elf``: EIATTR_KPARAM_INFO entries of each ``.nv.info.<kernel>`` section)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ENTRY = re.compile(r"Compiling entry function '(?P<name>[^']+)' for '(?P<arch>[^']+)'")
_PROPS = re.compile(r"Function properties for (?P<name>\S+)")
_FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
_USED = re.compile(r"Used (\d+) registers")
_BARRIERS = re.compile(r"used (\d+) barriers")
_SMEM = re.compile(r"(\d+) bytes smem")
_CMEM = re.compile(r"(\d+) bytes cmem\[0\]")
_SECTION = re.compile(r"^\.nv\.info\.(?P<name>\S+)\s*$")
_KPARAM = re.compile(
    r"Ordinal\s*:\s*0x(?P<ordinal>[0-9a-f]+)\s+Offset\s*:\s*0x[0-9a-f]+\s+Size\s*:\s*0x(?P<size>[0-9a-f]+)"
)


@dataclass
class PtxasResources:
    registers: int = 0
    spill_stores: int = 0
    spill_loads: int = 0
    stack_bytes: int = 0
    shared_bytes: int = 0
    constant_bytes: int = 0
    barriers: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def parse_ptxas(log: str) -> dict[str, PtxasResources]:
    """Entry functions in the order ptxas compiled them; device functions' reports are skipped."""
    kernels: dict[str, PtxasResources] = {}
    current: PtxasResources | None = None
    props_for: str | None = None
    for line in log.splitlines():
        if match := _ENTRY.search(line):
            current = kernels.setdefault(match.group("name"), PtxasResources())
            continue
        if match := _PROPS.search(line):
            props_for = match.group("name")
            continue
        if (match := _FRAME.search(line)) and props_for in kernels:
            res = kernels[props_for]
            res.stack_bytes, res.spill_stores, res.spill_loads = (int(g) for g in match.groups())
            continue
        if current is not None and (match := _USED.search(line)):
            current.registers = int(match.group(1))
            if barriers := _BARRIERS.search(line):
                current.barriers = int(barriers.group(1))
            if smem := _SMEM.search(line):
                current.shared_bytes = int(smem.group(1))
            if cmem := _CMEM.search(line):
                current.constant_bytes = int(cmem.group(1))
    return kernels


def parse_param_sizes(elf_dump: str) -> dict[str, list[int]]:
    """Kernel name -> parameter sizes in bytes, in parameter order (cuobjdump lists them reversed)."""
    params: dict[str, dict[int, int]] = {}
    current: str | None = None
    for line in elf_dump.splitlines():
        if match := _SECTION.match(line):
            current = match.group("name")
            params.setdefault(current, {})
            continue
        if line.startswith(".") and not line.startswith(".nv.info."):
            current = None
            continue
        if current is not None and (match := _KPARAM.search(line)):
            params[current][int(match.group("ordinal"), 16)] = int(match.group("size"), 16)
    return {name: [sizes[i] for i in sorted(sizes)] for name, sizes in params.items()}
