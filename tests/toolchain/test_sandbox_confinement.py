"""Wall 3 is the real wall: whatever a submission smuggles past the pre-scan, the confined compile
worker cannot read a host file, and an existing file cannot be told from a missing one.

Every test here runs real NVRTC in a real worker. The secrets live in a temporary folder and in a
folder the pre-scan allows (passed as an extra include root); no test may ever see their content.
"""

from __future__ import annotations

import platform
import re
import sysconfig
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.shared_runtime import RUNTIME

from kernel_skills.confine import UNCONFINED_ENV, WITHOUT_ENV, weaker_than_default
from kernel_skills.errors import CompileError, RefusedInput
from kernel_skills.toolchain import CompileRequest, CompileResult, Toolchain
from kernel_skills.toolchain.locate import toolkit
from kernel_skills.toolchain.worker import CompileWorker

KERNEL = 'extern "C" __global__ void k(float* out) { out[0] = 1.0f; }\n'


class Secrets:
    def __init__(self, root: Path) -> None:
        self.token = f"TOPSECRET_{uuid.uuid4().hex}"
        self.outside = root / "private" / "secret.h"
        self.allowed_dir = root / "allowed"
        self.inside = self.allowed_dir / "inside_secret.h"
        for path in (self.outside, self.inside):
            path.parent.mkdir(exist_ok=True)
            path.write_text(f'static_assert(sizeof(int) == 0, "{self.token}");\n{self.token} leaked;\n')
        self.missing = root / "private" / "secreX.h"  # same length: the caret lines match too

    def assert_unseen(self, text: str) -> None:
        assert self.token not in text


@pytest.fixture
def secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Secrets:
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", str(tmp_path / "cache"))
    return Secrets(tmp_path)


def _chain(secrets: Secrets, worker: CompileWorker | None = None, *, guard: bool = True) -> Toolchain:
    """The toolkit roots plus the secrets' allowed folder: the pre-scan lets names there through."""
    return Toolchain(
        include_dirs=[*toolkit().include_dirs, secrets.allowed_dir],
        worker=worker or RUNTIME.toolchain.worker,
        include_guard=guard,
    )


def _outcome(chain: Toolchain, source: str, secrets: Secrets) -> str:
    """What a client would see, as one text (a result's JSON or an error's message)."""
    try:
        result = chain.compile(CompileRequest(source=source))
    except RefusedInput as exc:
        text = f"refused: {exc}"
    else:
        text = result.model_dump_json()
    secrets.assert_unseen(text)
    return text


PASTED_HAS_INCLUDE = '#define CAT(a, b) a##b\n#if CAT(__has_, include)("{path}")\n#error found\n#endif\n'

# The two reproducers and variants of the same class: a literal or comment the pre-scan
# might read differently from NVRTC, followed by an include the pre-scan would then not see.
DESYNC = {
    "issue: identifier ending in u8R before a quote": '#define xu8R\nconst char* s = xu8R"(";\n'
    '#include "{path}"\n// )"\n',
    "issue: identifier ending in u8 before a char": "#define xu8\nint c = xu8'/*';\n"
    '#include "{path}"\n// */\n',
    "identifier ending in R": '#define xR\nconst char* s = xR"(";\n#include "{path}"\n// )"\n',
    "identifier ending in LR": '#define xLR\nconst char* s = xLR"(";\n#include "{path}"\n// )"\n',
    "identifier ending in uR": '#define zuR\nconst char* s = zuR"(";\n#include "{path}"\n// )"\n',
    "identifier ending in U before a char": "#define yU\nint c = yU'/*';\n#include \"{path}\"\n// */\n",
    "identifier ending in L before a char": "#define yL\nint c = yL'/*';\n#include \"{path}\"\n// */\n",
    "raw string with a long delimiter": 'const char* s = R"abcdefghijklmnopq(";\n#include "{path}"\n// )"\n',
    "raw string delimiter with a space": 'const char* s = R"a b(";\n#include "{path}"\n// )"\n',
    "digit separator then a comment opener": "int n = 1'0'/*';\n#include \"{path}\"\n// */\n",
    "hex digit separator": "int n = 0x1'F; char c = '/*';\n#include \"{path}\"\n// */\n",
    "prefix split by a continuation": 'const char* s = u8\\\nR"(";\n#include "{path}"\n// )"\n',
    "char literal split by a continuation": "int c = '\\\n/*';\n#include \"{path}\"\n// */\n",
    "identifier with $ ending in u8R": '#define x$u8R\nconst char* s = x$u8R"(";\n#include "{path}"\n// )"\n',
    "escaped quote then a comment opener": 'const char* s = "a\\"/*";\n#include "{path}"\n// */\n',
    "comment opener in a string": 'const char* s = "/*";\n#include "{path}"\n// */\n',
    "line comment continued": '// note \\\n#include "{path}"\n',
    "pasted __has_include": PASTED_HAS_INCLUDE,
}


@pytest.mark.parametrize("form", sorted(DESYNC))
@pytest.mark.parametrize("where", ["outside", "inside"])
def test_no_lexer_trick_shows_a_host_file(secrets: Secrets, form: str, where: str) -> None:
    path = secrets.outside if where == "outside" else secrets.inside
    _outcome(_chain(secrets), DESYNC[form].format(path=path) + KERNEL, secrets)


