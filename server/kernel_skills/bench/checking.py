"""The correctness harness, device-agnostic: a thin boundary takes ``launch`` and ``sync``.

On the GPU worker ``launch`` is the CuPy kernel launch and ``sync`` synchronizes the whole device;
in CPU tests they are Python stand-ins (a correct op, an off-by-one, an input-mutating or a
result-caching "kernel"), so every defense below is tested without a GPU.

``check_shape`` runs one shape over the seeds (at least 3):
  seed 1: fresh buffers; the kernel runs with outputs poisoned with NaN; then a determinism re-run
          on the same inputs with outputs poisoned with the largest finite value;
  seed 2: new data written into the same input buffers (a cache keyed on pointers is caught);
  seed 3+: fresh buffers allocated while the old ones are alive (new addresses).
After every launch the inputs are compared bit for bit with a pristine copy, and the reference is
computed only after the kernel ran, from the pristine copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kernel_skills.bench.compare import compare, unravel
from kernel_skills.bench.spec import Pointer, Problem, Scalar, torch_dtype
from kernel_skills.errors import KernelFault

Tensors = dict[str, Any]
_SAME_SIZE_INT = {1: "uint8", 2: "int16", 4: "int32", 8: "int64"}


def kernel_args(
    problem: Problem, sizes: dict[str, int], inputs: Tensors, outputs: Tensors
) -> tuple[Any, ...]:
    """The launch arguments in ABI order with exact C types: pointers as uint64, int32, float32."""
    import numpy

    values = problem.scalar_values(sizes)
    args: list[Any] = []
    for p in problem.abi:
        if isinstance(p, Pointer):
            tensor = outputs[p.name] if p.output else inputs[p.name]
            args.append(numpy.uint64(tensor.data_ptr()))
        elif isinstance(p, Scalar):
            args.append(numpy.int32(values[p.name]) if p.ctype == "int" else numpy.float32(values[p.name]))
    return tuple(args)


@dataclass
class Harness:
    problem: Problem
    sizes: dict[str, int]
    device: str
    launch: Callable[[Tensors, Tensors], None]  # asynchronous
    sync: Callable[[], None]  # waits for the whole device and raises on a device error
    # Optional: prepare a zero-argument launcher with its arguments already built, so that the
    # timed region holds the launch call and nothing else (the timing loop uses it).
    bind_launch: Callable[[Tensors, Tensors], Callable[[], None]] | None = None

    @property
    def where(self) -> str:
        return f"{self.problem.name} ({', '.join(f'{k}={v}' for k, v in self.sizes.items())})"

    def make_inputs(self, seed: int) -> Tensors:
        import torch

        gen = torch.Generator(device=self.device)
        gen.manual_seed(int(seed))
        inputs = self.problem.make_inputs(self.sizes, gen, self.device)
        for p in self.problem.inputs:
            t = inputs.get(p.name)
            want = self.problem.tensor_shape(p, self.sizes)
            if (
                t is None
                or tuple(t.shape) != want
                or t.dtype != torch_dtype(p.dtype)
                or not t.is_contiguous()
            ):
                raise KernelFault(
                    f"problem {self.problem.name}: make_inputs gave a wrong tensor for {p.name!r}"
                )
        return inputs

    def alloc_outputs(self) -> Tensors:
        import torch

        return {
            p.name: torch.empty(
                self.problem.tensor_shape(p, self.sizes), dtype=torch_dtype(p.dtype), device=self.device
            )
            for p in self.problem.outputs
        }

    def bind(self, inputs: Tensors, outputs: Tensors) -> Callable[[], None]:
        if self.bind_launch is not None:
            return self.bind_launch(inputs, outputs)
        return lambda: self.launch(inputs, outputs)

    def run(self, inputs: Tensors, outputs: Tensors, what: str) -> None:
        try:
            self.launch(inputs, outputs)
            self.sync()
        except Exception as exc:
            raise KernelFault(
                f"the kernel faulted on {self.where}, {what}: {type(exc).__name__}: {exc}. Typical causes: "
                "an out-of-bounds access (check the bounds for ragged sizes), a misaligned vector access, "
                "__trap(), or a launch the kernel cannot run (too many registers or too much shared memory)"
            ) from exc

    def reference(self, inputs: Tensors) -> Tensors:
        return self.problem.reference(inputs, self.sizes)

    def compare_all(self, outputs: Tensors, expected: Tensors) -> list[dict[str, Any]]:
        results = []
        for p in self.problem.outputs:
            atol, rtol = self.problem.tolerance[p.dtype]
            result = compare(outputs[p.name], expected[p.name], atol=atol, rtol=rtol, name=p.name)
            results.append(result.model_dump())
        return results


def poison(outputs: Tensors, value: str) -> None:
    """Fill outputs with NaN ("nan") or the dtype's largest finite value ("max"); ints with -1."""
    import torch

    for t in outputs.values():
        if not t.is_floating_point():
            t.fill_(-1)
        elif value == "nan":
            t.fill_(float("nan"))
        else:
            t.fill_(float(torch.finfo(t.dtype).max))


def _bits(t: Any) -> Any:
    import torch

    return t.view(getattr(torch, _SAME_SIZE_INT[t.element_size()]))


