"""What a problem module declares, and the one validator every problem goes through.

A problem is one small Python module (trusted code run in the server's process: bundled, or from a
directory the user names with ``--problems-dir``; what its functions return is checked, see
``bench.authored``). docs/problems.md is the guide, with a complete example. Required entries:

    NAME: str                      # [a-z][a-z0-9_]*
    ABI: list[Pointer | Scalar]    # the kernel's exact C parameter list, in order
    SHAPES: dict[str, list[dict[str, int]]]   # named shape sets; a set named "ragged" is check-only
    make_inputs(sizes, generator, device) -> dict[str, Tensor]   # every per-call input Pointer, seeded
    reference(inputs, sizes) -> dict[str, Tensor]   # every output, computed in float32 or better

Optional, with their defaults:

    DESCRIPTION: str = the module docstring's first line, else ""
    TOLERANCE: dict[str, tuple[float, float]] = DEFAULT_TOLERANCE   # output dtype -> (atol, rtol)
    make_params(sizes, generator) -> dict[str, Tensor]  # every Pointer(param=True): weights, biases;
                                   # built on the CPU once per shape and seed, then moved to the device
    torch_op(inputs, sizes) -> dict[str, Tensor] = reference   # the PyTorch baseline (timed)
    flops(sizes) -> int = 0
    bytes_moved(sizes) -> int = abi_bytes(ABI, sizes)   # each pointer's tensor read or written once
    EMULATOR_SHAPES: list[dict[str, int]]

``inputs`` given to ``reference`` and ``torch_op`` hold the parameters too. ``EMULATOR_SHAPES`` are
the small shapes the CPU emulator checks (it runs each CUDA thread on the CPU, so full-size shapes
would take minutes). They should still reach every dispatch path of a typical kernel: ragged rows and
tails, dims that are and are not multiples of the vector width, partial last tiles. At most
``EMULATOR_MAX_ELEMENTS`` elements per tensor. Without the entry, the emulator uses the "ragged" set
if it fits, else the smallest shape that fits (``Problem.emulator_shapes_derived`` says so).

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
from kernel_skills.errors import ProblemError, RefusedInput

DType = Literal["bf16", "f16", "f32", "f64", "i8", "u8", "i32", "i64", "bool"]
# The C type of each dtype in the kernel's signature (NVRTC has no <cstdint> without includes).
C_TYPES: dict[str, str] = {
    "bf16": "__nv_bfloat16",
    "f16": "__half",
    "f32": "float",
    "f64": "double",
    "i8": "signed char",
    "u8": "unsigned char",
    "i32": "int",
    "i64": "long long",
    "bool": "bool",
}
DTYPE_BYTES: dict[str, int] = {
    "bf16": 2,
    "f16": 2,
    "f32": 4,
    "f64": 8,
    "i8": 1,
    "u8": 1,
    "i32": 4,
    "i64": 8,
    "bool": 1,
}
FLOAT_DTYPES = frozenset({"bf16", "f16", "f32", "f64"})
# (atol, rtol) per output dtype when the module has no TOLERANCE entry for it: integers are exact.
DEFAULT_TOLERANCE: dict[str, tuple[float, float]] = {
    "bf16": (2e-2, 2e-2),
    "f16": (2e-3, 2e-3),
    "f32": (1e-4, 1e-4),
    "f64": (1e-8, 1e-8),
    **{dtype: (0.0, 0.0) for dtype in ("i8", "u8", "i32", "i64", "bool")},
}
CHECK_ONLY_SET = "ragged"
EMULATOR_SET = "emulator"
EMULATOR_MAX_ELEMENTS = 1 << 20  # per tensor: the emulator runs every CUDA thread on the CPU
EMULATOR_MAX_SHAPES = 16
INT32_MAX = 2**31 - 1
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
REQUIRED_ENTRIES = ("NAME", "ABI", "SHAPES", "make_inputs", "reference")
OPTIONAL_FUNCTIONS = ("make_params", "torch_op", "flops", "bytes_moved")


@dataclass(frozen=True)
class Pointer:
    """A tensor parameter: ``const T* name`` for inputs, ``T* name`` for outputs. ``param=True``: an
    input built by ``make_params`` (a weight, a bias), not by ``make_inputs``."""

    name: str
    dtype: DType
    shape: tuple[str, ...]
    output: bool = False
    param: bool = False

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
    flops: Callable[[dict[str, int]], int]  # checked: a ProblemError unless it returns an int >= 0
    bytes_moved: Callable[[dict[str, int]], int]  # checked likewise
    make_params: Callable[..., dict[str, Any]] | None = None
    origin: str = ""  # how errors name the module: its file, or the bundled module's name
    kind: str = "bundled"  # where it comes from: "bundled", "user" (--problems-dir) or "kernelbench"
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
        """The per-call inputs ``make_inputs`` builds (not the parameters)."""
        return tuple(p for p in self.abi if isinstance(p, Pointer) and not p.output and not p.param)

    @property
    def params(self) -> tuple[Pointer, ...]:
        """The parameters ``make_params`` builds (weights, biases): inputs fixed per shape and seed."""
        return tuple(p for p in self.abi if isinstance(p, Pointer) and p.param)

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


def _fail(origin: str, entry: str, expected: str, given: object) -> ProblemError:
    shown = given if isinstance(given, str) else repr(given)
    return ProblemError(origin, entry, expected, shown if len(shown) <= 200 else shown[:200] + "...")


def _validate_abi(origin: str, abi: object) -> tuple[Pointer | Scalar, ...]:
    if not isinstance(abi, list | tuple) or not abi:
        raise _fail(origin, "ABI", "a non-empty list of Pointer(...) and Scalar(...)", repr(abi))
    seen: set[str] = set()
    for p in abi:
        if not isinstance(p, Pointer | Scalar):
            raise _fail(origin, "ABI", "Pointer or Scalar entries from kernel_skills.bench.spec", repr(p))
        where = f"ABI entry {p.name!r}"
        if not isinstance(p.name, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$", p.name):
            raise _fail(origin, "ABI", "parameter names that are C identifiers", repr(p.name))
        if p.name in seen:
            raise _fail(origin, where, "a unique parameter name", "a second parameter of that name")
        seen.add(p.name)
        if isinstance(p, Pointer):
            if p.dtype not in C_TYPES:
                raise _fail(origin, where, f"a dtype in {sorted(C_TYPES)}", repr(p.dtype))
            if not isinstance(p.shape, tuple | list) or not p.shape:
                raise _fail(origin, where, "a non-empty shape tuple of expressions", repr(p.shape))
            if p.param and p.output:
                raise _fail(origin, where, "param=True (built by make_params) or output=True", "both")
        else:
            if p.ctype not in ("int", "float"):
                raise _fail(origin, where, "C type 'int' or 'float'", repr(p.ctype))
            if p.ctype == "float" and not isinstance(p.value, int | float):
                raise _fail(origin, where, "a fixed value for a float scalar", repr(p.value))
            if p.ctype == "int" and not (p.value is None or type(p.value) is int):
                raise _fail(origin, where, "an int value, or none for a size variable", repr(p.value))
    abi = [dataclasses.replace(p, shape=tuple(p.shape)) if isinstance(p, Pointer) else p for p in abi]
    pointers = [p for p in abi if isinstance(p, Pointer)]
    if not any(p.output for p in pointers):
        raise _fail(origin, "ABI", "at least one output pointer (Pointer(..., output=True))", "none")
    if not any(not p.output for p in pointers):
        raise _fail(origin, "ABI", "at least one input pointer", "none")
    return tuple(abi)


def _validate_shapes(
    origin: str, shapes: object, size_names: tuple[str, ...]
) -> dict[str, list[dict[str, int]]]:
    if not isinstance(shapes, dict) or not shapes:
        raise _fail(origin, "SHAPES", "a non-empty dict of set name -> list of {size: int}", repr(shapes))
    want = set(size_names)
    for set_name, entries in shapes.items():
        if not isinstance(set_name, str) or not _NAME_RE.match(set_name):
            raise _fail(origin, "SHAPES", "set names matching [a-z][a-z0-9_]*", repr(set_name))
        if not isinstance(entries, list) or not entries:
            raise _fail(origin, f"SHAPES[{set_name!r}]", "a non-empty list of dicts", repr(entries))
        for sizes in entries:
            _validate_sizes(origin, f"SHAPES[{set_name!r}]", sizes, want)
    return shapes  # type: ignore[return-value]


def _validate_sizes(origin: str, where: str, sizes: object, want: set[str]) -> None:
    if not isinstance(sizes, dict) or set(sizes) != want:
        got = sorted(sizes) if isinstance(sizes, dict) else sizes
        raise _fail(origin, where, f"shapes naming exactly the size variables {sorted(want)}", repr(got))
    for key, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= INT32_MAX:
            raise _fail(origin, where, f"size {key!r} an int in 1..{INT32_MAX}", repr(value))


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
        raise _fail(
            origin, where, f"a list of 1 to {EMULATOR_MAX_SHAPES} dicts of size -> int", repr(declared)
        )
    for sizes in declared:
        _validate_sizes(origin, where, sizes, set(problem.size_names))
        _check_pointer_dims(origin, problem, sizes)
        if (n := problem.largest_tensor(sizes)) > EMULATOR_MAX_ELEMENTS:
            raise _fail(
                origin,
                where,
                f"tensors of at most {EMULATOR_MAX_ELEMENTS:,} elements (the emulator runs every CUDA "
                "thread on the CPU: keep these small)",
                f"{sizes} with a tensor of {n:,} elements",
            )
    return tuple(dict(s) for s in declared), False


def _functions(origin: str, module: ModuleType, abi: tuple[Pointer | Scalar, ...]) -> dict[str, Any]:
    """The module's functions, with the documented defaults for the optional ones."""
    found: dict[str, Any] = {}
    for entry in ("make_inputs", "reference", *OPTIONAL_FUNCTIONS):
        fn = getattr(module, entry, None)
        if fn is not None and not callable(fn):
            raise _fail(origin, entry, "a function", repr(fn))
        found[entry] = fn
    if any(isinstance(p, Pointer) and p.param for p in abi) and found["make_params"] is None:
        raise _fail(origin, "make_params", "a function building the param=True pointers", "none")
    found["torch_op"] = found["torch_op"] or module.reference
    found["flops"] = _counted(origin, "flops", found["flops"] or (lambda sizes: 0))
    found["bytes_moved"] = _counted(
        origin, "bytes_moved", found["bytes_moved"] or (lambda sizes: abi_bytes(list(abi), sizes))
    )
    return found


