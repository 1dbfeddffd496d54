"""What a problem module declares, and the one validator every problem goes through.

A problem is one small Python module (trusted: bundled, or from a directory the user names with
``--problems-dir``) with these entries, the same names in every module:

    NAME: str                      # [a-z][a-z0-9_]*
    DESCRIPTION: str
    ABI: list[Pointer | Scalar]    # the kernel's exact C parameter list, in order
    SHAPES: dict[str, list[dict[str, int]]]   # named shape sets; a set named "ragged" is check-only
    TOLERANCE: dict[str, tuple[float, float]] # output dtype -> (atol, rtol)
    make_inputs(sizes, generator, device) -> dict[str, Tensor]   # every input Pointer, seeded
    reference(inputs, sizes) -> dict[str, Tensor]   # every output, computed in float32 or better
    torch_op(inputs, sizes) -> dict[str, Tensor]    # the PyTorch baseline as users run it (timed)
    flops(sizes) -> int
    bytes_moved(sizes) -> int      # fewest bytes: each input read once, each output written once

Optional: ``EMULATOR_SHAPES: list[dict[str, int]]``, the small shapes the CPU emulator checks (it runs
each CUDA thread on the CPU, so full-size shapes would take minutes). They should still reach every
dispatch path of a typical kernel: ragged rows and tails, dims that are and are not multiples of the
vector width, partial last tiles. At most ``EMULATOR_MAX_ELEMENTS`` elements per tensor. Without the
entry, the emulator uses the "ragged" set if it fits, else the smallest shape that fits (``Problem.
emulator_shapes_derived`` says so).

Size variables are the ABI's ``int`` scalars without a fixed value; every shape names exactly
those. Pointer shapes are launch-style expressions over the size variables (``"2 * dim"``).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal

from kernel_skills.bench.expr import Expr, parse_expr
from kernel_skills.errors import RefusedInput

DType = Literal["bf16", "f16", "f32", "i32"]
C_TYPES: dict[str, str] = {"bf16": "__nv_bfloat16", "f16": "__half", "f32": "float", "i32": "int"}
DTYPE_BYTES: dict[str, int] = {"bf16": 2, "f16": 2, "f32": 4, "i32": 4}
CHECK_ONLY_SET = "ragged"
EMULATOR_SET = "emulator"
EMULATOR_MAX_ELEMENTS = 1 << 20  # per tensor: the emulator runs every CUDA thread on the CPU
EMULATOR_MAX_SHAPES = 16
INT32_MAX = 2**31 - 1
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
REQUIRED_ENTRIES = (
    "NAME",
    "DESCRIPTION",
    "ABI",
    "SHAPES",
    "TOLERANCE",
    "make_inputs",
    "reference",
    "torch_op",
    "flops",
    "bytes_moved",
)


@dataclass(frozen=True)
class Pointer:
    """A tensor parameter: ``const T* name`` for inputs, ``T* name`` for outputs."""

    name: str
    dtype: DType
    shape: tuple[str, ...]
    output: bool = False

    @property
    def c_decl(self) -> str:
        const = "" if self.output else "const "
        return f"{const}{C_TYPES[self.dtype]}* {self.name}"


@dataclass(frozen=True)
class Scalar:
    """A by-value parameter. ``int`` without a value is a size variable; others need a value."""

    name: str
    ctype: Literal["int", "float"]
    value: float | int | None = None

    @property
    def c_decl(self) -> str:
        return f"{self.ctype} {self.name}"

    @property
    def is_size(self) -> bool:
        return self.ctype == "int" and self.value is None


@dataclass(frozen=True)
class Problem:
    """A validated problem: the module's entries plus derived facts."""

    name: str
    description: str
    abi: tuple[Pointer | Scalar, ...]
    shapes: dict[str, list[dict[str, int]]]
    tolerance: dict[str, tuple[float, float]]
    make_inputs: Callable[..., dict[str, Any]]
    reference: Callable[..., dict[str, Any]]
    torch_op: Callable[..., dict[str, Any]]
    flops: Callable[[dict[str, int]], int]
    bytes_moved: Callable[[dict[str, int]], int]
    module_path: str | None = None  # file a worker re-imports; None for bundled (imported by name)
    module_name: str = ""
    emulator_shapes: tuple[dict[str, int], ...] = ()
    emulator_shapes_derived: bool = False  # True: the module has no EMULATOR_SHAPES; chosen from SHAPES
    _shape_exprs: dict[str, tuple[Expr, ...]] = field(default_factory=dict, repr=False)

    @property
    def size_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.abi if isinstance(p, Scalar) and p.is_size)

    @property
    def inputs(self) -> tuple[Pointer, ...]:
        return tuple(p for p in self.abi if isinstance(p, Pointer) and not p.output)

    @property
    def outputs(self) -> tuple[Pointer, ...]:
        return tuple(p for p in self.abi if isinstance(p, Pointer) and p.output)

    @property
    def signature(self) -> str:
        return "(" + ", ".join(p.c_decl for p in self.abi) + ")"

    def param_sizes(self) -> list[int]:
        """Bytes per parameter as the cubin's KPARAM_INFO lists them: pointers 8, int/float 4."""
        return [8 if isinstance(p, Pointer) else 4 for p in self.abi]

    def tensor_shape(self, pointer: Pointer, sizes: dict[str, int]) -> tuple[int, ...]:
        return tuple(e.evaluate(sizes) for e in self._shape_exprs[pointer.name])

    def scalar_values(self, sizes: dict[str, int]) -> dict[str, int | float]:
        values: dict[str, int | float] = {}
        for p in self.abi:
            if isinstance(p, Scalar):
                values[p.name] = int(sizes[p.name]) if p.is_size else p.value  # type: ignore[assignment]
        return values

    def shape_list(self, set_names: list[str] | None = None) -> list[tuple[str, dict[str, int]]]:
        """(set name, sizes) for the named sets (all when None); unknown names are refused."""
        names = list(self.shapes) if set_names is None else set_names
        unknown = [n for n in names if n not in self.shapes]
        if unknown:
            raise RefusedInput(
                f"unknown shape set(s) {unknown} for problem {self.name!r}; choose from {sorted(self.shapes)}"
            )
        return [(n, dict(s)) for n in dict.fromkeys(names) for s in self.shapes[n]]

    def emulator_shape_list(self) -> list[tuple[str, dict[str, int]]]:
        """(``EMULATOR_SET``, sizes) for every shape the CPU emulator checks."""
        return [(EMULATOR_SET, dict(s)) for s in self.emulator_shapes]

    def largest_tensor(self, sizes: dict[str, int]) -> int:
        """Elements of the largest pointer tensor at ``sizes``."""
        return max(math.prod(self.tensor_shape(p, sizes)) for p in self.abi if isinstance(p, Pointer))


