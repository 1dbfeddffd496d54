"""A parsed PTX module -> the engine's pre-decoded program for one kernel (``build_program``).

Everything is resolved here, in Python, before the engine sees it: registers become slots in one
per-thread register file (each function its own range: recursion is refused), symbols become
addresses (tables.py's address map), labels become instruction indices, every conditional branch gets
its reconvergence point (the immediate post-dominator of its block), every instruction its source
line (the innermost inlined frame that is in the submission). What cannot be run faithfully is
refused with ``EmulatorUnsupported``-style ``Unsupported`` naming the instruction and its line.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from kernel_skills.emulator.ptx import tables as T
from kernel_skills.emulator.ptx.parse import (
    Addr,
    Function,
    Group,
    Imm,
    Instruction,
    Loc,
    Module,
    Pair,
    Reg,
    Sym,
    Variable,
    Vec,
    type_size,
)
from kernel_skills.toolchain import SUBMISSION_NAME, toolkit_relative

MAGIC = b"PTXVM1\0\0"
MAX_INSTRUCTIONS = 1 << 20
MAX_REG_SLOTS = 1 << 16
SHARED_LIMIT = 227 * 1024
LOCAL_LIMIT = 512 * 1024

_OP_ID = {o: i for i, o in enumerate(T.OPS)}
_TYPE_ID = {t: i for i, t in enumerate(T.TYPES)}
_CMP_ID = {c: i for i, c in enumerate(T.CMPS)}
_RND_ID = {r: i for i, r in enumerate(T.RNDS)}
_SPACE_ID = {s: i for i, s in enumerate(T.SPACES)}
_SUB_ID = {s: i for i, s in enumerate(T.SUBS)}
_FLAG_BIT = {f: 1 << i for i, f in enumerate(T.FLAGS)}
_SREG_ID = {s: i for i, s in enumerate(T.SREGS)}
_KIND = {k: i for i, k in enumerate(T.OPERAND_KINDS)}
_SUB_OPS = {"vote": {"uni"}}  # where "uni" is a sub-operation rather than a flag


class Unsupported(ValueError):
    """The kernel uses what the engine does not run; ``line`` is the submission's line if known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class Decoded:
    op: int
    types: list[int]
    cmp: int = 0
    rnd: int = 0
    space: int = 0
    vec: int = 0
    sub: int = 0
    flags: int = 0
    extra: list[int] = field(default_factory=list)  # numeric modifiers (e.g. cp.async sizes)


@dataclass
class Program:
    """The encoded program (``data``) and what the report needs to name things."""

    data: bytes
    kernel: str
    shared_vars: list[tuple[int, int, str]]  # (offset, size, demangled name)
    static_shared: int
    instructions: int
    reg_slots: int
    params: list[tuple[int, int]]  # the kernel's parameters: (offset, bytes) in order
    module_vars: list[tuple[str, int, int, str]]  # ("__device__" | "__constant__", offset, bytes, name)
    param_bytes: int


def decode_opcode(opcode: str, line: int | None) -> Decoded:
    parts = opcode.split(".")
    base = parts[0]
    for prefix, what in T.TIER_TWO.items():
        if what and (opcode == prefix or opcode.startswith(prefix + ".")):
            raise Unsupported(f"{what} is not run by the CPU emulator yet (instruction {opcode})", line)
    if base not in _OP_ID:
        raise Unsupported(f"the PTX instruction {opcode!r} is not supported by the CPU emulator", line)
    d = Decoded(op=_OP_ID[base], types=[])
    for mod in parts[1:]:
        _modifier(d, base, mod, opcode, line)
    return d