def _counted(origin: str, entry: str, fn: Callable[[dict[str, int]], Any]) -> Callable[[dict[str, int]], int]:
    """``fn`` whose every call is checked: an int >= 0, or a ProblemError naming the entry."""

    def checked(sizes: dict[str, int]) -> int:
        try:
            value = fn(sizes)
        except Exception as exc:  # the author's code may raise anything
            raise _fail(
                origin, f"{entry}({sizes})", "an int >= 0", f"it raised {type(exc).__name__}: {exc}"
            ) from exc
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _fail(origin, f"{entry}({sizes})", "an int >= 0", repr(value))
        return value

    return checked


def _tolerance(
    origin: str, declared: object, abi: tuple[Pointer | Scalar, ...]
) -> dict[str, tuple[float, float]]:
    """Declared (atol, rtol) per dtype over ``DEFAULT_TOLERANCE``, for every output's dtype."""
    if declared is None:
        declared = {}
    if not isinstance(declared, dict):
        raise _fail(origin, "TOLERANCE", "a dict of dtype -> (atol, rtol)", repr(declared))
    merged: dict[str, tuple[float, float]] = {}
    for dtype in dict.fromkeys(p.dtype for p in abi if isinstance(p, Pointer) and p.output):
        tol = declared.get(dtype, DEFAULT_TOLERANCE[dtype])
        ok = isinstance(tol, tuple | list) and len(tol) == 2
        if not ok or not all(isinstance(v, int | float) and math.isfinite(v) and v >= 0 for v in tol):
            raise _fail(origin, f"TOLERANCE[{dtype!r}]", "(atol, rtol), finite and >= 0", repr(tol))
        merged[dtype] = (float(tol[0]), float(tol[1]))
    return merged