def _fail(origin: str, why: str) -> RefusedInput:
    return RefusedInput(f"problem module {origin}: {why}")


def _validate_abi(origin: str, abi: object) -> tuple[Pointer | Scalar, ...]:
    if not isinstance(abi, list | tuple) or not abi:
        raise _fail(origin, "ABI must be a non-empty list of Pointer(...) and Scalar(...)")
    seen: set[str] = set()
    for p in abi:
        if not isinstance(p, Pointer | Scalar):
            raise _fail(origin, f"ABI entry {p!r} is not a Pointer or Scalar from kernel_skills.bench.spec")
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$", p.name) or p.name in seen:
            raise _fail(origin, f"ABI parameter name {p.name!r} is not a unique C identifier")
        seen.add(p.name)
        if isinstance(p, Pointer):
            if p.dtype not in C_TYPES:
                raise _fail(origin, f"pointer {p.name!r} has dtype {p.dtype!r}; accepted: {sorted(C_TYPES)}")
            if not isinstance(p.shape, tuple) or not p.shape:
                raise _fail(origin, f"pointer {p.name!r} needs a non-empty shape tuple of expressions")
        else:
            if p.ctype not in ("int", "float"):
                raise _fail(origin, f"scalar {p.name!r} has C type {p.ctype!r}; accepted: int, float")
            if p.ctype == "float" and not isinstance(p.value, int | float):
                raise _fail(origin, f"float scalar {p.name!r} needs a fixed value")
    pointers = [p for p in abi if isinstance(p, Pointer)]
    if not any(p.output for p in pointers):
        raise _fail(origin, "ABI has no output pointer (Pointer(..., output=True))")
    if not any(not p.output for p in pointers):
        raise _fail(origin, "ABI has no input pointer")
    return tuple(abi)


