"""Disassemble a cubin (``nvdisasm`` from the nvidia-cuda-nvdisasm wheel) and summarise it: instruction
counts by class and the features an H100 kernel author cares about, per kernel and overall."""

from __future__ import annotations

import re
from collections import Counter

from kernel_skills.toolchain.models import SassKernel, SassSummary

_SECTION = re.compile(r"^\s*\.section\s+\.text\.(?P<name>[^,\s]+)")
_LABEL = re.compile(r"^(?P<label>\.L_x_\d+):")
_TARGET = re.compile(r"`\((?P<label>\.L_x_\d+)\)")
_INSTRUCTION = re.compile(r"^\s*/\*[0-9a-f]+\*/\s+(?:@!?U?P[T0-9]+\s+)?(?P<opcode>[A-Z][A-Z0-9_.]*)")

# Feature names are a contract (the skill's reading-reports.md explains each).
SASS_FEATURES = (
    "wgmma",
    "tma",
    "cp.async",
    "ldg.128",
    "ldg.64",
    "stg.128",
    "local-memory",
    "shfl",
    "tensor-core",
    "ldmatrix",
    "mbarrier",
    "atomics",
    "fp64",
)
_FP64_BASES = {"DADD", "DMUL", "DFMA", "DSETP", "DMNMX", "DSET", "DMMA"}
_CLASS_BY_BASE = {
    **dict.fromkeys(("LDG",), "global_load"),
    **dict.fromkeys(("STG", "RED", "ATOMG", "ATOM"), "global_store_atomic"),
    **dict.fromkeys(("LDS", "STS", "LDSM", "STSM", "ATOMS"), "shared"),
    **dict.fromkeys(("LDL", "STL"), "local"),
    **dict.fromkeys(("LDC", "ULDC"), "constant"),
    **dict.fromkeys(("HMMA", "IMMA", "DMMA", "HGMMA", "QGMMA", "IGMMA", "BGMMA"), "tensor"),
    **dict.fromkeys(
        ("LDGSTS", "LDGDEPBAR", "DEPBAR", "UTMALDG", "UTMASTG", "UBLKCP", "UTMAPF", "UBLKPF", "UTMACCTL"),
        "async_copy",
    ),
    **dict.fromkeys(
        ("FADD", "FMUL", "FFMA", "FMNMX", "FSET", "FSETP", "FSEL", "FCHK", "FRND", "MUFU"), "fp32"
    ),
    **dict.fromkeys(("HADD2", "HMUL2", "HFMA2", "HMNMX2", "HSET2", "HSETP2"), "fp16_bf16"),
    **dict.fromkeys(tuple(_FP64_BASES - {"DMMA"}), "fp64"),
    **dict.fromkeys(("F2F", "F2I", "I2F", "F2FP", "I2FP", "FRND"), "conversion"),
    **dict.fromkeys(("SHFL", "VOTE", "VOTEU", "REDUX", "MATCH"), "warp"),
    **dict.fromkeys(("BAR", "MEMBAR", "SYNCS", "WARPGROUP", "WARPSYNC", "ERRBAR", "FENCE", "CCTL"), "sync"),
    **dict.fromkeys(
        ("BRA", "BRX", "EXIT", "CALL", "RET", "BSSY", "BSYNC", "JMP", "YIELD", "NOP", "BPT"), "control"
    ),
}


