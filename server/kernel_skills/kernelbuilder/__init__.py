"""Checks a Hugging Face kernel-builder project (build.toml edition 5 + layout) without Nix."""

from kernel_skills.kernelbuilder.check import check_project
from kernel_skills.kernelbuilder.models import CheckResult, Issue

__all__ = ["CheckResult", "Issue", "check_project"]
