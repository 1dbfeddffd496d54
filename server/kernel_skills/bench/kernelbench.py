"""``kernel-skills problems import-kernelbench``: a KernelBench problem file as a problem module.

The file is read as it is: ``Model``, ``get_inputs``, ``get_init_inputs`` and its module-level int
constants. The ABI is fixed: ``get_inputs()`` tensors in order, then the model's parameters in
``named_parameters()`` order (``param=True``), then the outputs, then the size variables in the
order the file defines them, all as raw pointers in the dtypes the file uses. A size variable is an
int constant that changes an input's shape when it changes; the others (a reduced dim, a kernel
size) stay as the file sets them. Every shape (inputs, parameters, outputs) is found by running the
model on meta tensors (shapes only, no memory) at several sizes and fitting each dim to a constant or
an expression of one size variable; a dim that fits none is refused, as is a model that cannot run
on shapes alone (Python control flow on values). The device shape is KernelBench's; the emulator
shapes are small ragged ones derived from it. The written module is then checked like any problem
module (``problems check``) and refused with that error if it fails.
"""

from __future__ import annotations

import inspect
import re
import shutil
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kernel_skills.bench.kernelbench_runtime import KernelBenchFile
from kernel_skills.bench.problem_check import check_file
from kernel_skills.bench.spec import EMULATOR_MAX_ELEMENTS
from kernel_skills.errors import ProblemError, RefusedInput

EMULATOR_TARGET = 4096  # elements of the largest tensor the derived emulator shapes aim for
DTYPES = {
    "torch.float32": "f32",
    "torch.float16": "f16",
    "torch.bfloat16": "bf16",
    "torch.float64": "f64",
    "torch.int8": "i8",
    "torch.uint8": "u8",
    "torch.int32": "i32",
    "torch.int64": "i64",
    "torch.bool": "bool",
}
Shapes = dict[str, tuple[str, tuple[int, ...]]]  # pointer name -> (dtype, dims)


class Refused(Exception):
    """A file the format cannot express; the message is the reason."""


class ImportedFile(BaseModel):
    file: str
    ok: bool
    problem: str | None = None
    module: str | None = None
    reason: str | None = None


class ImportReport(BaseModel):
    imported: int
    refused: int
    files: list[ImportedFile]


def problem_name(path: Path) -> str:
    """``19_ReLU.py`` -> ``kb_19_relu``."""
    return "kb_" + re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", path.stem.lower())).strip("_")[:60]


def _identifier(name: str, taken: set[str]) -> str:
    ident = re.sub(r"\W", "_", name)
    ident = ident if re.match(r"[A-Za-z_]", ident) else f"p_{ident}"
    while ident in taken:
        ident += "_"
    taken.add(ident)
    return ident


class _Analysis:
    """The file's sizes and every pointer's dtype and dims, from runs on meta tensors."""

    def __init__(self, kb: KernelBenchFile) -> None:
        self.kb = kb
        module = kb.module
        self.constants = {n: v for n, v in vars(module).items() if not n.startswith("_") and type(v) is int}
        self.sizes = [n for n in self.constants if self._changes_inputs(n)]
        self.base = {n: self.constants[n] for n in self.sizes}

    def _input_shapes(self, sizes: dict[str, int]) -> list[tuple[int, ...]]:
        import torch

        with torch.device("meta"), self.kb.at(sizes, 0) as module:
            return [tuple(t.shape) for t in module.get_inputs() if isinstance(t, torch.Tensor)]

    def _changes_inputs(self, name: str) -> bool:
        base = self._input_shapes({})
        try:
            return self._input_shapes({name: 2 * self.constants[name] + 1}) != base
        except Exception:  # a constant get_inputs cannot take another value of is not a size
            return False

    def shapes(self, sizes: dict[str, int]) -> tuple[Shapes, Shapes, Shapes]:
        """(inputs, parameters, outputs) at ``sizes``, from a run on meta tensors."""
        import torch

        try:
            with torch.device("meta"), self.kb.at(sizes, 0) as module:
                inputs = list(module.get_inputs())
                model = module.Model(*module.get_init_inputs())
                if not all(isinstance(t, torch.Tensor) for t in inputs):
                    raise Refused("get_inputs() returns something other than tensors")
                result = model(*inputs)
                params = [p for _, p in model.named_parameters()]
        except Refused:
            raise
        except Exception as exc:
            raise Refused(
                f"the model does not run on shapes alone (meta tensors): {type(exc).__name__}: {exc}; "
                "Python control flow on tensor values, or an op without a shape rule"
            ) from exc
        results = list(result) if isinstance(result, tuple | list) else [result]
        if not results or not all(isinstance(t, torch.Tensor) for t in results):
            raise Refused("forward() returns something other than a tensor or a tuple of tensors")
        return _named(inputs), _named(params), _named(results)


