"""The option and architecture allow-lists. Anything not listed here is refused with a message that
lists what is accepted: options are an injection surface (``-I/``, ``--pre-include``, ``-Xptxas``)."""

from __future__ import annotations

import re
from collections.abc import Callable

from kernel_skills.errors import RefusedInput

_BOOL = ("true", "false")
_MACRO_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_MACRO_VALUE = re.compile(r"[A-Za-z0-9_.+\-]{0,64}")
# Reserved identifiers belong to the toolkit headers, whose macro-built includes must not be steered.
_RESERVED = re.compile(r"__|_[A-Z]")
_RESERVED_OK = re.compile(r"__CUDA_NO_[A-Z0-9_]+__")
_BASE_ARCHS = (80, 86, 89, 90)


def _flag(name: str) -> Callable[[str | None], str]:
    def check(value: str | None) -> str:
        if value is not None:
            raise RefusedInput(f"option -{name} takes no value")
        return f"--{name}"

    return check


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[str | None], str]:
    def check(value: str | None) -> str:
        if value not in choices:
            raise RefusedInput(f"option -{name} needs one of {', '.join(choices)} (as -{name}=VALUE)")
        return f"--{name}={value}"

    return check


def _maxrregcount(value: str | None) -> str:
    if value is None or not value.isdigit() or not 16 <= int(value) <= 255:
        raise RefusedInput("option -maxrregcount needs an integer from 16 to 255 (as -maxrregcount=N)")
    return f"--maxrregcount={int(value)}"


def _diag_suppress(value: str | None) -> str:
    if value is None or not re.fullmatch(r"\d{1,5}(,\d{1,5}){0,31}", value):
        raise RefusedInput(
            "option -diag-suppress needs comma-separated warning numbers, e.g. -diag-suppress=177"
        )
    return f"--diag-suppress={value}"


def _define(value: str | None) -> str:
    if not value:
        raise RefusedInput("option -D needs NAME or NAME=VALUE")
    name, sep, body = value.partition("=")
    if not _MACRO_NAME.fullmatch(name):
        raise RefusedInput(f"-D{value}: the macro name must match [A-Za-z_][A-Za-z0-9_]* (at most 64 chars)")
    if _RESERVED.match(name) and not _RESERVED_OK.fullmatch(name):
        raise RefusedInput(
            f"-D{value}: names starting with __ or _<capital> are reserved for the toolkit headers "
            "(only __CUDA_NO_*__ switches are accepted)"
        )
    if sep and not _MACRO_VALUE.fullmatch(body):
        raise RefusedInput(
            f"-D{value}: the value may only hold letters, digits and _ . + - (at most 64 chars)"
        )
    return f"--define-macro={name}={body}" if sep else f"--define-macro={name}"


# canonical option name -> validator returning the NVRTC spelling. Aliases map onto these names.
_OPTIONS: dict[str, Callable[[str | None], str]] = {
    "std": _choice("std", ("c++17", "c++20", "c++23")),
    "lineinfo": _flag("generate-line-info"),
    "use_fast_math": _flag("use_fast_math"),
    "maxrregcount": _maxrregcount,
    "ftz": _choice("ftz", _BOOL),
    "prec-div": _choice("prec-div", _BOOL),
    "prec-sqrt": _choice("prec-sqrt", _BOOL),
    "fmad": _choice("fmad", _BOOL),
    "extra-device-vectorization": _flag("extra-device-vectorization"),
    "restrict": _flag("restrict"),
    "fno-signed-zeros": _flag("fno-signed-zeros"),
    "ffinite-math-only": _flag("ffinite-math-only"),
    "device-int128": _flag("device-int128"),
    "default-device": _flag("device-as-default-execution-space"),
    "w": _flag("disable-warnings"),
    "diag-suppress": _diag_suppress,
    "D": _define,
}
_ALIASES = {
    "generate-line-info": "lineinfo",
    "define-macro": "D",
    "device-as-default-execution-space": "default-device",
    "disable-warnings": "w",
}

ALLOWED_OPTIONS_HELP = (
    "-std=c++17|c++20|c++23, -lineinfo, -use_fast_math, -maxrregcount=N (16-255), -DNAME[=VALUE], "
    "-ftz=true|false, -prec-div=true|false, -prec-sqrt=true|false, -fmad=true|false, "
    "--extra-device-vectorization, -restrict, -fno-signed-zeros, -ffinite-math-only, -device-int128, "
    "-default-device, -w, -diag-suppress=N[,N...]"
)
_WHY_NOT = {
    "I": "include paths are fixed: only the CUDA toolkit headers and the inline headers you pass",
    "include-path": "include paths are fixed: only the CUDA toolkit headers and the inline headers you pass",
    "include": "pre-includes are not accepted; #include an inline header instead",
    "pre-include": "pre-includes are not accepted; #include an inline header instead",
    "arch": "pass the target as the arch parameter, not as an option",
    "gpu-architecture": "pass the target as the arch parameter, not as an option",
    "Xptxas": "ptxas options are set by the toolchain (-v is always on)",
    "ptxas-options": "ptxas options are set by the toolchain (-v is always on)",
}


def normalize_options(options: list[str]) -> list[str]:
    """Validate user options; return them in NVRTC's spelling, order kept. RefusedInput otherwise."""
    if len(options) > 64:
        raise RefusedInput("at most 64 options are accepted")
    return [_normalize_one(option) for option in options]


def _normalize_one(option: str) -> str:
    if not isinstance(option, str) or not option.startswith("-") or len(option) > 200 or "\x00" in option:
        raise RefusedInput(f"option {option!r} is not accepted; allowed: {ALLOWED_OPTIONS_HELP}")
    body = option.lstrip("-")
    if option.startswith("-D") and not option.startswith("--"):
        name, value = "D", option[2:]
    elif option.startswith("-U") or (option.startswith("-I") and not option.startswith("--")):
        name, value = option[1], option[2:]
    else:
        name, eq, raw_value = body.partition("=")
        value = raw_value if eq else None
    name = _ALIASES.get(name, name)
    check = _OPTIONS.get(name)
    if check is None:
        why = _WHY_NOT.get(name)
        reason = f" ({why})" if why else ""
        raise RefusedInput(f"option {option!r} is not accepted{reason}; allowed: {ALLOWED_OPTIONS_HELP}")
    try:
        return check(value)
    except RefusedInput as exc:
        raise RefusedInput(f"{exc}; allowed: {ALLOWED_OPTIONS_HELP}") from None


def allowed_archs(nvrtc_archs: tuple[int, ...]) -> list[str]:
    """sm_80/86/89/90/90a, plus newer real archs this NVRTC knows (and their arch-specific 'a' form)."""
    archs = [f"sm_{arch}" for arch in _BASE_ARCHS if arch in nvrtc_archs]
    archs.insert(archs.index("sm_90") + 1 if "sm_90" in archs else len(archs), "sm_90a")
    for arch in sorted(a for a in nvrtc_archs if a > 90):
        archs += [f"sm_{arch}", f"sm_{arch}a"]
    return archs


def check_arch(arch: str, nvrtc_archs: tuple[int, ...]) -> str:
    allowed = allowed_archs(nvrtc_archs)
    if arch not in allowed:
        raise RefusedInput(f"arch {arch!r} is not accepted; allowed: {', '.join(allowed)} (H100: sm_90a)")
    return arch
