"""`kernels check`: the bundled project passes; copies broken in the ways people break build.toml
fail with a message that names the field and says what to write instead."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kernel_skills.cli import main
from kernel_skills.errors import RefusedInput
from kernel_skills.kernelbuilder import CheckResult, check_project


def _edit_build_toml(project: Path, old: str, new: str, count: int = 1) -> None:
    path = project / "build.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in build.toml"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _errors(result: CheckResult) -> dict[str, str]:
    assert not result.valid
    return {issue.field: issue.message for issue in result.errors}


def test_bundled_kernel_project_passes_the_check(kernels_dir: Path) -> None:
    result = check_project(kernels_dir)
    assert result.valid, result.errors
    assert result.name == "diffusers-h100-kernels"
    assert set(result.kernels) == {"rmsnorm", "layernorm_modulate", "gelu_tanh", "geglu", "rope", "attention"}
    assert result.warnings == []


def test_general_cuda_capabilities_is_rejected_with_where_capabilities_go(project_copy: Path) -> None:
    _edit_build_toml(project_copy, "[general.hub]", '[general.cuda]\ncapabilities = ["9.0"]\n\n[general.hub]')
    message = _errors(check_project(project_copy))["general.cuda.capabilities"]
    assert "cuda-capabilities" in message and "[kernel.<name>]" in message
    assert "minver" in message  # says what [general.cuda] does accept


def test_missing_edition_is_an_error(project_copy: Path) -> None:
    _edit_build_toml(project_copy, "edition = 5\n", "")
    assert "general.edition" in _errors(check_project(project_copy))


def test_an_older_edition_is_an_error_that_points_to_update_build(project_copy: Path) -> None:
    _edit_build_toml(project_copy, "edition = 5", "edition = 4")
    assert "update-build" in _errors(check_project(project_copy))["general.edition"]


def test_missing_required_general_keys_are_each_reported(project_copy: Path) -> None:
    _edit_build_toml(project_copy, 'license = "Apache-2.0"\n', "")
    _edit_build_toml(project_copy, "version = 1\n", "")
    errors = _errors(check_project(project_copy))
    assert {"general.license", "general.version"} <= set(errors)


def test_wrong_types_and_values_in_general_are_reported(project_copy: Path) -> None:
    _edit_build_toml(project_copy, 'name = "diffusers-h100-kernels"', 'name = "Diffusers_H100"')
    _edit_build_toml(project_copy, 'backends = ["cuda"]', 'backends = ["cuda", "opencl"]')
    _edit_build_toml(project_copy, "version = 1", 'version = "1"')
    errors = _errors(check_project(project_copy))
    assert "lowercase" in errors["general.name"]
    assert "opencl" in errors["general.backends[1]"]
    assert "integer" in errors["general.version"]


def test_unknown_key_in_a_kernel_table_lists_the_accepted_keys(project_copy: Path) -> None:
    _edit_build_toml(
        project_copy, '[kernel.rope]\nbackend = "cuda"', '[kernel.rope]\nbackend = "cuda"\nlanguage = "cuda"'
    )
    message = _errors(check_project(project_copy))["kernel.rope.language"]
    assert "cuda-capabilities" in message and "src" in message


def test_invalid_cuda_capability_strings_are_rejected(project_copy: Path) -> None:
    _edit_build_toml(
        project_copy,
        'cuda-capabilities = ["9.0"]',
        'cuda-capabilities = ["sm_90a", "8.0a", "9.0a", "12.0+PTX"]',
    )
    errors = _errors(check_project(project_copy))
    assert "MAJOR.MINOR" in errors["kernel.rmsnorm.cuda-capabilities[0]"]
    assert "9.0" in errors["kernel.rmsnorm.cuda-capabilities[1]"]
    assert "kernel.rmsnorm.cuda-capabilities[2]" not in errors
    assert "kernel.rmsnorm.cuda-capabilities[3]" not in errors


def test_a_missing_source_file_is_reported_with_its_build_toml_entry(project_copy: Path) -> None:
    (project_copy / "rope" / "rope_launch.cu").unlink()
    errors = _errors(check_project(project_copy))
    assert "does not exist" in errors["kernel.rope.src[2]"]


def test_a_source_path_outside_the_project_is_rejected(project_copy: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.cu").write_text("// not in the project\n", encoding="utf-8")
    _edit_build_toml(project_copy, '"rope/rope.cu"', '"../outside.cu"')
    assert "outside the project" in _errors(check_project(project_copy))["kernel.rope.src[1]"]


def test_binding_without_registration_macros_is_rejected(project_copy: Path) -> None:
    binding = project_copy / "torch-ext" / "torch_binding.cpp"
    text = binding.read_text(encoding="utf-8")
    text = text.replace("TORCH_LIBRARY_EXPAND(TORCH_EXTENSION_NAME, ops)", "TORCH_LIBRARY(my_ops, ops)")
    binding.write_text(text.replace("REGISTER_EXTENSION(TORCH_EXTENSION_NAME)", ""), encoding="utf-8")
    result = check_project(project_copy)
    messages = [issue.message for issue in result.errors if issue.field == "torch.src"]
    assert any("TORCH_LIBRARY_EXPAND" in m for m in messages)
    assert any("REGISTER_EXTENSION" in m for m in messages)


def test_missing_python_package_is_reported_under_its_expected_path(project_copy: Path) -> None:
    (project_copy / "torch-ext" / "diffusers_h100_kernels" / "__init__.py").unlink()
    assert "torch-ext/diffusers_h100_kernels/__init__.py" in _errors(check_project(project_copy))


def test_setup_py_and_pybind11_are_rejected(project_copy: Path) -> None:
    (project_copy / "setup.py").write_text("from setuptools import setup\nsetup()\n", encoding="utf-8")
    (project_copy / "rope" / "extra.cpp").write_text("#include <pybind11/pybind11.h>\n", encoding="utf-8")
    errors = _errors(check_project(project_copy))
    assert "setup.py" in errors
    assert "pybind11" in errors["rope/extra.cpp"]


def test_a_missing_framework_table_is_an_error(project_copy: Path) -> None:
    text = (project_copy / "build.toml").read_text(encoding="utf-8")
    text = re.sub(r"\[torch\]\nsrc = \[[^\]]*\]\n", "", text)
    (project_copy / "build.toml").write_text(text, encoding="utf-8")
    assert "[torch]" in _errors(check_project(project_copy))["torch"]


def test_invalid_toml_is_reported_not_raised(project_copy: Path) -> None:
    (project_copy / "build.toml").write_text("[general\nname = \n", encoding="utf-8")
    assert "not valid TOML" in _errors(check_project(project_copy))["build.toml"]


def test_missing_directory_is_refused() -> None:
    with pytest.raises(RefusedInput, match="no such directory"):
        check_project(Path("/nonexistent/kernel-project"))


def test_cli_exit_codes_are_0_valid_1_invalid_2_bad_usage(
    kernels_dir: Path, project_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kernels", "check", str(kernels_dir)]) == 0
    assert "valid" in capsys.readouterr().out

    _edit_build_toml(project_copy, "edition = 5", "edition = 3")
    assert main(["kernels", "check", str(project_copy), "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["valid"] is False
    assert document["errors"][0]["field"] == "general.edition"

    assert main(["kernels", "check", str(project_copy / "missing"), "--json"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["ok"] is False
    assert "no such directory" in captured.err
