"""Nothing of a host file may come back: every include-escape form is refused before NVRTC runs
(wall 1), and what NVRTC would echo from a foreign file is dropped from the log (wall 2)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from tests.shared_runtime import RUNTIME

from kernel_skills.errors import RefusedInput
from kernel_skills.toolchain import CompileRequest, Toolchain
from kernel_skills.toolchain.locate import toolkit
from kernel_skills.toolchain.worker import CompileWorker

KERNEL = 'extern "C" __global__ void k(float* out) { out[0] = 1.0f; }\n'


@pytest.fixture
def secret(tmp_path: Path) -> tuple[Path, str]:
    """A host file whose content must never appear in any result, error or log."""
    content = f"TOPSECRET_{uuid.uuid4().hex}"
    path = tmp_path / "private" / "secret.h"
    path.parent.mkdir()
    path.write_text(f"{content} leaked;\n")
    return path, content


ESCAPES = {
    "absolute quoted": '#include "{abs}"\n',
    "absolute angled": "#include <{abs}>\n",
    "dot-dot relative": '#include "cuda/../../../../../../../../../../../../..{abs}"\n',
    "macro form": '#define SECRET "{abs}"\n#include SECRET\n',
    "macro form via function macro": "#define STR(x) #x\n#define PATH(x) STR(x)\n#include PATH({abs})\n",
    "spaces after hash": '#   include   "{abs}"\n',
    "comment between hash and include": '#/* hidden */include "{abs}"\n',
    "line continuation inside include": '#inc\\\nlude "{abs}"\n',
    "line continuation with trailing space": '#include \\ \n"{abs}"\n',
    "trigraph hash": '??=include "{abs}"\n',
    "digraph hash": '%:include "{abs}"\n',
    "include_next": '#include_next "{abs}"\n',
    "import": '#import "{abs}"\n',
    "embed": '#embed "{abs}"\n',
    "has_include probe": '#if __has_include("{abs}")\n#endif\n',
    "has_include macro": '#define P "{abs}"\n#if __has_include(P)\n#endif\n',
    "include pragma": '#pragma include_alias("a.h", "{abs}")\n',
    "_Pragma include": '_Pragma("include_alias(\\"a.h\\", \\"{abs}\\")")\n',
    "inside a block comment continuation": '/* x */ # /* y\n */ include "{abs}"\n',
}


@pytest.mark.parametrize("form", sorted(ESCAPES))
def test_include_escape_is_refused_before_compiling(toolchain, secret, form):
    path, content = secret
    source = ESCAPES[form].format(abs=path) + KERNEL

    with pytest.raises(RefusedInput) as caught:
        toolchain.compile(CompileRequest(source=source))

    assert content not in str(caught.value)


def test_inline_header_cannot_include_a_host_file(toolchain, secret):
    path, _ = secret
    request = CompileRequest(
        source='#include "mine.h"\n' + KERNEL, headers={"mine.h": f'#include "{path}"\n'}
    )
    with pytest.raises(RefusedInput, match=r"mine\.h:1"):
        toolchain.compile(request)


@pytest.mark.parametrize("name", ["../x.h", "/abs.h", "a//b.h", "sub/../../x.h", "bad name.h", ""])
def test_inline_header_names_must_be_plain_relative_names(toolchain, name):
    with pytest.raises(RefusedInput, match="header name"):
        toolchain.compile(CompileRequest(source=KERNEL, headers={name: "int x;"}))


def test_header_that_only_resolves_via_the_current_directory_is_refused(toolchain, secret, monkeypatch):
    path, _ = secret
    monkeypatch.chdir(path.parent)
    with pytest.raises(RefusedInput, match="neither a CUDA toolkit header nor an inline header"):
        toolchain.compile(CompileRequest(source='#include "secret.h"\n' + KERNEL))


def test_symlink_in_an_include_root_pointing_outside_is_refused(secret, tmp_path, monkeypatch):
    path, content = secret
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "fake-toolkit"
    root.mkdir()
    (root / "evil.h").symlink_to(path)
    chain = Toolchain(include_dirs=[*toolkit().include_dirs, root], worker=RUNTIME.toolchain.worker)

    with pytest.raises(RefusedInput, match="resolves outside") as caught:
        chain.compile(CompileRequest(source="#include <evil.h>\n" + KERNEL))
    assert content not in str(caught.value)


def test_toolkit_and_inline_headers_are_accepted(toolchain):
    source = (
        "#include <cuda_bf16.h>\n#include <cuda/std/cstdint>\n"
        '#  include "common.cuh"  // a comment\n' + KERNEL.replace("1.0f", "kOne")
    )
    result = toolchain.compile(CompileRequest(source=source, headers={"common.cuh": "#define kOne 1.0f\n"}))
    assert result.ok, result.log


def test_thrust_is_refused_with_a_pointer_to_cub(toolchain):
    with pytest.raises(RefusedInput, match="CUB"):
        toolchain.compile(CompileRequest(source="#include <thrust/device_vector.h>\n" + KERNEL))


@pytest.fixture
def unconfined_worker():
    worker = CompileWorker(confine_reads=False)
    yield worker
    worker.close()


def test_second_wall_drops_foreign_file_lines_from_the_log(secret, tmp_path, monkeypatch, unconfined_worker):
    """With walls 1 and 3 off (test-only switches), NVRTC really reads the file; nothing of it returns."""
    path, content = secret
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", str(tmp_path / "cache"))
    chain = Toolchain(include_guard=False, worker=unconfined_worker)

    result = chain.compile(CompileRequest(source=f'#include "{path}"\n' + KERNEL))

    assert not result.ok
    assert result.withheld >= 1
    assert content not in result.model_dump_json()
    assert all(d.file == "kernel.cu" for d in result.diagnostics)


def test_third_wall_the_worker_cannot_open_host_files(secret, tmp_path, monkeypatch):
    """With wall 1 off, the confined worker still cannot open the file at all."""
    path, content = secret
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", str(tmp_path / "cache"))
    chain = Toolchain(include_guard=False, worker=RUNTIME.toolchain.worker)
    result = chain.compile(CompileRequest(source=f'#include "{path}"\n' + KERNEL))

    assert result.sandbox is not None and result.sandbox.confined
    assert not result.ok and result.withheld == 0
    assert result.diagnostics[0].message == f'cannot open source file "{path}"'
    assert content not in result.model_dump_json()


def test_worker_current_directory_does_not_resolve_quoted_includes(
    secret, tmp_path, monkeypatch, unconfined_worker
):
    """Even unguarded, a name that exists only in the server's cwd is not found by NVRTC."""
    path, content = secret
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(path.parent)
    result = Toolchain(include_guard=False, worker=unconfined_worker).compile(
        CompileRequest(source='#include "secret.h"\n' + KERNEL)
    )

    assert not result.ok
    assert "cannot open source file" in result.diagnostics[0].message
    assert content not in result.model_dump_json()


