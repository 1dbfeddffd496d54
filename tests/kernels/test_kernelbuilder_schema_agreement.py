"""Where our build.toml checker and kernel-builder's own parser (kernels-data, config/v5.rs) could
disagree, one row each: the build.toml edit, and what kernel-builder does with it.

Our checker runs on every row. kernel-builder's parser runs too where a kernels-data with a build.toml
parser (``kernels_data.Build``) is installed; PyPI's kernels-data 0.16.2 has none (only metadata,
digest and name types), so that half is skipped with that reason until a release ships it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel_skills.kernelbuilder import check_project

NOARCH_TOML = """\
[general]
name = "noarch-ops"
version = 1
edition = 5
license = "Apache-2.0"
backends = ["cuda"]

[torch-noarch]
{noarch}
"""

# (case, build.toml edit on the bundled project or a noarch project, kernel-builder accepts it,
#  the field our checker reports when it refuses)
CASES = [
    ("bundled project as shipped", None, True, None),
    (
        "cutlass_4_4 is a known dependency",
        ('depends = ["torch"]', 'depends = ["torch", "cutlass_4_4"]'),
        True,
        None,
    ),
    (
        "cutlass_4_5 is a known dependency",
        ('depends = ["torch"]', 'depends = ["torch", "cutlass_4_5"]'),
        True,
        None,
    ),
    (
        "an unknown cutlass is refused",
        ('depends = ["torch"]', 'depends = ["torch", "cutlass_9_9"]'),
        False,
        "depends",
    ),
    (
        "[general] minver (kernel-builder >= this version) is a v5 key",
        ("edition = 5", 'edition = 5\nminver = "0.12.0"'),
        True,
        None,
    ),
    (
        "noarch capabilities are spelled cuda_capabilities",
        ("noarch", 'cuda_capabilities = ["9.0"]'),
        True,
        None,
    ),
    ("noarch rocm_archs", ("noarch", 'rocm_archs = ["gfx942"]'), True, None),
    (
        "the kebab spelling is an unknown key in [torch-noarch]",
        ("noarch", 'cuda-capabilities = ["9.0"]'),
        False,
        "torch-noarch.cuda-capabilities",
    ),
    (
        "noarch capability values are checked",
        ("noarch", 'cuda_capabilities = ["sm_90"]'),
        False,
        "cuda_capabilities",
    ),
    (
        "[general.cuda] capabilities is not a key",
        ("[general.hub]", '[general.cuda]\ncapabilities = ["9.0"]\n\n[general.hub]'),
        False,
        "general.cuda.capabilities",
    ),
]


def _project(case_edit: tuple[str, str] | None, project_copy: Path, tmp_path: Path) -> Path:
    if case_edit is not None and case_edit[0] == "noarch":
        project = tmp_path / "noarch-ops"
        package = project / "torch-ext" / "noarch_ops"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("def op(x):\n    return x\n", encoding="utf-8")
        (project / "build.toml").write_text(NOARCH_TOML.format(noarch=case_edit[1]), encoding="utf-8")
        (project / "flake.nix").write_text("{ }\n", encoding="utf-8")
        return project
    if case_edit is not None:
        path = project_copy / "build.toml"
        text = path.read_text(encoding="utf-8")
        assert case_edit[0] in text
        path.write_text(text.replace(case_edit[0], case_edit[1], 1), encoding="utf-8")
    return project_copy


@pytest.mark.parametrize(("case", "edit", "accepted", "field"), CASES, ids=[c[0] for c in CASES])
def test_our_checker_agrees_with_kernel_builder(case, edit, accepted, field, project_copy, tmp_path):
    result = check_project(_project(edit, project_copy, tmp_path))
    errors = {issue.field: issue.message for issue in result.errors}
    if accepted:
        assert result.valid, errors
    else:
        assert any(field in name for name in errors), errors


@pytest.mark.parametrize(("case", "edit", "accepted", "field"), CASES, ids=[c[0] for c in CASES])
def test_kernel_builders_own_parser_agrees_with_the_table(
    case, edit, accepted, field, project_copy, tmp_path
):
    kernels_data = pytest.importorskip("kernels_data", reason="kernels-data is not installed")
    build = getattr(kernels_data, "Build", None)
    if build is None:
        pytest.skip(
            f"kernels-data {getattr(kernels_data, '__version__', '?')} has no build.toml parser "
            "(kernels_data.Build); PyPI's 0.16.2 ships only metadata, digest and name types"
        )
    project = _project(edit, project_copy, tmp_path)
    if accepted:
        build.open(project)
    else:
        with pytest.raises(Exception):  # noqa: B017 - any parse error is a refusal
            build.open(project)