def _modifier(d: Decoded, base: str, mod: str, opcode: str, line: int | None) -> None:
    if mod in T.IGNORED or mod.startswith("L2::") or mod.startswith("L1::"):
        return
    mod = T.ALIASES.get(mod, mod)
    if mod in _SUB_OPS.get(base, ()) or (mod in _SUB_ID and mod != "none" and mod not in _FLAG_BIT):
        if d.sub and not (base == "bar" and mod in ("and", "or", "popc")):
            raise Unsupported(f"{opcode}: two operations ({T.SUBS[d.sub]} and {mod})", line)
        d.sub = _SUB_ID[mod]
    elif mod in _TYPE_ID and mod != "none":
        d.types.append(_TYPE_ID[mod])
    elif mod in _CMP_ID and mod != "none" and (base in ("setp", "set") or mod not in _FLAG_BIT):
        # .hi/.lo are comparisons only on setp/set: on mul/mad they pick the product's half
        d.cmp = _CMP_ID[mod]
    elif mod in _RND_ID and mod != "none":
        d.rnd = _RND_ID[mod]
    elif mod in _SPACE_ID and mod != "generic":
        d.space = _SPACE_ID[mod]
    elif mod in ("v2", "v4", "v8"):
        d.vec = int(mod[1:])
    elif mod in _FLAG_BIT:
        d.flags |= _FLAG_BIT[mod]
    elif mod.isdigit():
        d.extra.append(int(mod))
    elif mod in ("shared::cluster", "cluster"):
        raise Unsupported(f"{opcode}: clusters are not run by the CPU emulator yet", line)
    else:
        raise Unsupported(f"{opcode}: the modifier .{mod} is not supported by the CPU emulator", line)


class _Lines:
    """Each `.loc` -> the submission's line: the innermost frame whose file is the submission."""

    def __init__(self, files: dict[int, str], inlined: dict | None = None) -> None:
        self.files = files
        self.submission = {i for i, f in files.items() if f.rsplit("/", 1)[-1] == SUBMISSION_NAME}
        self.seen: dict[tuple[int, int, int], tuple[int, int, int] | None] = dict(inlined or {})

    def resolve(self, loc: Loc | None) -> tuple[int, int]:
        """(the submission's line, or 0 when no frame is in it; the innermost frame's file index)."""
        if loc is None:
            return 0, 0
        key = (loc.file, loc.line, loc.col)
        self.seen[key] = loc.inlined_at
        frame: tuple[int, int, int] | None = key
        for _ in range(64):
            if frame is None:
                break
            if frame[0] in self.submission:
                return frame[1], loc.file
            frame = self.seen.get(frame)
        return 0, loc.file


def demangle_variable(name: str) -> str:
    """`_ZZ...E7scratch` -> `scratch`; other names unchanged (a readable name for a report)."""
    if not name.startswith("_Z"):
        return name
    for split in range(len(name) - 1, 0, -1):
        j = split
        while j > 0 and name[j - 1].isdigit():
            j -= 1
        if j < split and int(name[j:split]) == len(name) - split:
            return name[split:]
    return name


@dataclass
class _Layout:
    """Where each symbol lives, and each function's register slots."""

    symbols: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (space, address)
    shared: list[tuple[int, int, str]] = field(default_factory=list)
    shared_size: int = 0
    local_size: int = 0
    thread_param_size: int = 0
    kernel_param_size: int = 0
    memories: list[tuple[int, str, bytes, bool]] = field(default_factory=list)  # region, name, data, ro
    module_vars: list[tuple[str, int, int, str]] = field(default_factory=list)  # kind, offset, size, name
    slots: dict[tuple[str, int, str], int] = field(default_factory=dict)  # (fn, scope, reg) -> slot
    reg_types: list[str] = field(default_factory=list)
    thread_params: dict[tuple[str, int, str], int] = field(default_factory=dict)


def _align(value: int, align: int) -> int:
    return (value + align - 1) // max(align, 1) * max(align, 1)


def build_program(module: Module, kernel: str) -> Program:
    if kernel not in module.functions or not module.functions[kernel].entry:
        entries = sorted(n for n, f in module.functions.items() if f.entry)
        raise Unsupported(f"no kernel named {kernel!r} in the PTX (kernels: {entries})")
    functions = _reachable(module, kernel)
    layout = _lay_out(module, functions)
    lines = _Lines(module.files, module.inlined)
    enc = _Encoder(module, layout, lines, functions)
    return enc.encode(kernel)


