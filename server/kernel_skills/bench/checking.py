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

Every input and output the harness allocates sits inside a larger buffer with guard regions of
``GUARD_BYTES`` before and after it, filled with a pattern and checked after every launch (the
tensor's start stays 256-byte aligned). A write one past the end or before the start, which an
exact-size allocation would let land in the caching allocator's slack, is reported with the buffer,
the side and the first corrupted offset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kernel_skills.bench import authored
from kernel_skills.bench.compare import compare, unravel
from kernel_skills.bench.spec import Pointer, Problem, Scalar, torch_dtype
from kernel_skills.errors import KernelFault, ServerFault

Tensors = dict[str, Any]
_SAME_SIZE_INT = {1: "uint8", 2: "int16", 4: "int32", 8: "int64"}
GUARD_BYTES = 4096  # a ragged tail bug overshoots by less than one block of 1024 floats
GUARD_PATTERN = 0xA5
ALIGNMENT = 256


@dataclass
class Guard:
    """One guarded allocation: ``buffer`` (bytes) holds the tensor at ``start`` with guards around."""

    role: str  # "input" or "output"
    name: str
    buffer: Any
    start: int
    nbytes: int
    itemsize: int

    def corruption(self) -> list[str]:
        """What was overwritten since the last check (and restore the pattern), one line per side."""
        found = []
        end = self.start + self.nbytes
        for side, region, offset in (
            ("before", self.buffer[: self.start], 0),
            ("after", self.buffer[end:], end),
        ):
            bad = (region != GUARD_PATTERN).nonzero().flatten()
            if not bad.numel():
                continue
            if side == "after":
                first = int(bad[0]) + offset - end  # bytes past the end
                where = f"{first} bytes past its end (element {first // self.itemsize} past the last)"
            else:
                first = self.start - int(bad[0])  # the lowest corrupted address, in bytes before the start
                where = f"{first} bytes before its start (element -{-(-first // self.itemsize)})"
            found.append(
                f"{self.role} {self.name!r}: {int(bad.numel())} guard bytes overwritten {side} it, "
                f"the first {where}"
            )
            region.fill_(GUARD_PATTERN)
        return found


def guarded_empty(shape: tuple[int, ...], dtype: Any, device: str, role: str, name: str) -> tuple[Any, Guard]:
    """An uninitialised tensor inside a pattern-filled buffer with ``GUARD_BYTES`` on either side."""
    import torch

    itemsize = torch.empty((), dtype=dtype).element_size()
    count = 1
    for extent in shape:
        count *= extent
    nbytes = count * itemsize
    buffer = torch.full(
        (GUARD_BYTES + ALIGNMENT + nbytes + GUARD_BYTES,), GUARD_PATTERN, dtype=torch.uint8, device=device
    )
    start = GUARD_BYTES + (-(buffer.data_ptr() + GUARD_BYTES)) % ALIGNMENT
    tensor = buffer[start : start + nbytes].view(dtype).view(shape)
    return tensor, Guard(role, name, buffer, start, nbytes, itemsize)


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
    guards: list[Guard] = field(default_factory=list)  # every allocation the harness made
    out_of_bounds: list[str] = field(default_factory=list)  # guard corruption seen after launches

    @property
    def where(self) -> str:
        return f"{self.problem.name} ({', '.join(f'{k}={v}' for k, v in self.sizes.items())})"

    def make_inputs(self, seed: int) -> Tensors:
        """Inputs and parameters for ``seed`` (checked: a ProblemError names the author's mistake)."""
        inputs = authored.make_inputs(self.problem, self.sizes, seed, self.device)
        guarded = {}
        for name, tensor in inputs.items():
            guarded[name] = self._guarded(tuple(tensor.shape), tensor.dtype, "input", name)
            guarded[name].copy_(tensor)
        return guarded

    def alloc_outputs(self) -> Tensors:
        return {
            p.name: self._guarded(
                self.problem.tensor_shape(p, self.sizes), torch_dtype(p.dtype), "output", p.name
            )
            for p in self.problem.outputs
        }

    def _guarded(self, shape: tuple[int, ...], dtype: Any, role: str, name: str) -> Any:
        tensor, guard = guarded_empty(shape, dtype, self.device, role, name)
        self.guards.append(guard)
        return tensor

    def check_guards(self, what: str) -> list[str]:
        """Guard corruption since the last check, recorded in ``out_of_bounds`` and returned."""
        found = [f"{what}: {line}" for guard in self.guards for line in guard.corruption()]
        self.out_of_bounds += found
        return found

    def bind(self, inputs: Tensors, outputs: Tensors) -> Callable[[], None]:
        if self.bind_launch is not None:
            return self.bind_launch(inputs, outputs)
        return lambda: self.launch(inputs, outputs)

    def run(self, inputs: Tensors, outputs: Tensors, what: str) -> None:
        try:
            self.launch(inputs, outputs)
            self.sync()
        except ServerFault:
            raise  # the machine failed, not the kernel
        except Exception as exc:
            raise KernelFault(
                f"the kernel faulted on {self.where}, {what}: {type(exc).__name__}: {exc}. Typical causes: "
                "an out-of-bounds access (check the bounds for ragged sizes), a misaligned vector access, "
                "__trap(), or a launch the kernel cannot run (too many registers or too much shared memory)"
            ) from exc
        self.check_guards(what)

    def reference(self, inputs: Tensors) -> Tensors:
        return authored.reference(self.problem, inputs, self.sizes)

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
    inputs, pristine, outputs, run, mutated = _run_on_fresh_buffers(h, seeds[0], 1, "fresh buffers")
    runs = [run]
    determinism = _determinism(h, inputs, outputs, pristine, restore_inputs=bool(mutated))
    if len(seeds) > 1:
        run, changed = _run_at_same_pointers(h, inputs, outputs, seeds[1])
        runs.append(run)
        mutated += changed
    for index, seed in enumerate(seeds[2:], start=3):
        # allocated while the previous buffers are alive, so at new addresses
        inputs, _, outputs, run, changed = _run_on_fresh_buffers(
            h, seed, index, "fresh buffers at new addresses"
        )
        runs.append(run)
        mutated += changed
    h.sync()
    return {
        "runs": runs,
        "inputs_mutated": mutated,
        "determinism": determinism,
        "out_of_bounds": h.out_of_bounds,
    }


def _run_on_fresh_buffers(
    h: Harness, seed: int, index: int, placement: str
) -> tuple[Tensors, Tensors, Tensors, dict[str, Any], list[str]]:
    """Run seed number ``index`` on newly allocated NaN-poisoned outputs and compare with the reference.

    Returns the inputs, a pristine copy of them, the outputs, the run's record and the inputs it wrote."""
    inputs = h.make_inputs(seed)
    pristine = {k: v.clone() for k, v in inputs.items()}
    outputs = h.alloc_outputs()
    poison(outputs, "nan")
    h.run(inputs, outputs, f"seed #{index}")
    mutated = changed_inputs(inputs, pristine)
    comparisons = h.compare_all(outputs, h.reference(pristine))
    run = {"seed": index, "placement": placement, "comparisons": comparisons}
    return inputs, pristine, outputs, run, mutated


def _determinism(
    h: Harness, inputs: Tensors, outputs: Tensors, pristine: Tensors, *, restore_inputs: bool
) -> dict[str, Any]:
    """Re-run on the same inputs (restored first if the kernel wrote them) into max-poisoned outputs:
    bitwise identical to the first run, or the comparisons that say how far apart."""
    first = {k: v.clone() for k, v in outputs.items()}
    poison(outputs, "max")
    if restore_inputs:  # judge determinism on the original data
        for k in inputs:
            inputs[k].copy_(pristine[k])
    h.run(inputs, outputs, "the determinism re-run")
    determinism: dict[str, Any] = {"bitwise_identical": identical(first, outputs), "comparisons": []}
    if not determinism["bitwise_identical"]:
        determinism["comparisons"] = h.compare_all(outputs, {k: v.float() for k, v in first.items()})
    return determinism


def _run_at_same_pointers(
    h: Harness, inputs: Tensors, outputs: Tensors, seed: int
) -> tuple[dict[str, Any], list[str]]:
    """Seed #2: new data copied into the same buffers, so a kernel that caches by pointer is caught."""
    fresh = h.make_inputs(seed)
    for k in inputs:
        inputs[k].copy_(fresh[k])
    poison(outputs, "nan")
    h.run(inputs, outputs, "seed #2 (new data at the same pointers)")
    mutated = changed_inputs(inputs, fresh)
    run = {
        "seed": 2,
        "placement": "new data, same pointers",
        "comparisons": h.compare_all(outputs, h.reference(fresh)),
    }
    return run, mutated


@dataclass
class TimingSet:
    inputs: Tensors
    outputs: Tensors
    expected: Tensors  # the reference the verified output matched, kept in host memory
    launch: Callable[[], None]  # bound to this set's buffers


def prepare_timing_sets(h: Harness, seeds: list[int]) -> list[TimingSet] | str:
    """One verified input/output set per seed (a string saying what failed otherwise)."""
    sets = []
    for n, seed in enumerate(seeds, start=1):
        inputs = h.make_inputs(seed)
        outputs = h.alloc_outputs()
        poison(outputs, "nan")
        h.run(inputs, outputs, f"timing set #{n}")
        expected = h.reference(inputs)
        bad = [c for c in h.compare_all(outputs, expected) if not c["passed"]]
        if bad:
            return f"timing input set #{n}: " + bad[0]["report"]
        host = {k: _to_host(v) for k, v in expected.items()}  # off the device while kernels run
        sets.append(TimingSet(inputs, outputs, host, h.bind(inputs, outputs)))
    return sets


def timed_mismatches(h: Harness, timing_set: TimingSet) -> Any:
    """Elements of a timed call's outputs outside the problem's tolerance (a 0-d tensor, no sync).

    One determinism policy: a timed output is judged by the very rule correctness uses, so a kernel
    whose results vary run to run within tolerance (atomics) passes both, and one that skips work
    or caches results fails both."""
    from kernel_skills.bench.compare import count_out_of_tolerance

    total = None
    for p in h.problem.outputs:
        atol, rtol = h.problem.tolerance[p.dtype]
        expected = timing_set.expected[p.name].to(h.device, non_blocking=True)
        count = count_out_of_tolerance(timing_set.outputs[p.name], expected, atol=atol, rtol=rtol)
        if expected.data_ptr() != timing_set.expected[p.name].data_ptr():
            expected.zero_()  # freed device memory must not hold the reference for the next call
        total = count if total is None else total + count
    return total


def _to_host(tensor: Any) -> Any:
    host = tensor.detach().cpu()
    return host.pin_memory() if tensor.is_cuda else host


def verify_timed_outputs(h: Harness, counts: list[tuple[int, Any]]) -> str | None:
    """``counts``: (set index, ``timed_mismatches``) per timed call. None when every call passed."""
    for index, (which, count) in enumerate(counts):
        bad = int(count)
        if bad:
            rules = ", ".join(
                f"{dtype}: |actual - expected| <= {atol:g} + {rtol:g} * |expected|"
                for dtype, (atol, rtol) in h.problem.tolerance.items()
            )
            return (
                f"timed call #{index + 1} (input set #{which + 1}) produced {bad:,} output elements outside "
                f"the tolerance its verified run met ({rules}): the kernel does not compute the same "
                "result on every call (skipped work, caching, or a race)"
            )
    return None


__all__ = [
    "GUARD_BYTES",
    "Guard",
    "Harness",
    "TimingSet",
    "changed_inputs",
    "check_shape",
    "guarded_empty",
    "identical",
    "kernel_args",
    "poison",
    "prepare_timing_sets",
    "timed_mismatches",
    "verify_timed_outputs",
]