def changed_inputs(inputs: Tensors, pristine: Tensors) -> list[str]:
    """One line per input the kernel wrote to: how many elements and the first index."""
    changed = []
    for name, tensor in inputs.items():
        diff = _bits(tensor) != _bits(pristine[name])
        count = int(diff.sum())
        if count:
            first = int(diff.flatten().nonzero()[0])
            where = tuple(unravel(first, tuple(tensor.shape)))
            changed.append(f"input {name!r}: {count:,} elements changed, first at {where}")
    return changed


def identical(a: Tensors, b: Tensors) -> bool:
    import torch

    return all(torch.equal(_bits(a[k]), _bits(b[k])) for k in a)


def check_shape(h: Harness, seeds: list[int]) -> dict[str, Any]:
    """Correctness of one shape over ``seeds`` (see the module docstring for the sequence)."""
    runs: list[dict[str, Any]] = []
    mutated: list[str] = []
    inputs = h.make_inputs(seeds[0])
    pristine = {k: v.clone() for k, v in inputs.items()}
    outputs = h.alloc_outputs()
    poison(outputs, "nan")
    h.run(inputs, outputs, "seed #1")
    mutated += changed_inputs(inputs, pristine)
    runs.append(
        {
            "seed": 1,
            "placement": "fresh buffers",
            "comparisons": h.compare_all(outputs, h.reference(pristine)),
        }
    )

    first = {k: v.clone() for k, v in outputs.items()}
    poison(outputs, "max")
    if mutated:  # judge determinism on the original data
        for k in inputs:
            inputs[k].copy_(pristine[k])
    h.run(inputs, outputs, "the determinism re-run")
    determinism: dict[str, Any] = {"bitwise_identical": identical(first, outputs), "comparisons": []}
    if not determinism["bitwise_identical"]:
        determinism["comparisons"] = h.compare_all(outputs, {k: v.float() for k, v in first.items()})

    if len(seeds) > 1:
        fresh = h.make_inputs(seeds[1])
        for k in inputs:
            inputs[k].copy_(fresh[k])
        poison(outputs, "nan")
        h.run(inputs, outputs, "seed #2 (new data at the same pointers)")
        mutated += changed_inputs(inputs, fresh)
        runs.append(
            {
                "seed": 2,
                "placement": "new data, same pointers",
                "comparisons": h.compare_all(outputs, h.reference(fresh)),
            }
        )
    for index, seed in enumerate(seeds[2:], start=3):
        new_inputs = h.make_inputs(seed)  # allocated while the previous buffers are alive
        new_pristine = {k: v.clone() for k, v in new_inputs.items()}
        new_outputs = h.alloc_outputs()
        poison(new_outputs, "nan")
        h.run(new_inputs, new_outputs, f"seed #{index}")
        mutated += changed_inputs(new_inputs, new_pristine)
        runs.append(
            {
                "seed": index,
                "placement": "fresh buffers at new addresses",
                "comparisons": h.compare_all(new_outputs, h.reference(new_pristine)),
            }
        )
        inputs, outputs = new_inputs, new_outputs
    h.sync()
    return {"runs": runs, "inputs_mutated": mutated, "determinism": determinism}


@dataclass
class TimingSet:
    inputs: Tensors
    outputs: Tensors
    reference_sum: Any  # checksum of the verified output
    launch: Callable[[], None]  # bound to this set's buffers


def checksum(outputs: Tensors) -> Any:
    """(sum, sum of |x|) per output in float64: NaN anywhere makes it NaN."""
    import torch

    parts = []
    for t in outputs.values():
        f = t.float()
        parts.extend((f.sum(dtype=torch.float64), f.abs().sum(dtype=torch.float64)))
    return torch.stack(parts)


def prepare_timing_sets(h: Harness, seeds: list[int]) -> list[TimingSet] | str:
    """One verified input/output set per seed (a string saying what failed otherwise)."""
    sets = []
    for n, seed in enumerate(seeds, start=1):
        inputs = h.make_inputs(seed)
        outputs = h.alloc_outputs()
        poison(outputs, "nan")
        h.run(inputs, outputs, f"timing set #{n}")
        bad = [c for c in h.compare_all(outputs, h.reference(inputs)) if not c["passed"]]
        if bad:
            return f"timing input set #{n}: " + bad[0]["report"]
        sets.append(TimingSet(inputs, outputs, checksum(outputs), h.bind(inputs, outputs)))
    return sets


def verify_checksums(sets: list[TimingSet], sums: list[tuple[int, Any]]) -> str | None:
    """Every timed call must reproduce its set's verified output (within 1e-3 relative), or say which not."""
    import torch

    for index, (which, got) in enumerate(sums):
        want = sets[which].reference_sum
        finite = bool(torch.isfinite(got).all())
        if not finite or not bool(((got - want).abs() <= 1e-3 * want.abs().clamp_min(1e-6)).all()):
            return (
                f"timed call #{index + 1} produced an output different from the verified one (checksums "
                f"{got.tolist()} vs {want.tolist()}): the kernel does not compute the same result on every "
                "call (skipped work, caching, or a race)"
            )
    return None


__all__ = [
    "Harness",
    "TimingSet",
    "changed_inputs",
    "check_shape",
    "checksum",
    "identical",
    "kernel_args",
    "poison",
    "prepare_timing_sets",
    "verify_checksums",
]