def test_toolkit_header_diagnostics_are_kept_with_the_install_path_hidden(toolchain):
    source = (
        "#include <cuda/std/array>\n"
        'extern "C" __global__ void k(int* p) { cuda::std::array<int, 2> a{}; p[0] = a.at(5, 3); }\n'
    )
    result = toolchain.compile(CompileRequest(source=source))

    assert not result.ok and result.withheld == 0
    assert "<cccl-include>/cuda/std/array" in result.log
    assert any(d.file == "cuda/std/array" and d.toolkit for d in result.diagnostics)
    error = result.diagnostics[0]
    assert error.line == 2 and "argument types are: (int, int)" in error.message
    for root in toolkit().include_dirs:
        assert os.fspath(root) not in result.model_dump_json()


@pytest.mark.parametrize(
    "prefix",
    [
        'const char* s = "unterminated\n',
        "char c = 'x\n",
        'const char* r = R"d(\n)d";\n',
        "int big = 1'000'000;\n",
        '/* a comment with a quote " */\n',
        '#define xu8R\nconst char* s = xu8R"(";\n',
        "#define xu8\nint c = xu8'/*';\n",
        'const char* s = R"seventeen_chars_x(";\n',
        "int n = 0x1'F; char c = '/*';\n",
        '#define x$u8R\nconst char* s = x$u8R"(";\n',
        '#define \u00e9u8R\nconst char* s = \u00e9u8R"(";\n',
        'const char* s = "a\\"/*";\n',
    ],
)
def test_literals_and_comments_do_not_hide_a_following_include(toolchain, secret, prefix):
    path, content = secret
    with pytest.raises(RefusedInput) as caught:
        toolchain.compile(CompileRequest(source=prefix + f'#include "{path}"\n' + KERNEL))
    assert "2:" in str(caught.value) or "3:" in str(caught.value)
    assert content not in str(caught.value)
