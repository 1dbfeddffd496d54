"""Element-wise comparison with a readable mismatch report (plain tensors; CPU or GPU).

Every element is checked: ``|actual - expected| <= atol + rtol * |expected|``, computed in float64.
NaN and Inf in the output never pass. The report says how many elements differ, where the
worst one is (an index tuple in the output's shape), and the first few mismatches, in the spirit
of reference-kernels' ``verbose_allclose``.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel

MAX_LISTED = 5
_CHUNK = 1 << 22


class Mismatch(BaseModel):
    index: list[int]
    actual: float
    expected: float


class Comparison(BaseModel):
    name: str
    passed: bool
    total: int
    n_bad: int
    n_nan: int
    n_inf: int
    atol: float
    rtol: float
    max_abs_error: float | None
    max_rel_error: float | None
    worst: Mismatch | None
    first_mismatches: list[Mismatch]
    report: str


def unravel(flat_index: int, shape: tuple[int, ...]) -> list[int]:
    index = []
    for dim in reversed(shape):
        index.append(flat_index % dim if dim else 0)
        flat_index //= dim if dim else 1
    return list(reversed(index))


def _fmt(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return f"{value:.6g}"


def _at(index: list[int]) -> str:
    return "(" + ", ".join(str(i) for i in index) + ")"


def _first_bad(bad_flat: Any, limit: int) -> list[int]:
    """Flat indices of the first ``limit`` bad elements, scanning in chunks (bounded memory)."""
    found: list[int] = []
    for start in range(0, bad_flat.numel(), _CHUNK):
        hits = bad_flat[start : start + _CHUNK].nonzero().flatten()[: limit - len(found)]
        found.extend(int(h) + start for h in hits.tolist())
        if len(found) >= limit:
            break
    return found


def _rule(a: Any, e: Any, atol: float, rtol: float) -> tuple[Any, Any, Any]:
    """(|a - e|, the allowed error, the failing elements), in float64."""
    diff = (a - e).abs()
    tol = atol + rtol * e.abs()
    return diff, tol, ~(diff <= tol)  # NaN compares False, so NaN is bad; Inf gives Inf/NaN diff: bad


def count_out_of_tolerance(actual: Any, expected: Any, *, atol: float, rtol: float) -> Any:
    """How many elements fail ``compare``'s rule, as a 0-d device tensor (no host sync): cheap
    enough to run after every timed call."""
    import torch

    a = actual.detach().to(torch.float64).flatten()
    e = expected.detach().to(device=a.device, dtype=torch.float64).flatten()
    return _rule(a, e, atol, rtol)[2].sum()


def compare(actual: Any, expected: Any, *, atol: float, rtol: float, name: str = "out") -> Comparison:
    import torch

    shape = tuple(expected.shape)
    if tuple(actual.shape) != shape:
        raise ValueError(f"{name}: shape {tuple(actual.shape)} does not match the reference's {shape}")
    a = actual.detach().to(torch.float64).flatten()
    e = expected.detach().to(device=a.device, dtype=torch.float64).flatten()
    total = a.numel()
    n_nan = int(torch.isnan(a).sum())
    n_inf = int(torch.isinf(a).sum())
    diff, tol, bad = _rule(a, e, atol, rtol)
    n_bad = int(bad.sum())
    finite = torch.isfinite(diff)
    max_abs = float(diff[finite].max()) if bool(finite.any()) else None
    rel = diff / e.abs().clamp_min(1e-12)
    max_rel = float(rel[finite].max()) if bool(finite.any()) else None
    worst = None
    first: list[Mismatch] = []
    if n_bad:
        ratio = torch.nan_to_num(diff / tol.clamp_min(1e-300), nan=math.inf, posinf=math.inf)
        w = int(torch.argmax(ratio))
        worst = Mismatch(index=unravel(w, shape), actual=float(a[w]), expected=float(e[w]))
        first = [
            Mismatch(index=unravel(i, shape), actual=float(a[i]), expected=float(e[i]))
            for i in _first_bad(bad, MAX_LISTED)
        ]
    comparison = Comparison(
        name=name,
        passed=n_bad == 0,
        total=total,
        n_bad=n_bad,
        n_nan=n_nan,
        n_inf=n_inf,
        atol=atol,
        rtol=rtol,
        max_abs_error=max_abs,
        max_rel_error=max_rel,
        worst=worst,
        first_mismatches=first,
        report="",
    )
    comparison.report = render(comparison)
    return comparison


def render(c: Comparison) -> str:
    rule = f"|actual - expected| <= {c.atol:g} + {c.rtol:g} * |expected|"
    errors = f"max abs error {_fmt(c.max_abs_error) if c.max_abs_error is not None else 'n/a'}"
    errors += f", max rel error {_fmt(c.max_rel_error) if c.max_rel_error is not None else 'n/a'}"
    if c.passed:
        return f"{c.name}: all {c.total:,} elements within {rule}; {errors}."
    if c.n_nan == c.total:
        return (
            f"{c.name}: every one of {c.total:,} elements is NaN: the kernel wrote nothing "
            "(outputs are poisoned with NaN before each launch; check the grid covers the output)."
        )
    pct = 100.0 * c.n_bad / c.total
    lines = [f"{c.name}: {c.n_bad:,} of {c.total:,} elements ({pct:.3g}%) fail {rule}; {errors}."]
    if c.n_nan or c.n_inf:
        hint = " (NaN usually means elements never written: outputs are poisoned with NaN)" if c.n_nan else ""
        lines.append(f"  {c.n_nan:,} NaN and {c.n_inf:,} Inf in the output{hint}.")
    if c.worst is not None:
        w = c.worst
        lines.append(f"  worst at {_at(w.index)}: got {_fmt(w.actual)}, expected {_fmt(w.expected)}.")
    if c.first_mismatches:
        listed = "; ".join(
            f"{_at(m.index)} got {_fmt(m.actual)} expected {_fmt(m.expected)}" for m in c.first_mismatches
        )
        lines.append(f"  first mismatches: {listed}.")
    return "\n".join(lines)


__all__ = ["MAX_LISTED", "Comparison", "Mismatch", "compare", "count_out_of_tolerance", "render", "unravel"]
