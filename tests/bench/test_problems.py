"""Every bundled problem: its reference against hand-computed float64 values (numpy), the
consistency of its ABI and shape sets, and that PyTorch's own bf16 op meets its tolerance."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from kernel_skills.bench.compare import compare
from kernel_skills.bench.registry import load_registry
from kernel_skills.bench.spec import CHECK_ONLY_SET, Pointer, Scalar, torch_dtype

REGISTRY = load_registry(use_env=False)
EXPECTED = {
    "rmsnorm",
    "rmsnorm_noweight",
    "layernorm_modulate",
    "gelu_tanh",
    "geglu",
    "rope",
    "attention_hd64",
    "attention_hd128",
}
SMALL = {
    "rmsnorm": {"rows": 5, "dim": 16},
    "rmsnorm_noweight": {"rows": 5, "dim": 16},
    "layernorm_modulate": {"batch": 2, "tokens": 3, "dim": 16},
    "gelu_tanh": {"n": 37},
    "geglu": {"rows": 3, "dim": 8},
    "rope": {"batch": 1, "heads": 2, "seq": 5, "head_dim": 8},
    "attention_hd64": {"batch": 1, "heads": 2, "seq_q": 5, "seq_kv": 7},
    "attention_hd128": {"batch": 1, "heads": 1, "seq_q": 3, "seq_kv": 9},
}


def _inputs(name: str, seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return REGISTRY.get(name).make_inputs(SMALL[name], gen, "cpu")


def _np(t: torch.Tensor) -> np.ndarray:
    return t.to(torch.float64).numpy()


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def _gelu_erf(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def _by_hand(name: str, inp: dict[str, np.ndarray], s: dict[str, int]) -> dict[str, np.ndarray]:
    eps = 1e-6
    if name == "rmsnorm":
        x = inp["x"]
        return {"out": x / np.sqrt((x**2).mean(-1, keepdims=True) + eps) * inp["weight"]}
    if name == "rmsnorm_noweight":
        x = inp["x"]
        return {"out": x / np.sqrt((x**2).mean(-1, keepdims=True) + eps)}
    if name == "layernorm_modulate":
        x = inp["x"]
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return {"out": (x - mu) / np.sqrt(var + eps) * (1 + inp["scale"][:, None]) + inp["shift"][:, None]}
    if name == "gelu_tanh":
        return {"out": _gelu_tanh(inp["x"])}
    if name == "geglu":
        d = s["dim"]
        return {"out": inp["x"][:, :d] * _gelu_erf(inp["x"][:, d:])}
    if name == "rope":
        out = {}
        for src, dst in (("q", "q_out"), ("k", "k_out")):
            x = inp[src]
            o = np.empty_like(x)
            for t in range(s["seq"]):
                for i in range(s["head_dim"] // 2):
                    c, sn = inp["cos"][t, i], inp["sin"][t, i]
                    o[..., t, 2 * i] = x[..., t, 2 * i] * c - x[..., t, 2 * i + 1] * sn
                    o[..., t, 2 * i + 1] = x[..., t, 2 * i + 1] * c + x[..., t, 2 * i] * sn
            out[dst] = o
        return out
    q, k, v = inp["q"], inp["k"], inp["v"]
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    p = np.exp(scores - scores.max(-1, keepdims=True))
    return {"out": (p / p.sum(-1, keepdims=True)) @ v}


def test_the_bundled_problem_set_is_exactly_the_contracted_one() -> None:
    assert set(REGISTRY.names()) == EXPECTED
    assert REGISTRY.invalid == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reference_matches_hand_computed_float64_values(name: str) -> None:
    problem = REGISTRY.get(name)
    inputs = _inputs(name)
    got = problem.reference(inputs, SMALL[name])
    want = _by_hand(name, {k: _np(v) for k, v in inputs.items()}, SMALL[name])
    assert set(got) == {p.name for p in problem.outputs}
    for key, value in want.items():
        assert got[key].dtype in (torch.float32, torch.float64), "references are float32 or better"
        np.testing.assert_allclose(_np(got[key]), value, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_abi_shapes_and_inputs_are_consistent(name: str) -> None:
    problem = REGISTRY.get(name)
    sizes_names = set(problem.size_names)
    assert problem.param_sizes() == [8 if isinstance(p, Pointer) else 4 for p in problem.abi]
    assert CHECK_ONLY_SET in problem.shapes, "every problem has ragged shapes"
    assert any(n != CHECK_ONLY_SET for n in problem.shapes), "and at least one timed shape set"
    for _, sizes in problem.shape_list():
        assert set(sizes) == sizes_names
        assert problem.bytes_moved(sizes) > 0 and problem.flops(sizes) > 0
        assert all(
            math.prod(problem.tensor_shape(p, sizes)) < 2**31 for p in problem.abi if isinstance(p, Pointer)
        )
    for p in problem.abi:
        if isinstance(p, Scalar) and not p.is_size:
            assert isinstance(p.value, float)
    inputs = _inputs(name)
    assert set(inputs) == {p.name for p in problem.inputs}
    for p in problem.inputs:
        assert tuple(inputs[p.name].shape) == problem.tensor_shape(p, SMALL[name])
        assert inputs[p.name].dtype == torch_dtype(p.dtype)
        assert inputs[p.name].is_contiguous()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_inputs_depend_on_the_seed_and_are_never_all_zero(name: str) -> None:
    a, b = _inputs(name, 1), _inputs(name, 2)
    for key in a:
        assert not torch.equal(a[key], b[key])
        assert bool(a[key].ne(0).any())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_pytorch_bf16_baseline_meets_the_problems_own_tolerance(name: str) -> None:
    problem = REGISTRY.get(name)
    inputs = _inputs(name, 3)
    expected = problem.reference(inputs, SMALL[name])
    got = problem.torch_op(inputs, SMALL[name])
    for p in problem.outputs:
        atol, rtol = problem.tolerance[p.dtype]
        result = compare(got[p.name], expected[p.name], atol=atol, rtol=rtol, name=p.name)
        assert result.passed, result.report


def test_attention_scale_and_rope_halves_follow_the_contract() -> None:
    hd64 = REGISTRY.get("attention_hd64").scalar_values({"batch": 1, "heads": 1, "seq_q": 1, "seq_kv": 1})
    assert hd64["scale"] == pytest.approx(1 / 8)
    rope = REGISTRY.get("rope")
    cos = next(p for p in rope.abi if p.name == "cos")
    assert rope.tensor_shape(cos, {"batch": 1, "heads": 1, "seq": 7, "head_dim": 64}) == (7, 32)
