"""`kernel-skills problems import-kernelbench` on files in KernelBench's format (ours, in
tests/bench/kernelbench/files): the ABI order, KernelBench's sizes as the device shape, small ragged
emulator shapes, seeded inputs and parameters, and refusals that give the reason."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from kernel_skills.bench import authored
from kernel_skills.bench.kernelbench import fit_dim, import_files, problem_name
from kernel_skills.bench.registry import import_problem_file
from kernel_skills.cli import main
from kernel_skills.errors import RefusedInput

FILES = Path(__file__).parent / "kernelbench" / "files"
HEADER = "import torch\nimport torch.nn as nn\n\n"


def _kb_file(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / "src" / f"{name}.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    return path


def test_the_cli_imports_each_file_and_refuses_what_it_cannot_express(tmp_path: Path, capsys) -> None:
    files = sorted(str(p) for p in FILES.glob("*.py"))
    assert main(["problems", "import-kernelbench", *files, "--out", str(tmp_path), "--json"]) == 4
    report = json.loads(capsys.readouterr().out)
    assert report["imported"] == 10 and report["refused"] == 1
    [refused] = [f for f in report["files"] if not f["ok"]]
    assert refused["file"].endswith("5_Matrix_scalar_multiplication.py")
    assert refused["reason"] == "get_inputs() returns something other than tensors"
    assert main(["problems", "check", str(tmp_path)]) == 0  # every written module passes its check


def test_the_abi_is_inputs_then_parameters_then_outputs_then_sizes(tmp_path: Path) -> None:
    import_files([FILES / "40_LayerNorm.py"], tmp_path)
    problem = import_problem_file(tmp_path / "kb_40_layernorm.py")
    assert problem.signature == (
        "(const float* x, const float* ln_weight, const float* ln_bias, float* out, "
        "int batch_size, int features, int dim1, int dim2)"
    )
    assert problem.shapes == {"kernelbench": [{"batch_size": 16, "features": 64, "dim1": 256, "dim2": 256}]}
    assert all(problem.largest_tensor(s) <= 8 * 4096 for s in problem.emulator_shapes)
    assert all(
        len(set(s.values())) == len(s) for s in problem.emulator_shapes
    )  # distinct, so a transposed index shows
    assert problem.description == "Simple model that performs Layer Normalization."


def test_inputs_and_parameters_are_seeded_and_the_reference_is_the_models_forward(tmp_path: Path) -> None:
    path = _kb_file(
        tmp_path,
        "9_Linear",
        """
        class Model(nn.Module):
            def __init__(self, in_features, out_features):
                super().__init__()
                self.fc = nn.Linear(in_features, out_features)

            def forward(self, x):
                return self.fc(x)

        batch_size = 1024
        in_features = 4096
        out_features = 1000

        def get_inputs():
            return [torch.randn(batch_size, in_features)]

        def get_init_inputs():
            return [in_features, out_features]
        """,
    )
    [done] = import_files([path], tmp_path / "out").files
    assert done.ok, done.reason
    problem = import_problem_file(Path(done.module))
    assert problem.signature == (
        "(const float* x, const float* fc_weight, const float* fc_bias, float* out, "
        "int batch_size, int in_features)"
    )
    assert problem.tensor_shape(problem.outputs[0], {"batch_size": 3, "in_features": 5}) == (3, 1000)
    sizes = dict(problem.emulator_shapes[0])
    one, same, other = (authored.make_inputs(problem, sizes, seed, "cpu") for seed in (1, 1, 2))
    assert all(one[k].equal(same[k]) for k in one)
    assert not one["x"].equal(other["x"]) and not one["fc_weight"].equal(other["fc_weight"])
    expected = authored.reference(problem, one, sizes)["out"]
    assert expected.allclose(one["x"] @ one["fc_weight"].T + one["fc_bias"])


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("x = 1\n", "99_Odd.py: Model: expected defined (a KernelBench problem file); given missing"),
        (
            """
            class Model(nn.Module):
                def forward(self, x):
                    return x if x.sum() > 0 else -x

            n = 4096

            def get_inputs():
                return [torch.rand(n)]

            def get_init_inputs():
                return []
            """,
            "the model does not run on shapes alone (meta tensors)",
        ),
        (
            """
            class Model(nn.Module):
                def forward(self, x):
                    return x[: int(x.shape[0] ** 0.5)]

            n = 4096

            def get_inputs():
                return [torch.rand(n)]

            def get_init_inputs():
                return []
            """,
            "output #0 dim 0 ([64, 90, 45] at sizes",
        ),
    ],
)
def test_files_it_cannot_express_are_refused_with_the_reason(tmp_path: Path, body: str, reason: str) -> None:
    [done] = import_files([_kb_file(tmp_path, "99_Odd", body)], tmp_path / "out").files
    assert not done.ok and reason in (done.reason or "")
    assert list((tmp_path / "out").iterdir()) == []  # nothing half-written is left


def test_dims_are_fitted_to_one_size_variable_or_a_constant() -> None:
    points = [{"n": 100, "m": 7}, {"n": 200, "m": 7}, {"n": 100, "m": 14}, {"n": 50, "m": 3}]
    from kernel_skills.bench.kernelbench import _candidates

    candidates = _candidates(["n", "m"])
    assert fit_dim([98, 198, 98, 48], points, candidates) == "n - 2"
    assert fit_dim([50, 100, 50, 25], points, candidates) == "n // 2"
    assert fit_dim([5, 5, 5, 5], points, candidates) == "5"
    assert fit_dim([700, 1400, 1400, 150], points, candidates) == "m * n"
    assert fit_dim([10, 11, 12, 13], points, candidates) is None
    assert problem_name(Path("95_CrossEntropyLoss.py")) == "kb_95_crossentropyloss"


def test_two_files_with_one_problem_name_and_a_file_as_out_are_refused(tmp_path: Path) -> None:
    twin = tmp_path / "twin"
    twin.mkdir()
    (twin / "19_relu.py").write_text((FILES / "19_ReLU.py").read_text())
    report = import_files([FILES / "19_ReLU.py", twin / "19_relu.py"], tmp_path / "out")
    assert report.imported == 1 and "also" in (report.files[1].reason or "")
    with pytest.raises(RefusedInput, match="not a directory"):
        import_files([FILES / "19_ReLU.py"], twin / "19_relu.py")
