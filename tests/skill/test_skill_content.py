"""The skill documents exactly the contracts the server enforces: ABIs, lint rule ids, build.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from tests.shared_runtime import RUNTIME


def _problem_abis() -> dict[str, str]:
    """The problems' C parameter lists, from the harness's own definitions (which tests/kernels pins
    to the contract table and to the reference kernels)."""
    from kernel_skills.bench.registry import load_registry

    return {name: problem.signature for name, problem in load_registry(use_env=False).problems.items()}


def _params(text: str) -> list[str]:
    text = text.replace("__restrict__", "")
    return [" ".join(p.split()) for p in text.strip().strip("()").split(",")]


def _documented_abis(body: str) -> dict[str, list[str]]:
    abis: dict[str, list[str]] = {}
    for names, params in re.findall(r"^\| (`[a-z0-9_]+`(?:, `[a-z0-9_]+`)*) \| `(\([^`]*\))` \|", body, re.M):
        for name in re.findall(r"`([a-z0-9_]+)`", names):
            abis[name] = _params(params)
    return abis


def test_documented_abis_match_the_problem_definitions(skill_parts) -> None:
    _, body = skill_parts
    assert _documented_abis(body) == {name: _params(sig) for name, sig in _problem_abis().items()}


def test_reading_reports_has_one_section_per_lint_rule(skill_dir: Path) -> None:
    from kernel_skills.toolchain.lint import RULES

    text = (skill_dir / "references/reading-reports.md").read_text(encoding="utf-8")
    sections = re.findall(r"^### `([a-z0-9-]+)`$", text, re.M)
    assert sorted(sections) == sorted(RULES)
    assert len(sections) == len(set(sections))


def _toml_blocks(text: str) -> list[dict]:
    return [tomllib.loads(block) for block in re.findall(r"```toml\n(.*?)```", text, re.S)]


def test_build_toml_examples_use_only_keys_the_schema_accepts(skill_dir: Path) -> None:
    text = (skill_dir / "references/kernel-builder.md").read_text(encoding="utf-8")
    (build,) = _toml_blocks(text)
    # Key sets of huggingface/kernels kernels-data/src/config/v5.rs (serde deny_unknown_fields).
    general = build["general"]
    assert general["edition"] == 5
    assert isinstance(general["version"], int)
    assert {"name", "version", "edition", "license", "backends"} <= set(general)  # required
    assert set(general) <= {
        "name", "version", "edition", "license", "backends", "upstream", "source", "python-depends",
        "hub", "cuda", "neuron", "xpu",
    }  # fmt: skip
    assert set(general["cuda"]) <= {"minver", "maxver", "python-depends", "kernel-depends"}
    assert set(general["hub"]) <= {"repo-id", "branch"}
    assert set(build["torch"]) <= {"src", "include", "pyext", "minver", "maxver", "stable-abi", "cxx-flags"}
    for kernel in build["kernel"].values():
        assert {"backend", "depends", "src"} <= set(kernel)
        assert set(kernel) <= {
            "backend", "depends", "src", "include", "cuda-capabilities", "cuda-flags", "cuda-minver",
            "cxx-flags",
        }  # fmt: skip


def test_skill_states_the_facts_popular_sources_get_wrong(skill_dir: Path, skill_parts) -> None:
    _, body = skill_parts
    hopper = (skill_dir / "references/hopper-features.md").read_text(encoding="utf-8")
    arch = (skill_dir / "references/h100-architecture.md").read_text(encoding="utf-8")
    assert "`cp.async` is sm_80+" in body
    assert "**cp.async is sm_80 (Ampere), not sm_90.**" in hopper
    assert "**wgmma and setmaxnreg need `sm_90a`, not `sm_90`.**" in hopper
    assert "227 KB, **only with the opt-in**" in arch
    assert "`capabilities` there is invalid" in body


def _worked_kernels(skill_dir: Path) -> dict[str, str]:
    text = (skill_dir / "references/memory-bound-kernels.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```cuda\n(.*?)```", text, re.S) if 'extern "C"' in b]
    return {re.search(r"\)\s*(\w+)\(", b[b.index('extern "C"') :]).group(1): b for b in blocks}


def test_the_worked_kernels_are_the_rmsnorm_and_gelu_tanh_problems(skill_dir: Path) -> None:
    kernels = _worked_kernels(skill_dir)
    assert set(kernels) == {"rmsnorm", "gelu_tanh"}
    for name, source in kernels.items():
        params = re.search(rf"{name}\(([^)]*)\)", source[source.index('extern "C"') :]).group(1)
        assert _params(params) == _params(_problem_abis()[name])


@pytest.mark.parametrize("name", ["rmsnorm", "gelu_tanh"])
def test_the_worked_kernels_compile_clean_with_16_byte_accesses(skill_dir: Path, name: str) -> None:
    """Real NVRTC through the server's own compile path: what the skill claims about it must hold."""
    from kernel_skills.toolchain import CompileRequest, compile_source

    text = (skill_dir / "references/memory-bound-kernels.md").read_text(encoding="utf-8")
    result = compile_source(
        CompileRequest(source=_worked_kernels(skill_dir)[name], block_size=256), toolchain=RUNTIME.toolchain
    )
    assert result.ok, result.diagnostics
    (kernel,) = result.kernels
    assert kernel.name == name
    assert (kernel.spill_stores, kernel.spill_loads, kernel.stack_bytes) == (0, 0, 0)
    assert kernel.param_sizes == [8 if "*" in p else 4 for p in _params(_problem_abis()[name])]
    assert f"{kernel.registers} registers" in text
    assert {"ldg.128", "stg.128"} <= set(result.sass.features)
    assert "local-memory" not in result.sass.features
    assert result.lint == []


def test_the_documented_kernel_builder_layout_passes_kernels_check(skill_dir: Path, tmp_path: Path) -> None:
    """Build the project kernel-builder.md describes, from its own snippets, and validate it."""
    from kernel_skills.kernelbuilder import check_project

    text = (skill_dir / "references/kernel-builder.md").read_text(encoding="utf-8")
    (toml,) = re.findall(r"```toml\n(.*?)```", text, re.S)
    binding, wrapper = re.findall(r"```cpp\n(.*?)```", text, re.S)
    init_py = re.findall(r"```python\n(.*?)```", text, re.S)[0]
    name = tomllib.loads(toml)["general"]["name"]
    project = tmp_path / name
    package = project / "torch-ext" / name.replace("-", "_")
    package.mkdir(parents=True)
    (project / "rmsnorm").mkdir()
    (project / "build.toml").write_text(toml, encoding="utf-8")
    (project / "flake.nix").write_text("{ }\n", encoding="utf-8")
    (project / "torch-ext" / "torch_binding.cpp").write_text(binding, encoding="utf-8")
    (project / "torch-ext" / "torch_binding.h").write_text(
        "#pragma once\n#include <torch/torch.h>\n"
        "void rmsnorm(torch::Tensor& out, torch::Tensor const& x, torch::Tensor const& weight,\n"
        "             double eps);\n",
        encoding="utf-8",
    )
    (project / "rmsnorm" / "rmsnorm.cu").write_text(wrapper, encoding="utf-8")
    (package / "__init__.py").write_text(init_py, encoding="utf-8")
    result = check_project(project)
    assert result.valid, result.errors
    assert (result.errors, result.warnings) == ([], [])