def summarise(disassembly: str, kernels: list[str]) -> SassSummary:
    """``disassembly`` is ``nvdisasm -c -ndf`` output; subroutines count toward their kernel's section."""
    per_kernel: dict[str, Counter[str]] = {}
    streams: dict[str, list[tuple[str, str]]] = {}  # section -> ("label", name) / (opcode, branch target)
    current: Counter[str] | None = None
    stream: list[tuple[str, str]] = []
    for line in disassembly.splitlines():
        if match := _SECTION.match(line):
            current = per_kernel.setdefault(match.group("name"), Counter())
            stream = streams.setdefault(match.group("name"), [])
            continue
        if current is None:
            continue
        if match := _LABEL.match(line):
            stream.append(("label", match.group("label")))
        elif match := _INSTRUCTION.match(line):
            current[match.group("opcode")] += 1
            target = _TARGET.search(line)
            stream.append((match.group("opcode"), target.group("label") if target else ""))
    reports = [
        _kernel_summary(name, per_kernel.get(name, Counter()), _loop_global_loads(streams.get(name, [])))
        for name in kernels
    ]
    total: Counter[str] = Counter()
    for opcodes in per_kernel.values():
        total.update(opcodes)
    overall = _kernel_summary("*", total)
    return SassSummary(
        instructions=overall.instructions,
        counts=overall.counts,
        features=overall.features,
        per_kernel=reports,
    )


def _loop_global_loads(stream: list[tuple[str, str]]) -> int:
    """Global loads inside loops: between a label and a later branch back to it."""
    seen: dict[str, int] = {}
    inside: set[int] = set()
    for index, (kind, value) in enumerate(stream):
        if kind == "label":
            seen[value] = index
        elif kind.startswith("BRA") and value in seen:
            inside.update(range(seen[value], index))
    return sum(1 for index in inside if stream[index][0].split(".", 1)[0] == "LDG")


def _kernel_summary(name: str, opcodes: Counter[str], loop_loads: int = 0) -> SassKernel:
    counts: Counter[str] = Counter()
    features: set[str] = set()
    for opcode, count in opcodes.items():
        base = opcode.split(".", 1)[0]
        counts[_classify(opcode, base)] += count
        features |= _features(opcode, base)
    return SassKernel(
        name=name,
        instructions=sum(opcodes.values()),
        loop_global_loads=loop_loads,
        counts=dict(sorted(counts.items())),
        features=[feature for feature in SASS_FEATURES if feature in features],
    )


def _classify(opcode: str, base: str) -> str:
    if _is_fp64(opcode, base):
        return "fp64"
    if base in _CLASS_BY_BASE:
        return _CLASS_BY_BASE[base]
    if base.startswith("U"):
        return "uniform"
    if base.startswith(("I", "LOP", "SHF", "LEA", "POPC", "FLO", "BREV", "SGXT", "BMSK", "PRMT")):
        return "int"
    if base in {"MOV", "S2R", "S2UR", "CS2R", "SEL", "R2UR", "P2R", "R2P", "PLOP3"}:
        return "move"
    return "other"


def _is_fp64(opcode: str, base: str) -> bool:
    return base in (_FP64_BASES - {"DMMA"}) or ".F64" in opcode or "64H" in opcode


def _features(opcode: str, base: str) -> set[str]:
    found: set[str] = set()
    suffixes = set(opcode.split(".")[1:])
    if base.endswith("GMMA"):
        found |= {"wgmma", "tensor-core"}
    if base in {"HMMA", "IMMA", "DMMA"}:
        found.add("tensor-core")
    if base in {"UTMALDG", "UTMASTG", "UBLKCP", "UTMAREDG", "UBLKRED"}:
        found.add("tma")
    if base == "LDGSTS":
        found.add("cp.async")
    if base == "LDG" and suffixes & {"128", "256"}:
        found.add("ldg.128")
    if base == "LDG" and "64" in suffixes:
        found.add("ldg.64")
    if base == "STG" and suffixes & {"128", "256"}:
        found.add("stg.128")
    if base in {"LDL", "STL"}:
        found.add("local-memory")
    if base == "SHFL":
        found.add("shfl")
    if base == "LDSM":
        found.add("ldmatrix")
    if base == "SYNCS":
        found.add("mbarrier")
    if base in {"ATOMG", "ATOM", "RED", "ATOMS", "REDUX"}:
        found.add("atomics")
    if _is_fp64(opcode, base):
        found.add("fp64")
    return found