def _validate_shapes(
    origin: str, shapes: object, size_names: tuple[str, ...]
) -> dict[str, list[dict[str, int]]]:
    if not isinstance(shapes, dict) or not shapes:
        raise _fail(origin, "SHAPES must be a non-empty dict of set name -> list of {size: int}")
    want = set(size_names)
    for set_name, entries in shapes.items():
        if not isinstance(set_name, str) or not _NAME_RE.match(set_name):
            raise _fail(origin, f"shape set name {set_name!r} must match [a-z][a-z0-9_]*")
        if not isinstance(entries, list) or not entries:
            raise _fail(origin, f"shape set {set_name!r} must be a non-empty list of dicts")
        for sizes in entries:
            _validate_sizes(origin, f"set {set_name!r}", sizes, want)
    return shapes  # type: ignore[return-value]


def _validate_sizes(origin: str, where: str, sizes: object, want: set[str]) -> None:
    if not isinstance(sizes, dict) or set(sizes) != want:
        got = sorted(sizes) if isinstance(sizes, dict) else sizes
        raise _fail(origin, f"shape {got} in {where} must name exactly the size variables {sorted(want)}")
    for key, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= INT32_MAX:
            raise _fail(origin, f"size {key}={value!r} in {where} must be an int in 1..{INT32_MAX}")


def _emulator_shapes(
    origin: str, problem: Problem, declared: object
) -> tuple[tuple[dict[str, int], ...], bool]:
    """The validated ``EMULATOR_SHAPES``, or (when absent) ones derived from SHAPES; (shapes, derived)."""
    where = "EMULATOR_SHAPES"
    if declared is None:
        fits = [s for _, s in problem.shape_list() if problem.largest_tensor(s) <= EMULATOR_MAX_ELEMENTS]
        ragged = [s for s in problem.shapes.get(CHECK_ONLY_SET, []) if s in fits]
        if ragged:
            return tuple(dict(s) for s in ragged), True
        if fits:
            return (dict(min(fits, key=problem.largest_tensor)),), True
        return (), True
    if not isinstance(declared, list) or not 1 <= len(declared) <= EMULATOR_MAX_SHAPES:
        raise _fail(origin, f"{where} must be a list of 1 to {EMULATOR_MAX_SHAPES} dicts of size -> int")
    for sizes in declared:
        _validate_sizes(origin, where, sizes, set(problem.size_names))
        _check_pointer_dims(origin, problem, sizes)
        if (n := problem.largest_tensor(sizes)) > EMULATOR_MAX_ELEMENTS:
            raise _fail(
                origin,
                f"{where} shape {sizes} has a tensor of {n:,} elements; the emulator accepts at most "
                f"{EMULATOR_MAX_ELEMENTS:,} (it runs every CUDA thread on the CPU: keep these small)",
            )
    return tuple(dict(s) for s in declared), False


