"""Where a skill's files come from: a folder on disk, or a `.skill` zip package read in place.

Both list every file (junk skipped) with size, sha256 digest and MIME type, enforce the SEP-2640
limits, and read one file by its relative POSIX path with containment checks.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from kernel_skills.catalog.containment import check_relative_path, is_inside, resolve_inside
from kernel_skills.catalog.files import is_junk, mime_type
from kernel_skills.catalog.limits import (
    MAX_DIR_DEPTH,
    MAX_FILE_BYTES,
    MAX_FILES_PER_SKILL,
    MAX_SKILL_BYTES,
    MAX_ZIP_BYTES,
    MAX_ZIP_MEMBERS,
    MIB,
)
from kernel_skills.catalog.models import Issue, SkillFile
from kernel_skills.errors import RefusedInput, SkillError


@dataclass
class Listing:
    """The files of one skill, or the errors that make it unservable."""

    files: list[SkillFile] = field(default_factory=list)
    contents: dict[str, bytes] = field(default_factory=dict)  # only SKILL.md is kept
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _limit_errors(count: int, total: int) -> list[Issue]:
    errors = []
    if count > MAX_FILES_PER_SKILL:
        errors.append(
            Issue(
                field="file",
                message=f"skill has {count} files; the limit is {MAX_FILES_PER_SKILL} (SEP-2640)",
            )
        )
    if total > MAX_SKILL_BYTES:
        errors.append(
            Issue(
                field="file",
                message=f"skill files total {total} bytes; the limit is {MAX_SKILL_BYTES} bytes "
                f"({MAX_SKILL_BYTES // MIB} MiB, SEP-2640)",
            )
        )
    return errors


def _read_capped(path: str, expected: int, *, nofollow: bool = False) -> bytes:
    # Sized read: read(MAX + 1) would allocate the whole cap for every small file.
    # nofollow: the path is already resolved; a symlink swapped in since then is refused (ELOOP).
    flags = os.O_RDONLY | (getattr(os, "O_NOFOLLOW", 0) if nofollow else 0)
    with os.fdopen(os.open(path, flags), "rb") as handle:
        return handle.read(min(expected, MAX_FILE_BYTES) + 1)


def _file_too_big(rel: str, size: int) -> Issue:
    return Issue(field="file", message=f"{rel} is {size} bytes; the limit per file is {MAX_FILE_BYTES} bytes")


@dataclass(frozen=True)
class _Found:
    rel: str
    path: str
    size: int
    signature: tuple[int, ...]  # (size, mtime_ns, ctime_ns, inode, device)

    @classmethod
    def of(cls, rel: str, path: str, st: os.stat_result) -> _Found:
        return cls(rel, path, st.st_size, (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev))


class _Walk:
    """Collect the files of a skill folder: junk skipped, symlinks checked, depth and count bounded."""

    def __init__(self, folder: Path, found: list[_Found], listing: Listing) -> None:
        self.folder = folder
        self.found = found
        self.listing = listing
        self.truncated = False
        self._real_folder: Path | None = None

    def real_folder(self) -> Path:
        if self._real_folder is None:  # resolved lazily: most skills have no symlinks
            self._real_folder = self.folder.resolve()
        return self._real_folder

    def warn(self, message: str) -> None:
        self.listing.warnings.append(Issue(field="file", message=message))

    def visit(self, path: str, prefix: str, depth: int) -> None:
        if depth > MAX_DIR_DEPTH:
            self.listing.errors.append(
                Issue(field="file", message=f"{prefix} nests folders deeper than {MAX_DIR_DEPTH} levels")
            )
            return
        try:
            entries = list(os.scandir(path))
        except OSError as exc:
            self.listing.errors.append(
                Issue(field="file", message=f"cannot list {prefix or '.'}: {exc.strerror}")
            )
            return
        for entry in entries:
            if len(self.found) > MAX_FILES_PER_SKILL:
                self.truncated = True
                return
            if is_junk(entry.name):
                continue
            rel = prefix + entry.name
            if entry.is_symlink():
                self._symlink(entry, rel)
            elif entry.is_dir(follow_symlinks=False):
                self.visit(entry.path, rel + "/", depth + 1)
            elif entry.is_file(follow_symlinks=False):
                self.found.append(_Found.of(rel, entry.path, entry.stat(follow_symlinks=False)))

    def _symlink(self, entry: os.DirEntry, rel: str) -> None:
        try:
            real = Path(entry.path).resolve()
        except (OSError, RuntimeError):
            self.warn(f"{rel} is a symlink that cannot be resolved; not served")
            return
        if not is_inside(self.real_folder(), real):
            self.warn(f"{rel} is a symlink leading outside the skill folder; not served")
        elif real.is_dir():
            self.warn(f"{rel} is a symlinked folder; its files are listed once, where they really are")
        elif real.is_file():
            self.found.append(_Found.of(rel, entry.path, real.stat()))


class DirSource:
    kind = "dir"

    def __init__(self, folder: Path, previous: DirSource | None = None) -> None:
        self.folder = folder
        self.folder_name = folder.name
        self.location = os.fspath(folder)
        # rel path -> (stat signature, SkillFile): files whose signature is unchanged since the
        # previous scan of this folder keep their digest instead of being read and hashed again.
        self.digests: dict[str, tuple[tuple[int, ...], SkillFile]] = {}
        self._previous = previous.digests if previous is not None else {}
        self._scanned: tuple[list[_Found], Listing] | None = None

    def fingerprint(self) -> tuple:
        """What the folder looks like (paths, stat signatures, warnings) without reading files.
        Equal fingerprints mean an earlier load of this folder is still current."""
        found, listing = self._scan()
        return (
            tuple((item.rel, item.signature) for item in found),
            tuple(issue.message for issue in listing.errors + listing.warnings),
        )

    def _scan(self) -> tuple[list[_Found], Listing]:
        if self._scanned is None:
            listing = Listing()
            found: list[_Found] = []
            walk = _Walk(self.folder, found, listing)
            walk.visit(os.fspath(self.folder), "", 0)
            if walk.truncated:
                listing.errors.append(
                    Issue(
                        field="file",
                        message=f"skill has more than {MAX_FILES_PER_SKILL} files; "
                        f"the limit is {MAX_FILES_PER_SKILL} (SEP-2640)",
                    )
                )
            else:
                listing.errors.extend(_limit_errors(len(found), sum(item.size for item in found)))
            self._scanned = (found, listing)
        return self._scanned

    def list(self) -> Listing:
        found, listing = self._scan()
        if listing.errors:
            return listing
        for item in found:
            rel = item.rel
            if item.size > MAX_FILE_BYTES:
                listing.errors.append(_file_too_big(rel, item.size))
                continue
            cached = self._previous.get(rel)
            if cached is not None and cached[0] == item.signature and rel != "SKILL.md":
                self.digests[rel] = cached  # unchanged since the last scan: no need to read it
                listing.files.append(cached[1])
                continue
            try:
                data = _read_capped(item.path, item.size)
            except OSError as exc:
                listing.errors.append(Issue(field="file", message=f"{rel} cannot be read: {exc.strerror}"))
                continue
            if len(data) > MAX_FILE_BYTES:
                listing.errors.append(_file_too_big(rel, len(data)))
                continue
            if rel == "SKILL.md":
                listing.contents[rel] = data
            entry = SkillFile(path=rel, size=len(data), digest=_digest(data), mime_type=mime_type(rel, data))
            self.digests[rel] = (item.signature, entry)
            listing.files.append(entry)
        listing.files.sort(key=lambda f: f.path)
        return listing

    def read(self, rel: str) -> bytes:
        real = resolve_inside(self.folder, rel)
        if any(is_junk(part) for part in PurePosixPath(rel).parts):
            raise SkillError(f"{rel!r} is not served (version-control, cache or editor file)")
        try:
            st = real.stat()
        except FileNotFoundError as exc:
            raise SkillError(f"no file {rel!r} in skill folder {self.folder_name!r}") from exc
        except OSError as exc:
            raise SkillError(f"cannot read {rel!r}: {exc.strerror}") from exc
        if not stat.S_ISREG(st.st_mode):
            raise SkillError(f"{rel!r} is not a file in skill folder {self.folder_name!r}")
        if st.st_size > MAX_FILE_BYTES:
            raise SkillError(f"{rel!r} is {st.st_size} bytes; the limit per file is {MAX_FILE_BYTES} bytes")
        try:
            data = _read_capped(os.fspath(real), st.st_size, nofollow=True)
        except OSError as exc:
            raise SkillError(f"cannot read {rel!r}: {exc.strerror}") from exc
        if len(data) > MAX_FILE_BYTES:
            raise SkillError(f"{rel!r} grew past the limit per file ({MAX_FILE_BYTES} bytes)")
        return data


class ZipSource:
    """A `.skill` package: a zip whose single top-level folder is the skill folder."""

    kind = "zip"

    def __init__(self, package: Path) -> None:
        self.package = package
        self.folder_name: str | None = None
        self.members: dict[str, str] = {}  # rel path -> member name
        self.location = os.fspath(package)
        self._fingerprint: tuple | None = None

    def fingerprint(self) -> tuple:
        """The package file's stat signature, taken once (before its first listing)."""
        if self._fingerprint is None:
            try:
                st = self.package.stat()
            except OSError:
                self._fingerprint = ()
            else:
                self._fingerprint = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
        return self._fingerprint

    def list(self) -> Listing:
        self.fingerprint()
        listing = Listing()
        try:
            with zipfile.ZipFile(self.package) as archive:
                infos = archive.infolist()
                errors = self._check_members(infos)
                if errors:
                    listing.errors.extend(errors)
                    return listing
                for info in infos:
                    if info.is_dir() or any(is_junk(part) for part in info.filename.split("/")):
                        continue
                    rel = info.filename.split("/", 1)[1]
                    data = archive.read(info)
                    self.members[rel] = info.filename
                    if rel == "SKILL.md":
                        listing.contents[rel] = data
                    listing.files.append(
                        SkillFile(
                            path=rel, size=len(data), digest=_digest(data), mime_type=mime_type(rel, data)
                        )
                    )
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc  # no server path
            listing.errors.append(Issue(field="package", message=f"cannot read .skill package: {why}"))
            return listing
        listing.files.sort(key=lambda f: f.path)
        listing.errors.extend(_limit_errors(len(listing.files), sum(f.size for f in listing.files)))
        self.location = f"{self.package}!/{self.folder_name}"
        return listing

    def _check_members(self, infos: list[zipfile.ZipInfo]) -> list[Issue]:
        def error(message: str) -> list[Issue]:
            return [Issue(field="package", message=message)]

        if len(infos) > MAX_ZIP_MEMBERS:
            return error(f".skill package has {len(infos)} entries; the limit is {MAX_ZIP_MEMBERS}")
        total = sum(info.file_size for info in infos)
        if total > MAX_ZIP_BYTES:
            return error(
                f".skill package unpacks to {total} bytes; the limit is {MAX_ZIP_BYTES} bytes "
                f"({MAX_ZIP_BYTES // MIB} MiB)"
            )
        tops: set[str] = set()
        seen: set[str] = set()
        for info in infos:
            name = info.filename
            try:
                check_relative_path(name.rstrip("/") if info.is_dir() else name)
            except RefusedInput as exc:
                return error(f"member {name!r} is refused: {exc}")
            if stat.S_ISLNK(info.external_attr >> 16):
                return error(f"member {name!r} is a symlink; .skill packages may not contain symlinks")
            if info.flag_bits & 0x1:
                return error(f"member {name!r} is encrypted; .skill packages may not be encrypted")
            if name in seen:
                return error(f"member {name!r} appears twice in the .skill package")
            seen.add(name)
            if info.file_size > MAX_FILE_BYTES:
                return error(
                    f"member {name!r} is {info.file_size} bytes; the limit per file is {MAX_FILE_BYTES}"
                )
            top = name.split("/", 1)[0]
            if is_junk(top):  # __MACOSX/, .DS_Store: added by archivers, not part of the skill
                continue
            tops.add(top)
            if "/" not in name.rstrip("/") and not info.is_dir():
                return error(
                    f"member {name!r} is at the top level; a .skill package holds one skill folder "
                    "with every file inside it (my-skill/SKILL.md, ...)"
                )
        if len(tops) != 1:
            return error(
                f".skill package must hold exactly one top-level skill folder, found {len(tops)}: "
                + ", ".join(sorted(tops)[:5])
            )
        self.folder_name = tops.pop()
        return []

    def read(self, rel: str) -> bytes:
        check_relative_path(rel)
        member = self.members.get(rel)
        if member is None:
            raise SkillError(f"no file {rel!r} in skill package {self.package.name!r}")
        try:
            with zipfile.ZipFile(self.package) as archive:
                info = archive.getinfo(member)
                if info.file_size > MAX_FILE_BYTES:
                    raise SkillError(
                        f"{rel!r} is {info.file_size} bytes; the limit per file is {MAX_FILE_BYTES} bytes"
                    )
                return archive.read(info)
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise SkillError(
                f"cannot read {rel!r} from skill package {self.package.name!r}: {type(exc).__name__}"
            ) from exc


Source = DirSource | ZipSource
