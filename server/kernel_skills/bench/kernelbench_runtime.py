"""A KernelBench problem file run at any sizes: what an imported problem module's functions call.

A KernelBench file defines ``Model(*get_init_inputs())``, ``get_inputs()`` and module-level size
constants that both functions read when called. So the file is imported once and, for each call,
its size constants are set to the requested sizes before ``get_inputs``/``get_init_inputs`` run.
Its global RNG draws are made under ``torch.random.fork_rng`` seeded from the harness's generator,
so the same seed gives the same inputs and parameters and the caller's RNG is left alone.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from kernel_skills.bench.pyfile import import_python_file
from kernel_skills.errors import ProblemError


def load_kernelbench_file(path: Path) -> ModuleType:
    """Import a KernelBench file by path (trusted: the user named it); ProblemError if it fails."""
    module = import_python_file(path, "kernel_skills_kernelbench")
    for entry in ("Model", "get_inputs", "get_init_inputs"):
        if not callable(getattr(module, entry, None)):
            raise ProblemError(str(path), entry, "defined (a KernelBench problem file)", "missing")
    return module


@dataclass
class KernelBenchFile:
    """One KernelBench file; ``inputs``/``params``/``outputs`` are the ABI's pointer names in order."""

    path: Path
    inputs: list[str]
    params: list[str]
    outputs: list[str]
    _module: ModuleType | None = field(default=None, repr=False)
    _models: dict[tuple, Any] = field(default_factory=dict, repr=False)

    @property
    def module(self) -> ModuleType:
        if self._module is None:
            self._module = load_kernelbench_file(self.path)
        return self._module

    @contextmanager
    def at(self, sizes: dict[str, int], seed: int | None = None) -> Any:
        """The file's size constants set to ``sizes`` (and its RNG seeded) for the duration."""
        import torch

        module = self.module
        saved = {name: getattr(module, name) for name in sizes}
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            try:
                for name, value in sizes.items():
                    setattr(module, name, int(value))
                yield module
            finally:
                for name, value in saved.items():
                    setattr(module, name, value)

    def make_inputs(self, sizes: dict[str, int], generator: Any, device: str) -> dict[str, Any]:
        with self.at(sizes, generator.initial_seed()) as module:
            tensors = list(module.get_inputs())
        return {n: t.to(device).contiguous() for n, t in zip(self.inputs, tensors, strict=True)}

    def model(self, sizes: dict[str, int], seed: int) -> Any:
        """``Model(*get_init_inputs())`` with its parameters initialised under ``seed``."""
        with self.at(sizes, seed) as module:
            return module.Model(*module.get_init_inputs())  # as KernelBench runs it: training mode

    def make_params(self, sizes: dict[str, int], generator: Any) -> dict[str, Any]:
        model = self.model(sizes, generator.initial_seed())
        tensors = [p.detach().clone().contiguous() for _, p in model.named_parameters()]
        return dict(zip(self.params, tensors, strict=True))

    def reference(self, inputs: dict[str, Any], sizes: dict[str, int]) -> dict[str, Any]:
        """``Model.forward`` on the inputs with the given parameters substituted (``functional_call``:
        nothing copied, so as the timed baseline it costs what the model's forward costs)."""
        import torch
        from torch.func import functional_call

        device = inputs[self.inputs[0]].device
        key = (tuple(sorted(sizes.items())), str(device))
        if key not in self._models:
            self._models = {key: self.model(sizes, 0).to(device)}  # one model: the last shape's
        model = self._models[key]
        names = [n for n, _ in model.named_parameters()]
        params = {n: inputs[p] for n, p in zip(names, self.params, strict=True)}
        with torch.no_grad():
            result = functional_call(model, params, tuple(inputs[n] for n in self.inputs))
        results = list(result) if isinstance(result, tuple | list) else [result]
        return {n: t.reshape(-1) if t.dim() == 0 else t for n, t in zip(self.outputs, results, strict=True)}


__all__ = ["KernelBenchFile", "load_kernelbench_file"]
