"""One check of a battery case's verdict, shared by the emulator and the GPU battery."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kernel_skills.bench.models import BenchResult
from kernel_skills.errors import EmulatorUnsupported, KernelFault, RefusedInput, Timeout

from .cases import Case


def _mentions(text: str, wanted: tuple[str, ...]) -> bool:
    return not wanted or any(w.lower() in text.lower() for w in wanted)


def _skip_if_header_pending(case: Case, what: str) -> None:
    if case.header_pending is None:
        return
    pytest.skip(f"{case.file}: {case.header_pending} (issue 19, stage 0); today: {what[:300]}")


def assert_verdict(case: Case, judge: Callable[[], BenchResult], *, where: str) -> None:
    """Judge ``case`` and assert its expected verdict (see cases.py for what a finding matches).

    A refusal from the emulator (EmulatorUnsupported: a limit of the engine, not a verdict) skips the
    case with the engine's own words; so does a compile failure on a header listed as pending."""
    try:
        result = judge()
    except EmulatorUnsupported as exc:
        pytest.skip(f"{case.file}: the {where} does not run this kernel yet: {exc}")
    except RefusedInput as exc:
        _skip_if_header_pending(case, str(exc))
        raise
    except (KernelFault, Timeout) as exc:
        assert not case.correct, f"{case.file} is a correct kernel, but the {where} raised: {exc}"
        assert case.fault, f"{case.file}: expected a failed check, the {where} raised: {exc}"
        assert _mentions(str(exc), case.detail), f"{case.file}: expected one of {case.detail} in: {exc}"
        return
    failed = {c.name: c.detail for c in result.checks if not c.passed}
    if "compile" in failed:
        _skip_if_header_pending(case, failed["compile"])
    if case.correct:
        assert result.correct, f"{case.file} is a correct kernel, but the {where} failed: {failed}"
        return
    assert not result.correct, f"{case.file} is wrong, but the {where} passed it: {result.checks}"
    matching = {n: d for n, d in failed.items() if case.check is None or n.startswith(case.check)}
    assert matching, f"{case.file}: expected a failed {case.check!r} check, got {failed}"
    assert any(_mentions(f"{n}: {d}", case.detail) for n, d in matching.items()), (
        f"{case.file}: expected one of {case.detail} in the finding, got {matching}"
    )
