"""What the report says about real kernels compiled by the real NVRTC (no GPU needed)."""

from __future__ import annotations

from kernel_skills.toolchain import load_cubin
from kernel_skills.toolchain.lint import DOC_BASE, RULES


def rules(result) -> set[str]:
    return {finding.rule for finding in result.lint}


def test_clean_float4_kernel_compiles_with_16_byte_loads_and_no_lint(compile_kernel):
    result = compile_kernel("float4_scale.cu", block_size=256)

    assert result.ok and result.arch == "sm_90a"
    assert [d for d in result.diagnostics if d.severity in ("error", "fatal")] == []
    (kernel,) = result.kernels
    assert kernel.name == "scale_float4" and kernel.extern_c
    assert kernel.spill_stores == kernel.spill_loads == kernel.stack_bytes == 0
    assert {"ldg.128", "stg.128"} <= set(result.sass.features)
    assert result.sass.per_kernel[0].name == "scale_float4"
    assert result.sass.counts["global_load"] >= 1
    assert result.lint == []
    assert result.compile_id and load_cubin(result.compile_id)[:4] == b"\x7fELF"


def test_syntax_error_is_reported_at_its_line_and_column_with_a_code_frame(compile_kernel):
    result = compile_kernel("syntax_error.cu")

    assert not result.ok and result.compile_id is None and result.kernels == []
    error = next(d for d in result.diagnostics if d.severity == "error")
    assert (error.file, error.line, error.column) == ("kernel.cu", 3, 3)
    assert error.message == 'expected a ";"'
    assert "> 3 |   if (i < n) out[i] = 1.0f;" in error.excerpt
    assert "|   ^" in error.excerpt


def test_cp_async_kernel_shows_ldgsts_and_its_static_shared_memory(compile_kernel):
    result = compile_kernel("cp_async.cu", block_size=256)

    assert result.ok
    (kernel,) = result.kernels
    assert kernel.shared_bytes == 256 * 16
    assert kernel.barriers >= 1
    assert "cp.async" in result.sass.features
    assert result.sass.counts["async_copy"] >= 1


def test_register_pressure_under_maxrregcount_spills_and_is_linted(compile_kernel):
    relaxed = compile_kernel("pressure.cu")
    squeezed = compile_kernel("pressure.cu", options=["-maxrregcount=32"])

    assert relaxed.kernels[0].spill_stores == 0
    (kernel,) = squeezed.kernels
    assert kernel.registers <= 32
    assert kernel.spill_stores > 0 and kernel.spill_loads > 0
    assert "local-memory" in squeezed.sass.features
    spill = next(f for f in squeezed.lint if f.rule == "spills")
    assert spill.kernel == "pressure" and spill.line == 2
    assert spill.doc == DOC_BASE + "spills"
    assert squeezed.options == ["--maxrregcount=32"]


def test_wgmma_kernel_for_sm90a_shows_hgmma(compile_kernel):
    result = compile_kernel("wgmma.cu")

    assert result.ok
    assert {"wgmma", "tensor-core"} <= set(result.sass.features)
    assert result.sass.counts["tensor"] >= 1
    assert "sm90a-required" not in rules(result)


def test_wgmma_kernel_for_plain_sm90_fails_with_ptxas_errors_and_the_sm90a_lint(compile_kernel):
    result = compile_kernel("wgmma.cu", arch="sm_90")

    assert not result.ok
    messages = [d.message for d in result.diagnostics if d.severity in ("error", "fatal")]
    assert any("wgmma" in message and "sm_90" in message for message in messages)
    finding = next(f for f in result.lint if f.rule == "sm90a-required")
    assert finding.line == 7 and "sm_90a" in finding.message


def test_param_sizes_follow_the_signature_order(compile_kernel):
    result = compile_kernel("rmsnorm_signature.cu", block_size=128)

    (kernel,) = result.kernels
    assert kernel.name == "rmsnorm"
    assert kernel.param_sizes == [8, 8, 8, 4, 4, 4]
    assert "shfl" in result.sass.features


def test_scalar_loads_in_a_loop_get_the_vector_load_lint_unrolled_gathers_do_not(compile_kernel):
    scalar_loop = compile_kernel("rmsnorm_signature.cu")
    assert scalar_loop.sass.per_kernel[0].loop_global_loads >= 1
    finding = next(f for f in scalar_loop.lint if f.rule == "no-vector-loads")
    assert finding.line == 4 and "16-byte" in finding.message

    assert "no-vector-loads" not in rules(compile_kernel("float4_scale.cu"))
    unrolled = compile_kernel("pressure.cu")
    assert unrolled.sass.per_kernel[0].loop_global_loads == 0
    assert "no-vector-loads" not in rules(unrolled)