def _reachable(module: Module, kernel: str) -> list[Function]:
    order = [kernel]
    edges: dict[str, set[str]] = {}
    k = 0
    while k < len(order):
        fn = module.functions[order[k]]
        callees: set[str] = set()
        for item in fn.body:
            if isinstance(item, Instruction) and item.opcode.split(".")[0] == "call":
                callee = next((o for o in item.operands if isinstance(o, Sym)), None)
                if callee is None:
                    raise Unsupported("an indirect call (through a register) is not supported", None)
                callees.add(callee.name)
        edges[fn.name] = callees
        for c in sorted(callees):
            if c not in module.functions:
                raise Unsupported(f"call of {c!r}, which the PTX does not declare")
            if c not in order and not module.functions[c].declared_only:
                order.append(c)
        k += 1
    _refuse_recursion(edges, kernel)
    return [module.functions[n] for n in order]


def _refuse_recursion(edges: dict[str, set[str]], root: str) -> None:
    state: dict[str, int] = {}

    def visit(n: str) -> None:
        state[n] = 1
        for m in edges.get(n, ()):
            if state.get(m) == 1:
                raise Unsupported(f"recursion ({n} calls {m}) is not supported by the CPU emulator")
            if m not in state:
                visit(m)
        state[n] = 2

    visit(root)


def _lay_out(module: Module, functions: list[Function]) -> _Layout:
    """Place every symbol the kernel reaches; ``functions[0]`` is the kernel."""
    lay = _Layout()
    _lay_out_module_variables(lay, module)
    _lay_out_function_variables(lay, functions)
    _lay_out_kernel_params(lay, functions[0])
    _lay_out_thread_slots(lay, functions)
    return lay


def _lay_out_module_variables(lay: _Layout, module: Module) -> None:
    """Every module-level __device__ variable in one region, every __constant__ one in another; module
    shared variables first in shared memory."""
    regions = {
        "global": (T.MODULE_GLOBALS_REGION, "__device__ variables"),
        "const": (T.MODULE_CONSTS_REGION, "__constant__ variables"),
    }
    data = {"global": bytearray(), "const": bytearray()}
    for var in module.variables:
        if var.space in ("global", "const"):
            region, _ = regions[var.space]
            blob = data[var.space]
            blob += bytes(_align(len(blob), max(var.align, 1)) - len(blob))
            lay.symbols[var.name] = ("global", T.region_base(region) + len(blob))
            label = "__device__" if var.space == "global" else "__constant__"
            lay.module_vars.append((label, len(blob), var.size, demangle_variable(var.name)))
            blob += var.init or bytes(var.size)
            if len(blob) > 64 << 20:
                raise Unsupported("more than 64 MB of module-level variables")
        elif var.space == "shared":
            _place_shared(lay, var)
    for space, (region, name) in regions.items():
        if data[space]:
            lay.memories.append((region, name, bytes(data[space]), space == "const"))


def _lay_out_function_variables(lay: _Layout, functions: list[Function]) -> None:
    """The functions' shared and local variables, refused past the H100's shared and local limits."""
    for fn in functions:
        for var in fn.locals:
            if var.space == "shared":
                _place_shared(lay, var)
            else:
                lay.local_size = _align(lay.local_size, var.align)
                lay.symbols[var.name] = ("local", lay.local_size)
                lay.local_size += var.size
    if lay.shared_size > SHARED_LIMIT:
        raise Unsupported(
            f"the kernel declares {lay.shared_size} bytes of static shared memory (H100: 227 KB)"
        )
    if lay.local_size > LOCAL_LIMIT:
        raise Unsupported(
            f"the kernel needs {lay.local_size} bytes of local memory per thread (H100: 512 KB)"
        )


def _lay_out_kernel_params(lay: _Layout, entry: Function) -> None:
    """The kernel's parameters, in order, in the param space."""
    offset = 0
    for p in entry.params:
        offset = _align(offset, p.align)
        lay.symbols[p.name] = ("param", offset)
        offset += p.size
    lay.kernel_param_size = offset


