"""The idiom battery of issue 19: one complete submission per ``.cu`` file here, each with the verdict
a real H100 under the CUDA semantics gives (the emulator must give the same one).

A case names its kernel and launch, and the expected verdict: ``correct``; for a bad kernel, the
finding. A finding is a failed check whose name starts with ``check`` (``None``: any failed check, for
findings whose check the engine names itself, such as barrier divergence) and whose name or detail
contains one of ``detail`` (case-insensitive; empty: anything). Where ``fault`` is set, a
``KernelFault`` or ``Timeout`` whose message contains one of ``detail`` is the same finding (an
out-of-bounds access, a trap, a hang stop the launch on a GPU too).

``on_gpu`` is None where a GPU run shows the same verdict; else why it cannot be relied on to (undefined
behaviour that often happens to work, or a finding only the emulator can see): the GPU battery skips
those with that reason. ``header_pending`` names a toolkit header ``compile_kernel`` does not accept
yet (issue 19, stage 0): until it does, the case is skipped with that reason, and only on a compile
failure.

Problems: the bundled ``gelu_tanh`` and ``rmsnorm``, and the small user problems in ``problems/``
(``battery_scale2``: out = 2x, f32; ``battery_rowsum``: a row sum, f32, rows <= 64;
``battery_hist``: an int32 histogram, bins <= 256).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
PROBLEMS_DIR = HERE / "problems"
CONSTRUCTOR_MARKER = Path("/tmp/kernel-skills-battery-constructor-ran")

RACE = ("race",)
BARRIER = ("barrier", "diverg")
UB_RACE = "a data race: undefined behaviour that a GPU run often gets away with"
UB_BARRIER = "barrier divergence: undefined behaviour (a GPU may hang, or pass by luck)"
UB_WARP = "a warp collective naming lanes that do not execute it: undefined behaviour on a GPU"
EMULATOR_ONLY_READ = "a read past a buffer's end does not fault on a GPU (guards catch only writes)"
UNINIT = "a read of never-written shared memory returns whatever is there on a GPU, often zeros"
CG_HEADER = "<cooperative_groups.h> fails in compile_kernel ('cannot open source file \"info.h\"')"
ASSERT_HEADER = "<assert.h> is refused by compile_kernel's include check"


@dataclass(frozen=True)
class Case:
    file: str
    problem: str
    kernel: str
    block: tuple[int, ...]
    grid: tuple[str | int, ...]
    correct: bool
    check: str | None = None
    detail: tuple[str, ...] = ()
    fault: bool = False
    shared_mem: str = "0"
    on_gpu: str | None = None
    header_pending: str | None = None

    @property
    def id(self) -> str:
        return self.file.removesuffix(".cu")

    def fields(self) -> dict:
        """The BenchRequest fields of this submission (without ``device``)."""
        return {
            "problem": self.problem,
            "source": (HERE / self.file).read_text(),
            "kernel": self.kernel,
            "block": list(self.block),
            "grid": list(self.grid),
            "shared_mem": self.shared_mem,
        }


def _scale2(file: str, correct: bool = True, grid: tuple = ("ceil_div(n, 128)",), **kw) -> Case:
    return Case(file, "battery_scale2", "scale2", (128,), grid, correct, **kw)


def _gelu(file: str, correct: bool = True, grid: tuple = ("ceil_div(n, 256)",), **kw) -> Case:
    return Case(file, "gelu_tanh", "gelu_tanh", (256,), grid, correct, **kw)


def _rowsum(file: str, correct: bool = True, block: tuple = (256,), grid: tuple = ("rows",), **kw) -> Case:
    return Case(file, "battery_rowsum", "rowsum", block, grid, correct, **kw)


def _hist(file: str, correct: bool = True, **kw) -> Case:
    return Case(file, "battery_hist", "histogram", (256,), (1,), correct, **kw)


def _rmsnorm(file: str, correct: bool = True, **kw) -> Case:
    return Case(file, "rmsnorm", "rmsnorm", (256,), ("ceil_div(rows, 8)",), correct, **kw)


VECTORS_OF_4 = ("ceil_div(n, 512)",)  # one thread per float4 (and the tail threads fit in it)
CASES: list[Case] = [
    # elementwise, f32
    _scale2("scale2_grid_stride.cu", grid=(4,)),
    _scale2("scale2_grid_stride_double_step.cu", False, grid=(4,), check="correct on", detail=("nan",)),
    _scale2("scale2_float4.cu", grid=VECTORS_OF_4),
    _scale2(
        "scale2_float4_misaligned.cu",
        False,
        grid=VECTORS_OF_4,
        check=None,
        detail=("misaligned", "alignment"),
        fault=True,
    ),
    _scale2("scale2_ld_global_nc_v4_asm.cu", grid=VECTORS_OF_4),
    _scale2(
        "scale2_read_one_past_end.cu",
        False,
        check=None,
        detail=("'x'",),
        fault=True,
        on_gpu=EMULATOR_ONLY_READ,
    ),
    _scale2("scale2_writes_input.cu", False, check="inputs unchanged", detail=("'x'",)),
    _scale2(
        "scale2_infinite_loop.cu", False, check=None, detail=("did not finish", "budget", "hang"), fault=True
    ),
    _scale2("scale2_trap.cu", False, check=None, detail=("trap", "faulted"), fault=True),
    _scale2(
        "scale2_assert_false.cu",
        False,
        check=None,
        detail=("assert", "trap", "faulted"),
        fault=True,
        header_pending=ASSERT_HEADER,
    ),
    _scale2("scale2_printf.cu"),
    _scale2("scale2_noinline_call.cu"),
    _scale2("scale2_local_array.cu"),
    _scale2("scale2_rtc_divergent.cu", False, check="correct on"),
    _scale2("scale2_host_constructor.cu"),
    _scale2("scale2_cuda_pipeline.cu"),
    _scale2("scale2_cp_async_asm.cu"),
    _scale2(
        "scale2_cp_async_read_before_wait.cu",
        False,
        check=None,
        detail=("in flight", "cp.async", "tile"),
        on_gpu="reading a cp.async destination before the wait is a race with the copy: a GPU may pass",
    ),
    _scale2("scale2_dynamic_shared.cu", shared_mem="512"),
    _scale2(
        "scale2_dynamic_shared_overrun.cu",
        False,
        check=None,
        detail=("shared",),
        fault=True,
        shared_mem="512",
        on_gpu="a GPU faults only past the block's shared allocation, which may exceed the launched size",
    ),
    _scale2("scale2_activemask_shuffle.cu"),
    # elementwise, bf16 (bundled gelu_tanh)
    _gelu("gelu_tanh_approx_asm.cu"),
    _gelu("gelu_uint4_vectors.cu", grid=("ceil_div(n, 2048)",)),
    _gelu(
        "gelu_uint4_without_tail.cu", False, grid=("ceil_div(n, 2048)",), check="correct on", detail=("nan",)
    ),
    _gelu("gelu_math_constants.cu"),
    _gelu("gelu_bf16x2_pairs.cu", grid=("ceil_div(n, 512)",)),
    # reductions, f32
    _rowsum("rowsum_shared_tree.cu"),
    _rowsum("rowsum_shared_tree_missing_barrier.cu", False, check="race-free", detail=RACE, on_gpu=UB_RACE),
    _rowsum("rowsum_shfl_down.cu"),
    _rowsum("rowsum_shfl_xor.cu"),
    _rowsum(
        "rowsum_shfl_mask_names_inactive_lanes.cu",
        False,
        check=None,
        detail=("inactive", "mask", "warp"),
        fault=True,  # or reported as the hang it is on a GPU: lanes wait for lanes that never arrive
        on_gpu=UB_WARP,
    ),
    _rowsum("rowsum_atomic_add_float.cu"),
    _rowsum("rowsum_atomic_add_without_zeroing.cu", False, check="correct on", detail=("nan",)),
    _rowsum("rowsum_atomic_cas_loop.cu"),
    _rowsum("rowsum_spin_lock.cu"),  # needs independent thread scheduling: correct on an H100
    _rowsum("rowsum_last_block_reduces.cu", grid=(4, "rows")),
    _rowsum(
        "rowsum_last_block_without_fence.cu",
        False,
        grid=(4, "rows"),
        check=None,
        detail=("race", "fence"),
        on_gpu=UB_RACE,
    ),
    _rowsum("rowsum_syncthreads_in_branch.cu", False, check=None, detail=BARRIER, on_gpu=UB_BARRIER),
    _rowsum("rowsum_return_before_barrier.cu", False, check=None, detail=BARRIER, on_gpu=UB_BARRIER),
    _rowsum("rowsum_named_barriers.cu", block=(128,)),
    _rowsum(
        "rowsum_named_barrier_count_too_small.cu",
        False,
        block=(64,),
        check=None,
        detail=("race", "barrier", "no thread of the block has written"),
        on_gpu=UB_RACE,
    ),
    _rowsum("rowsum_cooperative_groups.cu", header_pending=CG_HEADER),
    _rowsum("rowsum_cub_block_reduce.cu"),
    _rowsum(
        "rowsum_reads_unwritten_shared.cu",
        False,
        check="shared memory initialised",
        detail=("warp_sums",),
        on_gpu=UNINIT,
    ),
    _rowsum("rowsum_ldmatrix_mma.cu", block=(32,), grid=("ceil_div(rows, 16)",)),
    _rowsum("rowsum_warp_tail_with_syncwarp.cu"),
    _rowsum("rowsum_warp_tail_without_syncwarp.cu", False, check="race-free", detail=RACE, on_gpu=UB_RACE),
    # atomics and warp votes, int32
    _hist("hist_shared_atomics.cu"),
    _hist("hist_global_atomics.cu"),
    # Either finding is right: an atomicAdd that precedes the zeroing store reads a never-written counter.
    _hist("hist_zeroing_without_barrier.cu", False, check=None, detail=("race", "counts"), on_gpu=UB_RACE),
    _hist("hist_plain_increment.cu", False, check="race-free", detail=RACE, on_gpu=UB_RACE),
    # A plain read racing atomics: the distinct, milder finding, but still a wrong count.
    _hist("hist_copy_out_without_barrier.cu", False, check=None, detail=("race", "atomic"), on_gpu=UB_RACE),
    _hist("hist_ballot_popc.cu"),
    _hist("hist_reduce_add_sync.cu"),
    _hist("hist_match_any_aggregated.cu"),
    _hist("hist_any_all_votes.cu"),
    # a bundled problem: rmsnorm, one warp per row
    _rmsnorm("rmsnorm_warp_per_row.cu"),
    _rmsnorm("rmsnorm_shfl_down_without_broadcast.cu", False, check="correct on"),
]
