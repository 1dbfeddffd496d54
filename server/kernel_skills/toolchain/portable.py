"""A compile that travels: the cached report, cubin and PTX of one ``compile_id`` as one JSON-safe model.

A compile run on another machine (a Ray worker) leaves its cubin in that machine's cache; the
artifact carries it back so the ``compile_id`` works here too (no shared file system assumed).
"""

from __future__ import annotations

import base64
from pathlib import Path

from pydantic import BaseModel, Field

from kernel_skills.errors import CompileError, RefusedInput
from kernel_skills.toolchain import cache
from kernel_skills.toolchain.models import CompileResult


class CompileArtifact(BaseModel):
    compile_id: str
    report: CompileResult = Field(description="the request-independent report, as the cache stores it")
    cubin_b64: str
    ptx: str | None = None


def export_artifact(compile_id: str, root: Path | None = None) -> CompileArtifact:
    """The cache entry of a successful compile (RefusedInput if unknown or expired)."""
    cubin = cache.load_cubin(compile_id, root)
    report = cache.load(compile_id, root)
    if report is None:
        raise RefusedInput(f"no report for compile id {compile_id}: expired (cache cleared); compile again")
    return CompileArtifact(
        compile_id=compile_id,
        report=report,
        cubin_b64=base64.b64encode(cubin).decode("ascii"),
        ptx=cache.load_ptx(compile_id, root),
    )


def adopt_artifact(artifact: CompileArtifact, root: Path | None = None) -> None:
    """Store a compile made elsewhere in this machine's cache, unless it is already there."""
    if not cache.is_compile_id(artifact.compile_id):
        raise CompileError(f"a remote compile sent a malformed compile id {artifact.compile_id!r}")
    if cache.has_cubin(artifact.compile_id, root):
        return
    try:
        cubin = base64.b64decode(artifact.cubin_b64, validate=True)
    except ValueError as exc:
        raise CompileError(f"a remote compile sent a malformed cubin ({exc})") from exc
    cache.store(artifact.compile_id, artifact.report, cubin, artifact.ptx, root)


__all__ = ["CompileArtifact", "adopt_artifact", "export_artifact"]