def _lay_out_thread_slots(lay: _Layout, functions: list[Function]) -> None:
    """Each thread's storage: the functions' params, returns and call params, and a slot per register."""
    toff = 0
    for fn in functions:
        for var in [*fn.params, *fn.returns]:
            toff = _align(toff, max(var.align, 8))
            lay.thread_params[(fn.name, -1, var.name)] = toff
            toff += var.size
        for (scope, name), var in fn.call_params.items():
            toff = _align(toff, max(var.align, 8))
            lay.thread_params[(fn.name, scope, name)] = toff
            toff += var.size
        for (scope, name), rtype in fn.regs.items():
            lay.slots[(fn.name, scope, name)] = len(lay.reg_types)
            lay.reg_types.append(rtype)
    lay.thread_param_size = toff
    if len(lay.reg_types) > MAX_REG_SLOTS:
        raise Unsupported(f"{len(lay.reg_types)} PTX registers: more than the emulator's {MAX_REG_SLOTS}")


def _place_shared(lay: _Layout, var: Variable) -> None:
    if var.extern:
        lay.symbols[var.name] = ("shared", -1)  # dynamic shared memory: after the static part
        return
    lay.shared_size = _align(lay.shared_size, max(var.align, 1))
    lay.symbols[var.name] = ("shared", lay.shared_size)
    lay.shared.append((lay.shared_size, var.size, demangle_variable(var.name)))
    lay.shared_size += var.size