@pytest.mark.parametrize("form", sorted(DESYNC))
def test_with_the_pre_scan_off_the_confined_worker_still_reads_nothing(secrets: Secrets, form: str) -> None:
    chain = _chain(secrets, guard=False)
    for path in (secrets.outside, secrets.inside):
        _outcome(chain, DESYNC[form].format(path=path) + KERNEL, secrets)


def test_a_header_in_an_allowed_folder_passes_the_pre_scan_but_is_unreadable(secrets: Secrets) -> None:
    result = _chain(secrets).compile(CompileRequest(source="#include <inside_secret.h>\n" + KERNEL))
    secrets.assert_unseen(result.model_dump_json())
    assert not result.ok
    assert result.diagnostics[0].message == 'cannot open source file "inside_secret.h"'


def test_the_interpreter_headers_are_not_readable(secrets: Secrets) -> None:
    """The issue's leak: the worker could read sys.prefix, so patchlevel.h gave PY_VERSION back."""
    patchlevel = Path(sysconfig.get_paths()["include"]) / "patchlevel.h"
    source = f'#include "{patchlevel}"\nstatic_assert(sizeof(int) == 0, PY_VERSION);\n' + KERNEL
    result = _chain(secrets, guard=False).compile(CompileRequest(source=source))
    assert not result.ok
    assert [d.message for d in result.diagnostics] == [f'cannot open source file "{patchlevel}"']
    assert f'"{platform.python_version()}"' not in result.log  # the path may hold the version, unquoted


def _blind(text: str, secrets: Secrets) -> str:
    """The text with the probed path and ptxas's own timing taken out."""
    text = re.sub(r"Compile time = [\d.]+ ms", "Compile time = T", text)
    return text.replace(str(secrets.outside), "PATH").replace(str(secrets.missing), "PATH")


PROBES = {
    "include": '#include "{path}"\n',
    "__has_include": '#if __has_include("{path}")\n#error found\n#endif\n',
    "pasted __has_include": PASTED_HAS_INCLUDE,
    "__has_include in an inline header": '#include "probe.h"\n',
}


def _probe(chain: Toolchain, form: str, path: Path) -> CompileResult:
    text = PROBES[form].format(path=path)
    if form.endswith("inline header"):
        text_headers = {"probe.h": PROBES["__has_include"].format(path=path)}
        return chain.compile(CompileRequest(source=text + KERNEL, headers=text_headers))
    return chain.compile(CompileRequest(source=text + KERNEL))


def _same_for_existing_and_missing(chain: Toolchain, secrets: Secrets) -> None:
    for form in PROBES:
        existing = _probe(chain, form, secrets.outside)
        missing = _probe(chain, form, secrets.missing)
        secrets.assert_unseen(existing.model_dump_json())
        assert existing.ok == missing.ok, form
        assert _blind(existing.log, secrets) == _blind(missing.log, secrets), form
        assert [_blind(d.message, secrets) for d in existing.diagnostics] == [
            _blind(d.message, secrets) for d in missing.diagnostics
        ], form


def test_an_existing_host_file_and_a_missing_one_look_the_same(secrets: Secrets) -> None:
    _same_for_existing_and_missing(_chain(secrets, guard=False), secrets)


@pytest.fixture
def worker_without(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], CompileWorker]]:
    made: list[CompileWorker] = []

    def make(missing: str) -> CompileWorker:
        monkeypatch.setenv(WITHOUT_ENV, missing)
        made.append(CompileWorker())
        return made[-1]

    yield make
    for worker in made:
        worker.close()


@pytest.mark.parametrize(("missing", "method"), [("namespace", "landlock"), ("landlock", "namespace")])
def test_either_wall_alone_still_confines_and_hides_existence(
    secrets: Secrets, worker_without, missing: str, method: str
) -> None:
    chain = _chain(secrets, worker_without(missing), guard=False)
    result = chain.compile(CompileRequest(source=f'#include "{secrets.outside}"\n' + KERNEL))
    assert result.sandbox is not None
    assert (result.sandbox.confined, result.sandbox.method) == (True, method)
    assert result.sandbox.readable == [
        "<kernel-skills-include>",
        "<cuda-include>",
        "<cccl-include>",
        "<nvrtc-lib>",
    ]
    _same_for_existing_and_missing(chain, secrets)


def test_without_any_confinement_compiling_is_refused_with_how_to_enable_it(
    secrets: Secrets, worker_without
) -> None:
    chain = _chain(secrets, worker_without("namespace,landlock"))
    with pytest.raises(CompileError, match="cannot be confined") as caught:
        chain.compile(CompileRequest(source=KERNEL))
    message = str(caught.value)
    assert "Landlock" in message and "user namespaces" in message and "--unconfined" in message


def test_the_unconfined_opt_in_is_reported_in_every_result(
    secrets: Secrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(UNCONFINED_ENV, "1")
    worker = CompileWorker()
    try:
        result = _chain(secrets, worker).compile(CompileRequest(source=KERNEL))
    finally:
        worker.close()
    assert result.ok and result.sandbox is not None
    assert (result.sandbox.confined, result.sandbox.method) == (False, "unconfined")
    assert "unconfined" in (weaker_than_default() or "")


def test_the_default_is_both_walls_and_no_start_up_warning(secrets: Secrets) -> None:
    result = _chain(secrets).compile(CompileRequest(source=KERNEL))
    assert result.sandbox is not None
    if result.sandbox.method != "namespace+landlock":
        pytest.skip(f"this kernel offers {result.sandbox.method} only ({result.sandbox.detail})")
    assert result.sandbox.confined and result.sandbox.landlock_abi
    assert weaker_than_default() is None
