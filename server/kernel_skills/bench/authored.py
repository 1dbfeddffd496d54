"""Calling a problem module's functions and checking what they give back.

A problem module is trusted code (it runs in the server's process), but what it returns is still
checked: a ``make_inputs`` that builds the wrong dtype or shape, a ``reference`` that raises or
returns the wrong shape, is the problem author's mistake, reported as a ``ProblemError`` naming the
module, the function, and what was expected vs. given, never blamed on the kernel.
"""

from __future__ import annotations

from typing import Any

from kernel_skills.bench.spec import FLOAT_DTYPES, Pointer, Problem, torch_dtype
from kernel_skills.errors import ProblemError

Tensors = dict[str, Any]


def _call(problem: Problem, entry: str, expected: str, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except ProblemError:
        raise
    except Exception as exc:  # the author's code may raise anything
        raise ProblemError(problem.origin, entry, expected, f"it raised {type(exc).__name__}: {exc}") from exc


def _tensor_dict(problem: Problem, entry: str, value: Any, names: list[str]) -> Tensors:
    import torch

    expected = f"a dict with the tensors {names}"
    if not isinstance(value, dict):
        raise ProblemError(problem.origin, entry, expected, type(value).__name__)
    missing = [n for n in names if n not in value]
    if missing:
        raise ProblemError(problem.origin, entry, expected, f"a dict without {missing}")
    for name in names:
        if not isinstance(value[name], torch.Tensor):
            raise ProblemError(
                problem.origin, f"{entry}[{name!r}]", "a torch.Tensor", type(value[name]).__name__
            )
    return value


def _exact(problem: Problem, entry: str, pointer: Pointer, tensor: Any, sizes: dict[str, int]) -> None:
    """The tensor has the pointer's dtype and shape and is contiguous (what the kernel reads)."""
    want_shape = problem.tensor_shape(pointer, sizes)
    want = f"{pointer.dtype} ({torch_dtype(pointer.dtype)}) of shape {list(want_shape)}, contiguous"
    given = f"{tensor.dtype} of shape {list(tensor.shape)}" + ("" if tensor.is_contiguous() else ", strided")
    if (
        tensor.dtype != torch_dtype(pointer.dtype)
        or tuple(tensor.shape) != want_shape
        or not tensor.is_contiguous()
    ):
        raise ProblemError(problem.origin, f"{entry}[{pointer.name!r}] at {sizes}", want, given)


def make_inputs(problem: Problem, sizes: dict[str, int], seed: int, device: str) -> Tensors:
    """``make_inputs`` and (when the ABI has parameters) ``make_params`` for one shape and seed,
    checked: every input and parameter pointer in its dtype and shape. Parameters are built on the
    CPU (the same values on every device) and moved to ``device``."""
    import torch

    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    names = [p.name for p in problem.inputs]
    got = _call(problem, "make_inputs", "a dict of tensors", problem.make_inputs, sizes, gen, device)
    inputs = dict(_tensor_dict(problem, "make_inputs", got, names))
    for p in problem.inputs:
        _exact(problem, "make_inputs", p, inputs[p.name], sizes)
    if problem.params:
        cpu = torch.Generator()
        cpu.manual_seed(int(seed))
        names = [p.name for p in problem.params]
        got = _call(problem, "make_params", "a dict of tensors", problem.make_params, sizes, cpu)
        params = _tensor_dict(problem, "make_params", got, names)
        for p in problem.params:
            _exact(problem, "make_params", p, params[p.name], sizes)
            inputs[p.name] = params[p.name].to(device)
    return {p.name: inputs[p.name] for p in problem.abi if isinstance(p, Pointer) and not p.output}


def _result(problem: Problem, entry: str, value: Any, sizes: dict[str, int]) -> Tensors:
    """An op's outputs: every output pointer's shape; floating outputs as floating tensors, integer
    ones as integer or bool tensors (compared in float64; the precision is the author's choice)."""
    outputs = _tensor_dict(problem, entry, value, [p.name for p in problem.outputs])
    for p in problem.outputs:
        tensor = outputs[p.name]
        want_shape = problem.tensor_shape(p, sizes)
        floating = p.dtype in FLOAT_DTYPES
        kind = "a floating-point" if floating else "an integer or bool"
        if tuple(tensor.shape) != want_shape or tensor.is_floating_point() != floating or tensor.is_complex():
            raise ProblemError(
                problem.origin,
                f"{entry}[{p.name!r}] at {sizes}",
                f"{kind} tensor of shape {list(want_shape)} (output {p.name!r} is {p.dtype})",
                f"{tensor.dtype} of shape {list(tensor.shape)}",
            )
    return outputs


def reference(problem: Problem, inputs: Tensors, sizes: dict[str, int]) -> Tensors:
    """The problem's expected outputs, checked (``ProblemError`` if ``reference`` raises or misshapes)."""
    got = _call(problem, "reference", "the expected outputs", problem.reference, inputs, sizes)
    return _result(problem, "reference", got, sizes)


def torch_op(problem: Problem, op: Any, inputs: Tensors, sizes: dict[str, int]) -> Tensors:
    """The PyTorch baseline ``op`` (``problem.torch_op``, maybe compiled), checked like ``reference``."""
    got = _call(problem, "torch_op", "the baseline's outputs", op, inputs, sizes)
    return _result(problem, "torch_op", got, sizes)


__all__ = ["make_inputs", "reference", "torch_op"]