class _Encoder:
    def __init__(self, module: Module, lay: _Layout, lines: _Lines, functions: list[Function]) -> None:
        self.module, self.lay, self.lines, self.functions = module, lay, lines, functions
        self.insns: list[bytes] = []
        self.operands: list[bytes] = []
        self.fn_entry: dict[str, int] = {}
        self.callees: dict[int, str] = {}  # call record -> the function whose entry it needs
        self.calls: list[bytes] = []
        self.dyn_shared_base = _align(lay.shared_size, 16)

    # ---------------------------------------------------------------- functions
    def encode(self, kernel: str) -> Program:
        for fn in self.functions:
            self._function(fn)
        if len(self.insns) > MAX_INSTRUCTIONS:
            raise Unsupported(
                f"{len(self.insns)} PTX instructions: more than the emulator's {MAX_INSTRUCTIONS}"
            )
        return Program(
            data=self._pack(kernel),
            kernel=kernel,
            shared_vars=self.lay.shared,
            static_shared=self.lay.shared_size,
            instructions=len(self.insns),
            reg_slots=len(self.lay.reg_types),
            params=[(self.lay.symbols[p.name][1], p.size) for p in self.module.functions[kernel].params],
            param_bytes=self.lay.kernel_param_size,
            module_vars=self.lay.module_vars,
        )

    def _function(self, fn: Function) -> None:
        start = len(self.insns)
        self.fn_entry[fn.name] = start
        labels: dict[str, int] = {}
        records: list[tuple[Instruction, int]] = []
        for item in fn.body:
            if isinstance(item, str):
                labels[item] = start + len(records)
                continue
            records.append((item, start + len(records)))
            self.insns.append(b"")  # placeholder
        if not records or records[-1][0].opcode.split(".")[0] not in ("ret", "exit", "bra", "trap"):
            # a function may fall off its end: make that a return
            records.append((Instruction("ret", [], None, False, None, fn.ptx_line, 0), start + len(records)))
            self.insns.append(b"")
        reconv = _reconvergence(records, labels, start)
        for insn, index in records:
            self.insns[index] = self._instruction(fn, insn, index, labels, reconv.get(index, -1))

    # ---------------------------------------------------------------- one instruction
    def _instruction(
        self, fn: Function, insn: Instruction, index: int, labels: dict[str, int], reconv: int
    ) -> bytes:
        line, file = self.lines.resolve(insn.loc)
        where = line or None
        d = decode_opcode(insn.opcode, where)
        base = insn.opcode.split(".")[0]
        target = aux = aux2 = -1
        operands = insn.operands
        if base == "bra":
            if len(operands) != 1 or not isinstance(operands[0], Sym) or operands[0].name not in labels:
                raise Unsupported(f"{insn.opcode} to an unknown label (PTX line {insn.ptx_line})", where)
            target = labels[operands[0].name]
            operands = []
        elif base == "call":
            operands, aux, aux2 = self._call(fn, insn, where)
        guard = -1
        if insn.guard is not None:
            guard = self._slot(fn, insn.scope, insn.guard, insn, where)
        op_begin = len(self.operands)
        for o in operands:
            self._operand(fn, insn, o, d, where)
        n_ops = len(self.operands) - op_begin
        extra = d.extra[0] if d.extra else 0
        types = ([*d.types, 0, 0, 0, 0])[:4]
        if len(d.types) > 4:
            raise Unsupported(f"{insn.opcode}: too many types", where)
        return struct.pack(
            "<HBBBBBBBBBBBxiQIiiiiiii",
            d.op, *types, d.cmp, d.rnd, d.space, d.vec, d.sub, 1 if insn.guard_neg else 0, min(n_ops, 255),
            guard, d.flags, op_begin, line, file, target, reconv, aux, aux2, extra,
        )  # fmt: skip

    def _call(self, fn: Function, insn: Instruction, where: int | None) -> tuple[list[object], int, int]:
        """A call's record: callee entry (or -1 vprintf, -2 __assertfail), the parameter copies
        (source, destination, bytes) into the callee's parameters, then the return value's copy."""
        groups = [o for o in insn.operands if isinstance(o, Group)]
        callee_sym = next(o for o in insn.operands if isinstance(o, Sym))
        has_ret = bool(insn.operands) and isinstance(insn.operands[0], Group) and len(groups) > 1
        rets = groups[0].items if has_ret else ()
        args = groups[-1].items if groups and (len(groups) > 1 or not has_ret) else ()
        callee = self.module.functions[callee_sym.name]
        call_index = len(self.calls)
        copies: list[tuple[int, int, int]] = []
        ret_copy = (0, 0, 0)
        if callee.declared_only:
            builtin = {"vprintf": -1, "__assertfail": -2}.get(callee.name)
            if builtin is None:
                raise Unsupported(f"call of the external function {callee.name!r} is not supported", where)
            copies = [(self._param_address(fn, insn.scope, a, where), 0, 8) for a in args]
            if rets:
                ret_copy = (0, self._param_address(fn, insn.scope, rets[0], where), 4)
            entry = builtin
        else:
            if len(args) != len(callee.params) or len(rets) > len(callee.returns):
                raise Unsupported(f"call of {callee.name} with the wrong number of parameters", where)
            for a, p in zip(args, callee.params, strict=True):
                dst = self.lay.thread_params[(callee.name, -1, p.name)]
                copies.append((self._param_address(fn, insn.scope, a, where), dst, p.size))
            if rets:
                r = callee.returns[0]
                src = self.lay.thread_params[(callee.name, -1, r.name)]
                ret_copy = (src, self._param_address(fn, insn.scope, rets[0], where), r.size)
            self.callees[call_index] = callee.name
            entry = 0
        blob = struct.pack("<ii", entry, len(copies))
        blob += b"".join(struct.pack("<iii", *c) for c in copies) + struct.pack("<iii", *ret_copy)
        self.calls.append(blob)
        return [], call_index, 0

    def _param_address(self, fn: Function, scope: int, o: object, where: int | None) -> int:
        if not isinstance(o, Sym):
            raise Unsupported("a call parameter that is not a .param variable", where)
        s = scope
        while s != -1:
            if (fn.name, s, o.name) in self.lay.thread_params:
                return self.lay.thread_params[(fn.name, s, o.name)]
            s = fn.scopes.get(s, -1)
        if (fn.name, -1, o.name) in self.lay.thread_params:
            return self.lay.thread_params[(fn.name, -1, o.name)]
        raise Unsupported(f"unknown call parameter {o.name!r}", where)

    def _find_slot(self, fn: Function, scope: int, name: str) -> int | None:
        s = scope
        while s != -1:
            slot = self.lay.slots.get((fn.name, s, name))
            if slot is not None:
                return slot
            s = fn.scopes.get(s, -1)
        return None

    def _slot(self, fn: Function, scope: int, name: str, insn: Instruction, where: int | None) -> int:
        slot = self._find_slot(fn, scope, name)
        if slot is not None:
            return slot
        raise Unsupported(f"{insn.opcode}: undeclared register {name} (PTX line {insn.ptx_line})", where)

    def _put(self, kind: str, n: int = 0, reg: int = -1, imm: int = 0) -> None:
        self.operands.append(struct.pack("<BBxxiq", _KIND[kind], n, reg, _wrap64(imm)))

    def _operand(self, fn: Function, insn: Instruction, o: object, d: Decoded, where: int | None) -> None:
        if isinstance(o, Reg):
            if o.name in _SREG_ID:
                self._put("SREG", reg=_SREG_ID[o.name])
            else:
                self._put("REG", reg=self._slot(fn, insn.scope, o.name, insn, where))
        elif isinstance(o, Imm):
            self._put("IMM", n=o.width if o.is_float else 0, imm=o.value)
        elif isinstance(o, Sym) and (slot := self._find_slot(fn, insn.scope, o.name)) is not None:
            self._put("REG", reg=slot)  # a register declared without the % sigil (inline asm)
        elif isinstance(o, Sym):
            if o.name == "_":
                self._put("SINK")
            elif o.name == "WARP_SZ":
                self._put("IMM", imm=32)
            else:
                self._put("IMM", imm=self._symbol(fn, insn, o.name, where))
        elif isinstance(o, Addr):
            base = -1
            offset = o.offset
            if isinstance(o.base, Reg):
                base = self._slot(fn, insn.scope, o.base.name, insn, where)
            elif (
                isinstance(o.base, Sym) and (slot := self._find_slot(fn, insn.scope, o.base.name)) is not None
            ):
                base = slot
            elif isinstance(o.base, Sym):
                offset += self._symbol(fn, insn, o.base.name, where)
            self._put("ADDR", reg=base, imm=offset)
        elif isinstance(o, Vec):
            self._put("VEC", n=len(o.items))
            for item in o.items:
                self._operand(fn, insn, item, d, where)
        elif isinstance(o, Pair):
            if isinstance(o.first, Sym) and o.first.name == "!":  # !%p: a negated predicate operand
                assert isinstance(o.second, Reg)
                self._put("REG", n=1, reg=self._slot(fn, insn.scope, o.second.name, insn, where))
                return
            self._put("PAIR", n=2)
            self._operand(fn, insn, o.first, d, where)
            self._operand(fn, insn, o.second, d, where)
        else:
            raise Unsupported(f"{insn.opcode}: an operand the emulator cannot read ({o!r})", where)

    def _symbol(self, fn: Function, insn: Instruction, name: str, where: int | None) -> int:
        found = self.lay.symbols.get(name)
        if found is not None:
            space, address = found
            if space == "shared" and address < 0:
                return self.dyn_shared_base
            return address
        s = insn.scope
        while s != -1:
            if (fn.name, s, name) in self.lay.thread_params:
                return T.PARAM_THREAD_BASE + self.lay.thread_params[(fn.name, s, name)]
            s = fn.scopes.get(s, -1)
        if (fn.name, -1, name) in self.lay.thread_params:
            return T.PARAM_THREAD_BASE + self.lay.thread_params[(fn.name, -1, name)]
        raise Unsupported(f"{insn.opcode}: unknown symbol {name!r} (PTX line {insn.ptx_line})", where)

    # ---------------------------------------------------------------- the file
    def _pack(self, kernel: str) -> bytes:
        lay = self.lay
        calls = []
        for i, blob in enumerate(self.calls):
            callee = self.callees.get(i)
            entry = self.fn_entry[callee] if callee is not None else struct.unpack_from("<i", blob)[0]
            calls.append(struct.pack("<i", entry) + blob[4:])
        files = [f"{i}\0{_client_file(name)}".encode() for i, name in sorted(self.module.files.items())]
        shared = [
            struct.pack("<II", off, size) + name.encode()[:200] + b"\0" for off, size, name in lay.shared
        ]
        memories = [
            struct.pack("<IBI", region, 1 if ro else 0, len(data)) + name.encode()[:200] + b"\0" + data
            for region, name, data, ro in lay.memories
        ]
        reg_widths = bytes(type_size(t) if t != "pred" else 1 for t in lay.reg_types)
        head = struct.pack(
            "<8sIIIIIIIIIII",
            MAGIC, self.fn_entry[kernel], len(self.insns), len(self.operands), len(lay.reg_types),
            lay.shared_size, self.dyn_shared_base, lay.local_size, lay.kernel_param_size,
            lay.thread_param_size, len(calls), len(memories),
        )  # fmt: skip
        sections = [
            head,
            b"".join(self.insns),
            b"".join(self.operands),
            reg_widths,
            b"".join(struct.pack("<I", len(c)) + c for c in calls),
            b"".join(memories),
            struct.pack("<I", len(shared)) + b"".join(shared),
            struct.pack("<I", len(files)) + b"".join(struct.pack("<I", len(f)) + f for f in files),
        ]
        return b"".join(sections)


