"""Compile CUDA C++ with NVRTC (no GPU needed) and report what the kernel will do. No MCP imports.

>>> res = compile_source(CompileRequest(source=src, block_size=256), toolchain=runtime.toolchain)
>>> res.ok, res.kernels[0].registers, res.sass.features, [f.rule for f in res.lint]

``toolkit_relative(path)`` / ``client_ptx(ptx)``: header paths of this machine as a client sees them
(``cooperative_groups/details/info.h``), e.g. for the ``.file`` lines of PTX compiled with line info.
"""

from kernel_skills.toolchain.compiler import (
    Toolchain,
    compile_source,
    load_cubin,
    load_ptx,
    load_report,
    stored_report,
)
from kernel_skills.toolchain.headers import client_ptx, toolkit_relative
from kernel_skills.toolchain.includes import SUBMISSION_NAME
from kernel_skills.toolchain.locate import toolkit
from kernel_skills.toolchain.models import (
    CompileRequest,
    CompileResult,
    Diagnostic,
    KernelReport,
    LintFinding,
    Occupancy,
    SassKernel,
    SassSummary,
)
from kernel_skills.toolchain.portable import CompileArtifact, adopt_artifact, export_artifact
from kernel_skills.toolchain.sass import SASS_FEATURES

__all__ = [
    "SASS_FEATURES",
    "SUBMISSION_NAME",
    "CompileArtifact",
    "CompileRequest",
    "CompileResult",
    "Diagnostic",
    "KernelReport",
    "LintFinding",
    "Occupancy",
    "SassKernel",
    "SassSummary",
    "Toolchain",
    "adopt_artifact",
    "client_ptx",
    "compile_source",
    "export_artifact",
    "load_cubin",
    "load_ptx",
    "load_report",
    "stored_report",
    "toolkit",
    "toolkit_relative",
]