def _description(origin: str, module: ModuleType) -> str:
    text = getattr(module, "DESCRIPTION", None)
    if text is None:
        return ((module.__doc__ or "").strip().splitlines() or [""])[0]
    if not isinstance(text, str):
        raise _fail(origin, "DESCRIPTION", "a string", repr(text))
    return text.strip()


def _kind(module: ModuleType, module_path: str | None) -> str:
    if module_path is None:
        return "bundled"
    return "kernelbench" if isinstance(getattr(module, "KERNELBENCH_SOURCE", None), str) else "user"


def problem_from_module(module: ModuleType, *, origin: str, module_path: str | None = None) -> Problem:
    """Validate a problem module's entries; a ProblemError naming the module, the entry and what was
    expected vs. given."""
    missing = [name for name in REQUIRED_ENTRIES if not hasattr(module, name)]
    if missing:
        required = ", ".join(REQUIRED_ENTRIES)
        raise _fail(origin, ", ".join(missing), f"defined (every problem defines {required})", "missing")
    name = module.NAME
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise _fail(origin, "NAME", "a name matching [a-z][a-z0-9_]* (at most 64 characters)", repr(name))
    abi = _validate_abi(origin, module.ABI)
    functions = _functions(origin, module, abi)
    size_names = tuple(p.name for p in abi if isinstance(p, Scalar) and p.is_size)
    shapes = _validate_shapes(origin, module.SHAPES, size_names)
    shape_exprs: dict[str, tuple[Expr, ...]] = {}
    for p in abi:
        if isinstance(p, Pointer):
            try:
                shape_exprs[p.name] = tuple(parse_expr(e, set(size_names)) for e in p.shape)
            except RefusedInput as exc:
                raise _fail(
                    origin, f"ABI entry {p.name!r}", "a shape over the size variables", str(exc)
                ) from exc
    problem = Problem(
        name=name,
        description=_description(origin, module),
        abi=abi,
        shapes=shapes,
        tolerance=_tolerance(origin, getattr(module, "TOLERANCE", None), abi),
        **functions,
        origin=origin,
        kind=_kind(module, module_path),
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
            where = f"shape of ABI entry {p.name!r} at {sizes}"
            try:
                dims = problem.tensor_shape(p, sizes)
            except RefusedInput as exc:
                raise _fail(origin, where, "an expression that evaluates", str(exc)) from exc
            if any(d < 1 for d in dims):
                raise _fail(origin, where, "every dim >= 1", dims)


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

    return {
        "bf16": torch.bfloat16,
        "f16": torch.float16,
        "f32": torch.float32,
        "f64": torch.float64,
        "i8": torch.int8,
        "u8": torch.uint8,
        "i32": torch.int32,
        "i64": torch.int64,
        "bool": torch.bool,
    }[dtype]


__all__ = [
    "CHECK_ONLY_SET",
    "C_TYPES",
    "DEFAULT_TOLERANCE",
    "DTYPE_BYTES",
    "EMULATOR_MAX_ELEMENTS",
    "EMULATOR_SET",
    "FLOAT_DTYPES",
    "OPTIONAL_FUNCTIONS",
    "REQUIRED_ENTRIES",
    "Pointer",
    "Problem",
    "Scalar",
    "abi_bytes",
    "problem_from_module",
    "torch_dtype",
]