def _client_file(path: str) -> str:
    """A file name fit for a client: the submission's plain name, a toolkit header by the name it is
    included by (never a server path)."""
    name = path.rsplit("/", 1)[-1]
    return name if name == SUBMISSION_NAME else toolkit_relative(path)


def _wrap64(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def _reconvergence(
    records: list[tuple[Instruction, int]], labels: dict[str, int], start: int
) -> dict[int, int]:
    """For each conditional branch: the index of its immediate post-dominator's first instruction
    (-1: the threads meet again only at the exit)."""
    n = len(records)
    if n == 0:
        return {}
    leaders = {0}
    for k, (insn, _) in enumerate(records):
        base = insn.opcode.split(".")[0]
        if base in ("bra", "ret", "exit", "trap") and k + 1 < n:
            leaders.add(k + 1)
    for idx in labels.values():
        if start <= idx < start + n:
            leaders.add(idx - start)
    order = sorted(leaders)
    block_of = {}
    for b, first in enumerate(order):
        last = order[b + 1] if b + 1 < len(order) else n
        for k in range(first, last):
            block_of[k] = b
    nb = len(order)
    exit_node = nb
    succ: list[set[int]] = [set() for _ in range(nb)]
    for b in range(len(order)):
        last = (order[b + 1] if b + 1 < len(order) else n) - 1
        insn = records[last][0]
        base = insn.opcode.split(".")[0]
        guarded = insn.guard is not None
        if base == "bra":
            target = labels.get(insn.operands[0].name, start) - start if insn.operands else 0  # type: ignore[union-attr]
            succ[b].add(block_of.get(target, exit_node))
            if guarded:
                succ[b].add(block_of.get(last + 1, exit_node))
        elif base in ("ret", "exit", "trap"):
            succ[b].add(exit_node)
            if guarded:
                succ[b].add(block_of.get(last + 1, exit_node))
        else:
            succ[b].add(block_of.get(last + 1, exit_node))
    pdom = _post_dominators(succ, nb)
    result: dict[int, int] = {}
    for b in range(len(order)):
        last = (order[b + 1] if b + 1 < len(order) else n) - 1
        insn = records[last][0]
        if insn.opcode.split(".")[0] == "bra" and insn.guard is not None:
            ip = pdom[b]
            result[start + last] = -1 if ip == exit_node or ip is None else start + order[ip]
    return result


def _post_dominators(succ: list[set[int]], nb: int) -> list[int | None]:
    """Immediate post-dominator of each block (``nb`` is the virtual exit), by the iterative
    bit-set algorithm over the reversed graph."""
    full = (1 << (nb + 1)) - 1
    pd = [full] * nb + [1 << nb]
    changed = True
    rounds = 0
    while changed:
        changed = False
        rounds += 1
        for b in range(nb - 1, -1, -1):
            inter = full
            for s in succ[b]:
                inter &= pd[s]
            if not succ[b]:
                inter = 0
            new = inter | (1 << b)
            if new != pd[b]:
                pd[b] = new
                changed = True
    ipdom: list[int | None] = []
    for b in range(nb):
        strict = pd[b] & ~(1 << b)
        # the immediate post-dominator: the strict post-dominator that all others post-dominate
        best = None
        cands = [c for c in range(nb + 1) if strict >> c & 1]
        for c in cands:
            if all((pd[c] >> o & 1) for o in cands):
                best = c
                break
        ipdom.append(best)
    return ipdom