def problem_from_module(module: ModuleType, *, origin: str, module_path: str | None = None) -> Problem:
    """Validate a problem module's entries; RefusedInput naming the module and the fault."""
    missing = [name for name in REQUIRED_ENTRIES if not hasattr(module, name)]
    if missing:
        raise _fail(origin, f"missing entries {missing}; every problem defines {list(REQUIRED_ENTRIES)}")
    name = module.NAME
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise _fail(origin, f"NAME {name!r} must match [a-z][a-z0-9_]* (at most 64 characters)")
    if not isinstance(module.DESCRIPTION, str) or not module.DESCRIPTION.strip():
        raise _fail(origin, "DESCRIPTION must be a non-empty string")
    for entry in ("make_inputs", "reference", "torch_op", "flops", "bytes_moved"):
        if not callable(getattr(module, entry)):
            raise _fail(origin, f"{entry} must be a function")
    abi = _validate_abi(origin, module.ABI)
    size_names = tuple(p.name for p in abi if isinstance(p, Scalar) and p.is_size)
    shapes = _validate_shapes(origin, module.SHAPES, size_names)
    shape_exprs: dict[str, tuple[Expr, ...]] = {}
    for p in abi:
        if isinstance(p, Pointer):
            try:
                shape_exprs[p.name] = tuple(parse_expr(e, set(size_names)) for e in p.shape)
            except RefusedInput as exc:
                raise _fail(origin, f"shape of pointer {p.name!r}: {exc}") from exc
    tolerance = module.TOLERANCE
    if not isinstance(tolerance, dict):
        raise _fail(origin, "TOLERANCE must be a dict of dtype -> (atol, rtol)")
    for p in abi:
        if isinstance(p, Pointer) and p.output:
            tol = tolerance.get(p.dtype)
            ok = isinstance(tol, tuple | list) and len(tol) == 2
            if not ok or not all(isinstance(v, int | float) and math.isfinite(v) and v >= 0 for v in tol):
                raise _fail(origin, f"TOLERANCE needs (atol, rtol) >= 0 for output dtype {p.dtype!r}")
    problem = Problem(
        name=name,
        description=module.DESCRIPTION.strip(),
        abi=abi,
        shapes=shapes,
        tolerance={k: (float(v[0]), float(v[1])) for k, v in tolerance.items()},
        make_inputs=module.make_inputs,
        reference=module.reference,
        torch_op=module.torch_op,
        flops=module.flops,
        bytes_moved=module.bytes_moved,
        module_path=module_path,
        module_name=module.__name__,
        _shape_exprs=shape_exprs,
    )
    for _, sizes in problem.shape_list():
        _check_pointer_dims(origin, problem, sizes)
    emulator, derived = _emulator_shapes(origin, problem, getattr(module, "EMULATOR_SHAPES", None))
    return dataclasses.replace(problem, emulator_shapes=emulator, emulator_shapes_derived=derived)


def _check_pointer_dims(origin: str, problem: Problem, sizes: dict[str, int]) -> None:
    for p in problem.abi:
        if isinstance(p, Pointer):
            try:
                dims = problem.tensor_shape(p, sizes)
            except RefusedInput as exc:
                raise _fail(origin, f"shape of pointer {p.name!r} at {sizes}: {exc}") from exc
            if any(d < 1 for d in dims):
                raise _fail(origin, f"pointer {p.name!r} has shape {dims} at {sizes}; every dim must be >= 1")


def abi_bytes(abi: list[Pointer | Scalar], sizes: dict[str, int]) -> int:
    """Bytes of every pointer's tensor once: the usual minimum traffic of a one-pass kernel."""
    total = 0
    for p in abi:
        if isinstance(p, Pointer):
            numel = 1
            for dim in p.shape:
                numel *= parse_expr(dim, set(sizes)).evaluate(sizes)
            total += numel * DTYPE_BYTES[p.dtype]
    return total


def torch_dtype(dtype: str) -> Any:
    import torch

    return {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32, "i32": torch.int32}[dtype]


__all__ = [
    "CHECK_ONLY_SET",
    "EMULATOR_MAX_ELEMENTS",
    "EMULATOR_SET",
    "REQUIRED_ENTRIES",
    "Pointer",
    "Problem",
    "Scalar",
    "abi_bytes",
    "problem_from_module",
    "torch_dtype",
]
