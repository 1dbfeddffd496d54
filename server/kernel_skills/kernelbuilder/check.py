"""Check a Hugging Face kernel-builder project (build.toml edition 5 + layout) without Nix.

Catches, before a long Nix build does, the mistakes that make kernel-builder refuse a project or
produce a kernel that will not load: unknown or mistyped keys (kernel-builder denies unknown
fields in every table), the wrong edition, source files that are missing or outside the project,
a torch binding without the registration macros, a missing Python package, and pybind11 or
setup.py leftovers from a plain torch extension.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kernel_skills.errors import RefusedInput
from kernel_skills.kernelbuilder import schema
from kernel_skills.kernelbuilder.models import CheckResult, Issue

MAX_SCANNED_FILES = 2000
MAX_SCANNED_BYTES = 2_000_000
_SKIPPED_DIRS = {".git", "build", "result", "__pycache__", ".venv", "node_modules"}
_BINDING_SUFFIXES = (".cpp", ".cc", ".cxx", ".cu")


def check_project(directory: Path) -> CheckResult:
    """Check the project in ``directory``. RefusedInput if it is not a directory."""
    directory = Path(directory)
    if not directory.exists():
        raise RefusedInput(
            f"{directory}: no such directory; give the kernel-builder project directory (with build.toml)"
        )
    if not directory.is_dir():
        raise RefusedInput(
            f"{directory}: not a directory; give the kernel-builder project directory (with build.toml)"
        )
    checker = _Checker(directory)
    checker.run()
    return CheckResult(
        path=str(directory),
        name=checker.name,
        valid=not checker.errors,
        errors=checker.errors,
        warnings=checker.warnings,
        kernels=checker.kernel_names,
    )


def _type_ok(value: Any, expected: str) -> bool:
    if expected == "str":
        return isinstance(value, str)
    if expected == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "table":
        return isinstance(value, dict)
    if expected == "list":
        return isinstance(value, list)
    if expected == "list[str]":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if expected == "str|table":
        return isinstance(value, str | dict)
    raise ValueError(f"unknown schema type {expected}")


_TYPE_WORDS = {
    "str": "a string",
    "int": "an integer",
    "table": "a table",
    "list": "an array",
    "list[str]": "an array of strings",
    "str|table": "a string or a table",
}


class _Checker:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root_resolved = root.resolve()
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []
        self.name: str | None = None
        self.kernel_names: list[str] = []
        self.doc: dict[str, Any] = {}

    def error(self, field: str, message: str) -> None:
        self.errors.append(Issue(field=field, message=message))

    def warn(self, field: str, message: str) -> None:
        self.warnings.append(Issue(field=field, message=message))

    # -- driver ---------------------------------------------------------------------------------

    def run(self) -> None:
        if not self._load():
            self._check_forbidden()
            return
        self._check_top_level()
        general = self._check_general()
        framework = self._check_framework()
        self._check_kernels(general)
        self._check_sources(framework)
        self._check_python_package(framework)
        self._check_forbidden()
        if not (self.root / "flake.nix").is_file():
            self.warn(
                "flake.nix",
                "no flake.nix: kernel-builder builds through a Nix flake that calls "
                "kernel-builder.lib.genKernelFlakeOutputs { inherit self; path = ./.; }",
            )

    def _load(self) -> bool:
        path = self.root / "build.toml"
        if not path.is_file():
            self.error("build.toml", "missing: a kernel-builder project has build.toml at its root")
            return False
        try:
            self.doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            self.error("build.toml", f"not UTF-8 text: {exc}")
            return False
        except tomllib.TOMLDecodeError as exc:
            self.error("build.toml", f"not valid TOML: {exc}")
            return False
        return True

    # -- tables ---------------------------------------------------------------------------------

    def _check_keys(self, table: dict[str, Any], allowed: dict[str, str], where: str) -> None:
        for key, value in table.items():
            field = f"{where}.{key}"
            if key not in allowed:
                self.error(field, self._unknown_key_message(where, key, allowed))
            elif not _type_ok(value, allowed[key]):
                self.error(field, f"must be {_TYPE_WORDS[allowed[key]]}, got {type(value).__name__}")

    def _unknown_key_message(self, where: str, key: str, allowed: dict[str, str]) -> str:
        accepted = ", ".join(sorted(allowed)) or "(none)"
        if where == "general.cuda" and key in ("capabilities", "cuda-capabilities"):
            return (
                f"[general.cuda] has no '{key}' key in build.toml edition 5 (kernel-builder rejects unknown "
                "keys; an often-copied example gets this wrong). Set capabilities per kernel instead: "
                'cuda-capabilities = ["9.0"] in [kernel.<name>], or leave it unset to build for every '
                f"capability the builder supports. [general.cuda] accepts: {accepted}"
            )
        if where == "torch-noarch" and key in ("cuda-capabilities", "rocm-archs"):
            return (
                f"[torch-noarch] spells it '{key.replace('-', '_')}' (with an underscore: this one table's "
                f"keys are not kebab-case in kernel-builder); [torch-noarch] accepts: {accepted}"
            )
        if where.startswith("kernel.") and key in (
            "cuda-capabilities",
            "rocm-archs",
            "cuda-flags",
            "hip-flags",
        ):
            return f"'{key}' does not apply to this kernel's backend; accepted here: {accepted}"
        if where == "general" and key in ("cuda-minver", "cuda-maxver", "universal"):
            return (
                f"'{key}' is an older build.toml format (before edition 5); use [general.cuda] "
                "minver/maxver or [torch-noarch] instead, or run `kernel-builder update-build`. "
                f"[general] accepts: {accepted}"
            )
        return f"unknown key '{key}' (kernel-builder rejects unknown keys); [{where}] accepts: {accepted}"

    def _check_top_level(self) -> None:
        for key in self.doc:
            if key not in schema.TOP_LEVEL_KEYS:
                self.error(
                    key,
                    f"unknown top-level table [{key}]; accepted: "
                    + ", ".join(f"[{name}]" for name in schema.TOP_LEVEL_KEYS),
                )

    def _check_general(self) -> dict[str, Any]:
        general = self.doc.get("general")
        if not isinstance(general, dict):
            self.error(
                "general", "the [general] table is required (name, version, edition, license, backends)"
            )
            return {}
        self._check_keys(general, schema.GENERAL_KEYS, "general")
        for key in schema.GENERAL_REQUIRED:
            if key not in general:
                self.error(f"general.{key}", f"required key '{key}' is missing from [general]")
        self._check_name(general.get("name"))
        self._check_general_values(general)
        self._check_backends(general.get("backends"))
        for key in ("minver",):
            self._check_version(general, key, "general")
        self._check_general_subtables(general)
        return general

    def _check_name(self, name: Any) -> None:
        """Record the kernel's name and check its form (its presence is checked with the required keys)."""
        if not isinstance(name, str):
            return
        self.name = name
        if not schema.NAME_RE.match(name):
            self.error(
                "general.name",
                f"'{name}' is not a valid kernel name: lowercase letters, digits and dashes, "
                "starting with a letter and ending with a letter or digit, at least 2 characters "
                "(e.g. 'my-kernel')",
            )

    def _check_general_values(self, general: dict[str, Any]) -> None:
        """[general]'s version, edition and license."""
        version = general.get("version")
        if _type_ok(version, "int") and version < 0:
            self.error(
                "general.version",
                f"must be a non-negative integer (the kernel's major version), got {version}",
            )
        edition = general.get("edition")
        if "edition" in general and edition != schema.EDITION:
            self.error(
                "general.edition",
                f"must be {schema.EDITION} (the current build.toml format), got {edition!r}; "
                "`kernel-builder update-build` migrates older files",
            )
        license_ = general.get("license")
        if isinstance(license_, str) and not license_.strip():
            self.error("general.license", "must not be empty (a Hub license identifier, e.g. 'apache-2.0')")

    def _check_backends(self, backends: Any) -> None:
        """[general] backends: a non-empty list of known backends, each once."""
        if not isinstance(backends, list):
            return
        if not backends:
            self.error("general.backends", "must list at least one backend: " + ", ".join(schema.BACKENDS))
        for i, backend in enumerate(backends):
            if backend not in schema.BACKENDS:
                self.error(
                    f"general.backends[{i}]",
                    f"unknown backend {backend!r}; accepted: " + ", ".join(schema.BACKENDS),
                )
        if len(set(map(str, backends))) != len(backends):
            self.error("general.backends", "lists a backend more than once")

    def _check_general_subtables(self, general: dict[str, Any]) -> None:
        """[general.cuda] and the other sub-tables' keys and versions; [general.hub]'s repository id."""
        for sub, allowed in schema.GENERAL_SUBTABLES.items():
            table = general.get(sub)
            if isinstance(table, dict):
                self._check_keys(table, allowed, f"general.{sub}")
                if sub == "cuda":
                    self._check_version(table, "minver", "general.cuda")
                    self._check_version(table, "maxver", "general.cuda")
        hub = general.get("hub")
        repo_id = hub.get("repo-id") if isinstance(hub, dict) else None
        if isinstance(repo_id, str) and not schema.REPO_ID_RE.match(repo_id):
            self.error("general.hub.repo-id", f"{repo_id!r} is not a Hub repository id ('org/name')")

    def _check_version(self, table: dict[str, Any], key: str, where: str) -> None:
        value = table.get(key)
        if isinstance(value, str) and not schema.VERSION_RE.match(value):
            self.error(f"{where}.{key}", f"{value!r} is not a version such as '12.8'")

    def _check_framework(self) -> str | None:
        present = [name for name in schema.FRAMEWORKS if name in self.doc]
        if not present:
            self.error(
                "torch",
                "one framework table is required: [torch] (compiled ops with src = "
                '["torch-ext/torch_binding.cpp", "torch-ext/torch_binding.h"]), [torch-noarch] or [tvm-ffi]',
            )
            return None
        if len(present) > 1:
            self.error(
                present[1],
                "only one framework table is allowed; found " + ", ".join(f"[{p}]" for p in present),
            )
        framework = present[0]
        table = self.doc[framework]
        if not isinstance(table, dict):
            self.error(framework, f"[{framework}] must be a table")
            return framework
        self._check_keys(table, schema.FRAMEWORK_KEYS[framework], framework)
        if framework == "torch":
            self._check_version(table, "minver", "torch")
            self._check_version(table, "maxver", "torch")
        if framework in ("torch", "tvm-ffi"):
            src = table.get("src")
            if not src:
                self.error(
                    f"{framework}.src",
                    "must list the binding sources, e.g. "
                    'src = ["torch-ext/torch_binding.cpp", "torch-ext/torch_binding.h"]',
                )
        if framework == "torch-noarch" and isinstance(table.get("cuda_capabilities"), list):
            self._check_capabilities(table["cuda_capabilities"], "torch-noarch.cuda_capabilities")
        if framework == "torch-noarch" and isinstance(self.doc.get("kernel"), dict) and self.doc["kernel"]:
            self.error(
                "torch-noarch", "a [torch-noarch] project has no compiled kernels; use [torch] for [kernel.*]"
            )
        return framework

    def _check_kernels(self, general: dict[str, Any]) -> None:
        kernels = self.doc.get("kernel", {})
        if not isinstance(kernels, dict):
            self.error("kernel", "must be a table of [kernel.<name>] sections")
            return
        declared = general.get("backends") if isinstance(general.get("backends"), list) else []
        for name, kernel in kernels.items():
            where = f"kernel.{name}"
            self.kernel_names.append(name)
            if not isinstance(kernel, dict):
                self.error(where, "must be a table with backend, depends and src")
                continue
            backend = kernel.get("backend")
            if backend not in schema.KERNEL_BACKEND_KEYS:
                accepted = ", ".join(schema.KERNEL_BACKEND_KEYS)
                if "backend" in kernel:
                    self.error(
                        f"{where}.backend",
                        f"unknown or unsupported kernel backend {backend!r}; accepted: {accepted}",
                    )
                allowed = dict(schema.KERNEL_COMMON_KEYS)
            else:
                allowed = {**schema.KERNEL_COMMON_KEYS, **schema.KERNEL_BACKEND_KEYS[backend]}
                if declared and backend not in declared:
                    self.warn(
                        f"{where}.backend",
                        f"backend {backend!r} is not in general.backends {declared}: "
                        "this kernel will not be built",
                    )
            self._check_keys(kernel, allowed, where)
            for key in schema.KERNEL_REQUIRED:
                if key not in kernel:
                    self.error(f"{where}.{key}", f"required key '{key}' is missing from [{where}]")
            depends = kernel.get("depends")
            if isinstance(depends, list):
                for i, dep in enumerate(depends):
                    if dep not in schema.DEPENDENCIES:
                        self.error(
                            f"{where}.depends[{i}]",
                            f"unknown dependency {dep!r}; accepted: " + ", ".join(schema.DEPENDENCIES),
                        )
            if kernel.get("src") == []:
                self.error(f"{where}.src", "must list at least one source file")
            if backend == "cuda" and isinstance(kernel.get("cuda-capabilities"), list):
                self._check_capabilities(kernel["cuda-capabilities"], f"{where}.cuda-capabilities")
            self._check_version(kernel, "cuda-minver", where)

    def _check_capabilities(self, values: list[Any], where: str) -> None:
        if not values:
            self.error(
                where, 'is empty: list capabilities such as "9.0", or leave the key out to build for all'
            )
        for i, value in enumerate(values):
            field = f"{where}[{i}]"
            match = schema.CAPABILITY_RE.match(value) if isinstance(value, str) else None
            if match is None:
                self.error(
                    field,
                    f"{value!r} is not a CUDA capability: write MAJOR.MINOR with an optional "
                    "'a' (arch-specific, 9.0+) or 'f' (family, 10.0+) suffix and an optional '+PTX', "
                    'e.g. "8.0", "9.0a", "12.0+PTX" (not \'sm_90a\' or \'90\')',
                )
                continue
            major, minor, suffix, _ = match.groups()
            base = f"{major}.{minor}"
            if suffix == "a" and int(major) < 9:
                self.error(
                    field, f"{value!r}: the 'a' (arch-specific) suffix exists from 9.0 on (e.g. \"9.0a\")"
                )
            elif suffix == "f" and int(major) < 10:
                self.error(field, f"{value!r}: the 'f' (family) suffix exists from 10.0 on (e.g. \"10.0f\")")
            if base not in schema.KNOWN_CAPABILITY_BASES:
                self.warn(
                    field,
                    f"{value!r}: no CUDA toolkit the builder uses targets {base}; known: "
                    + ", ".join(schema.KNOWN_CAPABILITY_BASES)
                    + " (the build intersects this list with the toolkit's, and fails if nothing is left)",
                )

    # -- files ----------------------------------------------------------------------------------

    def _source_entries(self, framework: str | None) -> Iterator[tuple[str, Any]]:
        if framework in ("torch", "tvm-ffi") and isinstance(self.doc.get(framework), dict):
            src = self.doc[framework].get("src")
            if isinstance(src, list):
                for i, entry in enumerate(src):
                    yield f"{framework}.src[{i}]", entry
        kernels = self.doc.get("kernel")
        if isinstance(kernels, dict):
            for name, kernel in kernels.items():
                if isinstance(kernel, dict) and isinstance(kernel.get("src"), list):
                    for i, entry in enumerate(kernel["src"]):
                        yield f"kernel.{name}.src[{i}]", entry

    def _inside(self, relative: str) -> Path | None:
        candidate = Path(relative)
        if candidate.is_absolute():
            return None
        resolved = (self.root / candidate).resolve()
        return resolved if resolved.is_relative_to(self.root_resolved) else None

    def _check_sources(self, framework: str | None) -> None:
        for field, entry in self._source_entries(framework):
            if not isinstance(entry, str):
                continue  # already reported as a type error
            resolved = self._inside(entry)
            if resolved is None:
                self.error(
                    field,
                    f"{entry!r} is outside the project directory; sources must be relative paths inside it",
                )
            elif not resolved.is_file():
                self.error(
                    field,
                    f"{entry!r} does not exist (paths are relative to the directory holding build.toml)",
                )
        if framework == "torch":
            self._check_binding()

    def _check_binding(self) -> None:
        src = self.doc["torch"].get("src") if isinstance(self.doc.get("torch"), dict) else None
        if not isinstance(src, list):
            return
        bindings = []
        for entry in src:
            if isinstance(entry, str) and entry.endswith(_BINDING_SUFFIXES):
                resolved = self._inside(entry)
                if resolved is not None and resolved.is_file():
                    bindings.append((entry, resolved.read_text(encoding="utf-8", errors="replace")))
        if not bindings:
            if src:
                self.error(
                    "torch.src",
                    "lists no C++ binding file (e.g. torch-ext/torch_binding.cpp) that registers the ops",
                )
            return
        for macro in schema.BINDING_MACROS:
            if not any(macro in text for _, text in bindings):
                usage = (
                    "TORCH_LIBRARY_EXPAND(TORCH_EXTENSION_NAME, ops) { ops.def(...); ops.impl(...); }"
                    if macro == "TORCH_LIBRARY_EXPAND"
                    else "REGISTER_EXTENSION(TORCH_EXTENSION_NAME) at the end of the binding file"
                )
                self.error(
                    "torch.src",
                    f"no binding file uses {macro} (from kernel-builder's generated registration.h): "
                    f"write {usage}",
                )

    def _check_python_package(self, framework: str | None) -> None:
        if framework not in ("torch", "torch-noarch") or not self.name or not schema.NAME_RE.match(self.name):
            return
        python_name = self.name.replace("-", "_")
        init = self.root / "torch-ext" / python_name / "__init__.py"
        field = f"torch-ext/{python_name}/__init__.py"
        if not init.is_file():
            self.error(
                field,
                f"missing: the Python package of kernel '{self.name}' must be torch-ext/{python_name}/ "
                "(general.name with - replaced by _) with an __init__.py",
            )
            return
        if framework == "torch" and "_ops" not in init.read_text(encoding="utf-8", errors="replace"):
            self.warn(
                field,
                "does not use the generated _ops module: `from ._ops import ops` reaches the registered ops",
            )

    def _check_forbidden(self) -> None:
        for name in schema.FORBIDDEN_FILES:
            if (self.root / name).exists():
                self.error(
                    name, f"{name} is not used by kernel-builder (build.toml drives the build): remove it"
                )
        for path in self._scan_files():
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            for token in schema.FORBIDDEN_TOKENS:
                if token in text:
                    rel = path.relative_to(self.root).as_posix()
                    self.error(
                        rel,
                        f"uses {token}: kernel-builder registers ops with TORCH_LIBRARY_EXPAND in "
                        "torch-ext/torch_binding.cpp and loads them through torch.ops, not pybind11",
                    )
                    break

    def _scan_files(self) -> Iterator[Path]:
        seen = 0
        stack = [self.root]
        while stack:
            current = stack.pop()
            try:
                entries = sorted(current.iterdir())
            except OSError:
                continue
            for entry in entries:
                if entry.is_symlink():
                    continue
                if entry.is_dir():
                    if entry.name not in _SKIPPED_DIRS:
                        stack.append(entry)
                elif entry.suffix in schema.SOURCE_SUFFIXES and entry.stat().st_size <= MAX_SCANNED_BYTES:
                    seen += 1
                    if seen > MAX_SCANNED_FILES:
                        return
                    yield entry
