"""Result of checking a kernel-builder project. Field names follow the catalog's validate shape."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Issue(BaseModel):
    """One finding: where (a dotted build.toml path or a file path) and what to do about it."""

    field: str = Field(
        description='e.g. "general.edition", "kernel.rmsnorm.src[1]", "torch-ext/x/__init__.py"'
    )
    message: str


class CheckResult(BaseModel):
    """``valid`` is true when there are no errors; warnings never make a project invalid."""

    path: str = Field(description="the project directory that was checked")
    name: str | None = Field(default=None, description="general.name, when it could be read")
    valid: bool
    errors: list[Issue] = Field(default_factory=list)
    warnings: list[Issue] = Field(default_factory=list)
    kernels: list[str] = Field(default_factory=list, description="the [kernel.<name>] sections found")