def test_occupancy_is_reported_for_the_callers_block_size(compile_kernel):
    result = compile_kernel("pressure.cu", block_size=256)

    occupancy = result.kernels[0].occupancy
    assert occupancy is not None and occupancy.block_size == 256
    assert occupancy.blocks_per_sm == min(occupancy.limits.values())
    assert occupancy.active_warps == occupancy.blocks_per_sm * 8
    assert compile_kernel("pressure.cu").kernels[0].occupancy is None


def test_mangled_template_kernel_is_demangled_and_linted_with_the_cupy_name(compile_kernel):
    result = compile_kernel("fp64_template.cu", block_size=256)

    (kernel,) = result.kernels
    assert kernel.name.startswith("_Z") and not kernel.extern_c
    assert kernel.demangled == "void scale<4>(float*)"
    not_c = next(f for f in result.lint if f.rule == "not-extern-c")
    assert 'extern "C"' in not_c.message and kernel.name in not_c.message
    assert "fp64" in result.sass.features
    fp64 = next(f for f in result.lint if f.rule == "fp64-in-kernel")
    assert fp64.line == 5 and "1.0f" in fp64.message


def test_local_array_without_spills_is_linted_as_local_memory(compile_kernel):
    result = compile_kernel("local_array.cu")

    (kernel,) = result.kernels
    assert kernel.stack_bytes > 0 and kernel.spill_stores == 0
    assert "local-memory" in rules(result) and "spills" not in rules(result)


def test_launch_shape_lints_block_size_dynamic_smem_and_low_occupancy(compile_kernel):
    result = compile_kernel("dynamic_smem.cu", block_size=100, shared_mem=200 * 1024)

    assert {"block-size-multiple-of-32", "dynamic-smem-opt-in", "low-occupancy"} <= rules(result)
    opt_in = next(f for f in result.lint if f.rule == "dynamic-smem-opt-in")
    assert opt_in.line == 3 and "max_dynamic_shared_size_bytes" in opt_in.message
    occupancy = result.kernels[0].occupancy
    assert occupancy.limited_by == "shared_memory" and occupancy.blocks_per_sm == 1


def test_high_registers_without_launch_bounds_is_linted(compile_kernel):
    result = compile_kernel("pressure.cu", block_size=256)

    assert result.kernels[0].occupancy.limited_by == "registers"
    assert "high-registers" in rules(result)


def test_every_lint_doc_points_into_the_bundled_skill():
    assert RULES == (  # the rule ids are a contract: findings link to skill sections named after them
        "spills",
        "local-memory",
        "high-registers",
        "dynamic-smem-opt-in",
        "sm90a-required",
        "no-vector-loads",
        "not-extern-c",
        "low-occupancy",
        "block-size-multiple-of-32",
        "fp64-in-kernel",
    )
    assert DOC_BASE == "skill://h100-cuda-kernels/references/reading-reports.md#"


def test_ptx_is_returned_only_on_request_and_also_from_the_cache(compile_kernel):
    assert compile_kernel("float4_scale.cu").ptx is None
    fresh = compile_kernel("float4_scale.cu", want_ptx=True)
    assert fresh.cached and ".entry scale_float4" in fresh.ptx


def test_tma_bulk_copy_mma_sync_and_8_byte_loads_are_recognised(compile_kernel):
    result = compile_kernel("hopper_mix.cu")

    assert result.ok, result.log
    assert {"tma", "ldg.64", "tensor-core", "mbarrier"} <= set(result.sass.features)
    assert "wgmma" not in result.sass.features


def test_public_surface_is_pinned():
    import kernel_skills.toolchain as toolchain
    from kernel_skills.toolchain import CompileResult, KernelReport, LintFinding

    assert {"compile_source", "load_cubin", "CompileRequest", "CompileResult"} <= set(toolchain.__all__)
    # The stable field names are pinned in tests/contract (docs/architecture.md); these are extras.
    assert {"compile_id", "ptx"} <= set(CompileResult.model_fields)
    assert {"param_sizes", "occupancy"} <= set(KernelReport.model_fields)
    assert "doc" in LintFinding.model_fields


def test_error_in_an_inline_header_points_into_that_header(toolchain):
    from kernel_skills.toolchain import CompileRequest

    request = CompileRequest(
        source='#include "common.cuh"\nextern "C" __global__ void k(float* p) { p[0] = helper(); }\n',
        headers={"common.cuh": "__device__ float helper() {\n  return undefined_name;\n}\n"},
    )
    result = toolchain.compile(request)

    error = next(d for d in result.diagnostics if d.severity == "error")
    assert (error.file, error.line) == ("common.cuh", 2)
    assert "> 2 |   return undefined_name;" in error.excerpt