def _named(tensors: list[Any]) -> Shapes:
    out: Shapes = {}
    for i, t in enumerate(tensors):
        dtype = DTYPES.get(str(t.dtype))
        if dtype is None:
            raise Refused(f"a tensor of dtype {t.dtype}; accepted: {sorted(DTYPES)}")
        out[str(i)] = (dtype, tuple(t.shape) or (1,))
    return out


def _points(base: dict[str, int]) -> list[dict[str, int]]:
    """Sizes to fit dims on: KernelBench's, each size doubled alone (divisibility kept: groups),
    and all of them halved."""
    points = [dict(base)]
    points += [{**base, n: 2 * v} for n, v in base.items()]
    points.append({n: max(1, v // 2) for n, v in base.items()})
    return points


def _candidates(names: list[str]) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for s in names:
        found.append((s, lambda p, s=s: p[s]))
        for b in range(-64, 65):
            if b:
                text = f"{s} + {b}" if b > 0 else f"{s} - {-b}"
                found.append((text, lambda p, s=s, b=b: p[s] + b))
        for a in (2, 3, 4, 8):
            found.append((f"{a} * {s}", lambda p, s=s, a=a: a * p[s]))
            for b in range(-64, 65):
                if b:
                    shown = f"{a} * {s} + {b}" if b > 0 else f"{a} * {s} - {-b}"
                    found.append((shown, lambda p, s=s, a=a, b=b: a * p[s] + b))
            found.append((f"{s} // {a}", lambda p, s=s, a=a: p[s] // a))
            for b in range(-16, 17):
                shown = f"{s} + {b}" if b >= 0 else f"{s} - {-b}"
                found.append((f"({shown}) // {a} + 1", lambda p, s=s, a=a, b=b: (p[s] + b) // a + 1))
        for t in names:
            if t > s:
                found.append((f"{s} * {t}", lambda p, s=s, t=t: p[s] * p[t]))
    return found


def fit_dim(values: list[int], points: list[dict[str, int]], candidates: list[tuple[str, Any]]) -> str | None:
    """The first expression over the size variables giving ``values`` at ``points``."""
    if len(set(values)) == 1:
        return str(values[0])
    for text, fn in candidates:
        if all(fn(p) == v for p, v in zip(points, values, strict=True)):
            return text
    return None


def _fitted(analysis: _Analysis) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(role, index, dtype, dim expressions) for every pointer, roles "input", "param", "output"."""
    points = _points(analysis.base)
    runs = [analysis.shapes(p) for p in points]
    candidates = _candidates(analysis.sizes)
    fitted = []
    for r, role in enumerate(("input", "param", "output")):
        for index, (dtype, dims) in runs[0][r].items():
            exprs = []
            for d in range(len(dims)):
                try:
                    values = [run[r][index][1][d] for run in runs]
                except (KeyError, IndexError):
                    raise Refused(f"{role} #{index} changes rank or count with the sizes") from None
                expr = fit_dim(values, points, candidates)
                if expr is None:
                    raise Refused(
                        f"{role} #{index} dim {d} ({values} at sizes {points}) does not follow the size "
                        f"variables {analysis.sizes}"
                    )
                exprs.append(expr)
            fitted.append((role, index, dtype, tuple(exprs)))
    return fitted


def _largest(analysis: _Analysis, sizes: dict[str, int]) -> int | None:
    """Elements of the largest tensor at ``sizes``; None when the model cannot run there."""
    import math

    try:
        runs = analysis.shapes(sizes)
    except Refused:
        return None
    dims = [d for run in runs for _, d in run.values()]
    return None if any(x < 1 for ds in dims for x in ds) else max(math.prod(ds) for ds in dims)


def emulator_shapes(analysis: _Analysis) -> list[dict[str, int]]:
    """Two small ragged shapes (odd sizes, tensors near ``EMULATOR_TARGET`` elements) the model runs
    at; [] when none is small enough for the emulator."""
    sizes = {n: (v if v <= 61 else 61) for n, v in analysis.base.items()}
    if _largest(analysis, sizes) is None:
        sizes = dict(analysis.base)
    frozen: set[str] = set()
    for _ in range(64):
        size = _largest(analysis, sizes)
        if size is None or size <= EMULATOR_TARGET:
            break
        # below 3 only when the emulator's limit needs it (a batch of 1 tests little)
        floor = 1 if size > EMULATOR_MAX_ELEMENTS else 3
        movable = [n for n, v in sizes.items() if v > floor and n not in frozen]
        if not movable:
            break
        name = max(movable, key=lambda n: sizes[n])
        tries = [
            {**sizes, name: max(floor, sizes[name] // 2) | 1},
            {**sizes, name: max(floor, sizes[name] // 2)},
        ]
        fits = [t for t in tries if t[name] < sizes[name] and _largest(analysis, t) is not None]
        if fits:
            sizes = fits[0]  # odd (ragged) where the model allows it
        else:
            frozen.add(name)
    size = _largest(analysis, sizes)
    if size is None or size > EMULATOR_MAX_ELEMENTS:
        return []
    found = []
    for order in (1, -1):  # sizes made distinct (a transposed index shows), two ways round
        skewed, used = dict(sizes), set()
        for i, n in enumerate(list(sizes)[::order]):
            if sizes[n] > 1:
                skewed[n] = sizes[n] + 2 * (i + (order < 0))  # the second differs even with one size
                while skewed[n] in used:
                    skewed[n] += 2
                used.add(skewed[n])
        bigger = _largest(analysis, skewed)
        fits = bigger is not None and bigger <= min(EMULATOR_MAX_ELEMENTS, max(size, 8 * EMULATOR_TARGET))
        shape = skewed if fits else sizes
        if shape not in found:
            found.append(shape)
    return found


def _pointer_names(kb_module: Any, counts: dict[str, int], sizes: list[str]) -> dict[str, list[str]]:
    """C names: forward()'s argument names for the inputs, the parameters' own, out / out0, out1..."""
    taken = set(sizes)
    forward = [
        p.name
        for p in inspect.signature(kb_module.Model.forward).parameters.values()
        if p.name != "self" and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(forward) != counts["input"]:
        forward = [f"in{i}" for i in range(counts["input"])]
    outputs = ["out"] if counts["output"] == 1 else [f"out{i}" for i in range(counts["output"])]
    return {
        "input": [_identifier(n, taken) for n in forward],
        "output": [_identifier(n, taken) for n in outputs],
    }


MODULE = """\
\"\"\"KernelBench {stem}: {description}

Imported by `kernel-skills problems import-kernelbench` from {source}. The file runs as it is, copied
beside this module as {helper} (its size constants are set per shape; see bench/kernelbench_runtime.py).
\"\"\"

from pathlib import Path

from kernel_skills.bench.kernelbench_runtime import KernelBenchFile
from kernel_skills.bench.spec import Pointer, Scalar

_KB = KernelBenchFile(
    Path(__file__).with_name({helper!r}),
    inputs={inputs!r},
    params={params!r},
    outputs={outputs!r},
)
NAME = {name!r}
KERNELBENCH_SOURCE = {source!r}  # marks the problem's origin as "kernelbench"
DESCRIPTION = {description!r}
ABI = [
{abi}
]
SHAPES = {{"kernelbench": [{base!r}]}}
{emulator}make_inputs = _KB.make_inputs
reference = _KB.reference
{make_params}"""


def module_text(path: Path, helper: str, analysis: _Analysis) -> str:
    """The problem module for a KernelBench file (Refused when it cannot be expressed)."""
    fitted = _fitted(analysis)
    counts = {r: sum(1 for f in fitted if f[0] == r) for r in ("input", "param", "output")}
    names = _pointer_names(analysis.kb.module, counts, analysis.sizes)
    taken = set(analysis.sizes) | set(names["input"]) | set(names["output"])
    model = analysis.kb.model(analysis.base, 0) if counts["param"] else None
    names["param"] = [_identifier(n, taken) for n, _ in model.named_parameters()] if model else []
    abi = []
    for role, index, dtype, dims in fitted:
        name = names[role][int(index)]
        extra = ", output=True" if role == "output" else ", param=True" if role == "param" else ""
        abi.append(f"    Pointer({name!r}, {dtype!r}, {dims!r}{extra}),")
    abi += [f"    Scalar({n!r}, 'int')," for n in analysis.sizes]
    emulator = emulator_shapes(analysis)
    doc = inspect.getdoc(analysis.kb.module.Model) or ""
    description = " ".join(doc.split("\n\n")[0].split()) or f"KernelBench {path.stem}"
    return MODULE.format(
        stem=path.stem,
        description=description,
        source=path.name,
        helper=helper,
        inputs=names["input"],
        params=names["param"],
        outputs=names["output"],
        name=problem_name(path),
        abi="\n".join(abi),
        base=analysis.base,
        emulator=f"EMULATOR_SHAPES = {emulator!r}\n" if emulator else "",
        make_params="make_params = _KB.make_params\n" if names["param"] else "",
    )


def import_file(path: Path, out: Path) -> ImportedFile:
    """Write ``out/kb_<name>.py`` and its helper copy of the file, checked; or the refusal."""
    name = problem_name(path)
    helper = out / f"_kernelbench_{name}.py"
    target = out / f"{name}.py"
    try:
        analysis = _Analysis(KernelBenchFile(path, [], [], []))  # errors name the user's file
        shutil.copyfile(path, helper)
        target.write_text(module_text(path, helper.name, analysis), encoding="utf-8")
    except (Refused, ProblemError) as exc:
        helper.unlink(missing_ok=True)
        return ImportedFile(file=str(path), ok=False, reason=str(exc))
    checked = check_file(target)
    if not checked.ok:
        target.unlink(missing_ok=True)
        helper.unlink(missing_ok=True)
        return ImportedFile(
            file=str(path), ok=False, reason=f"the written module fails its check: {checked.error}"
        )
    return ImportedFile(file=str(path), ok=True, problem=name, module=str(target))


def import_files(files: list[Path], out: Path) -> ImportReport:
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise RefusedInput(f"not a file: {', '.join(missing)}; give KernelBench problem files (*.py)")
    if out.exists() and not out.is_dir():
        raise RefusedInput(f"--out {out}: not a directory")
    out.mkdir(parents=True, exist_ok=True)
    results, named = [], {}
    for f in files:
        other = named.setdefault(problem_name(f), f)
        if other is not f:
            reason = f"its problem name {problem_name(f)!r} is also {other}'s; rename one of the files"
            results.append(ImportedFile(file=str(f), ok=False, reason=reason))
        else:
            results.append(import_file(f, out))
    imported = sum(r.ok for r in results)
    return ImportReport(imported=imported, refused=len(results) - imported, files=results)


__all__ = ["ImportReport", "ImportedFile", "fit_dim", "import_files", "problem_name"]
