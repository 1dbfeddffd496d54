"""Launch configurations: parsing, per-shape evaluation and the H100's launch limits."""

from __future__ import annotations

import pytest

from kernel_skills.bench.launch import MAX_SHARED_BYTES, parse_block, parse_launch
from kernel_skills.errors import RefusedInput

NAMES = ("rows", "dim")


def test_a_launch_resolves_per_shape_and_pads_to_three_dimensions() -> None:
    spec = parse_launch([256], ["ceil_div(rows, 16)"], "dim * 2", NAMES)
    launch = spec.resolve({"rows": 129, "dim": 128})
    assert launch.grid == (9, 1, 1)
    assert launch.block == (256, 1, 1)
    assert launch.shared_mem == 256
    assert launch.threads == 256


@pytest.mark.parametrize(
    ("block", "fragment"),
    [
        ([2048], "block[0] = 2048"),
        ([32, 64], "2048 threads"),
        ([1, 1, 65], "block[2] = 65"),
        ([], "1 to 3"),
        ([0], "block[0] = 0"),
    ],
)
def test_blocks_over_the_limits_are_refused(block: list[int], fragment: str) -> None:
    with pytest.raises(RefusedInput, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        parse_block(block)


def test_grid_dimensions_out_of_range_are_refused_with_the_shape() -> None:
    spec = parse_launch([256], ["rows - 200"], "0", NAMES)
    with pytest.raises(RefusedInput, match=r"grid\[0\] = 'rows - 200' evaluates to -71 at rows=129, dim=128"):
        spec.resolve({"rows": 129, "dim": 128})
    spec = parse_launch([256], ["1", "rows * 1000"], "0", NAMES)
    with pytest.raises(RefusedInput, match=r"grid\[1\].*1\.\.65535"):
        spec.resolve({"rows": 129, "dim": 128})


def test_shared_memory_over_227_kb_is_refused_counting_static_shared() -> None:
    spec = parse_launch([128], ["1"], str(MAX_SHARED_BYTES), NAMES)
    assert spec.resolve({"rows": 1, "dim": 1}).shared_mem == MAX_SHARED_BYTES
    with pytest.raises(RefusedInput, match="227 KB"):
        spec.resolve({"rows": 1, "dim": 1}, static_shared=16)


def test_registers_times_threads_over_the_register_file_is_refused() -> None:
    spec = parse_launch([1024], ["1"], "0", NAMES)
    with pytest.raises(RefusedInput, match="registers exceed"):
        spec.resolve({"rows": 1, "dim": 1}, registers=128)


def test_grid_must_be_a_list() -> None:
    with pytest.raises(RefusedInput, match="list of 1 to 3 expressions"):
        parse_launch([256], "ceil_div(rows, 4)", "0", NAMES)  # type: ignore[arg-type]
    with pytest.raises(RefusedInput, match="list of 1 to 3 expressions"):
        parse_launch([256], ["1", "1", "1", "1"], "0", NAMES)


def test_unknown_size_names_in_the_grid_are_refused_at_parse_time() -> None:
    with pytest.raises(RefusedInput, match="unknown name 'seq'"):
        parse_launch([256], ["seq"], "0", NAMES)
