"""The catalog: every root scanned in precedence order, served skills by name, incremental reload."""

from __future__ import annotations

import difflib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from kernel_skills.catalog.containment import check_relative_path
from kernel_skills.catalog.files import is_junk, is_text_type, mime_type
from kernel_skills.catalog.loader import Loaded, load_source, source_for
from kernel_skills.catalog.models import CatalogChange, FileContent, InvalidSkill, Skill
from kernel_skills.catalog.redact import PathHider
from kernel_skills.catalog.roots import CatalogConfig, SkillRoot, dedupe_roots
from kernel_skills.errors import SkillError

logger = logging.getLogger("kernel_skills.catalog")
T = TypeVar("T")


@dataclass
class _Record:
    """One candidate (folder or package) in one root, with the last valid version it had."""

    root_index: int
    loaded: Loaded
    last_valid: Loaded | None  # the Loaded whose skill is the last valid version
    served: _Served | None  # what this record serves (stale when loaded is invalid), None if nothing


@dataclass
class _Served:
    skill: Skill
    loaded: Loaded  # where reads come from (the last valid version when stale)


class Catalog:
    """All skills from all roots. Reads are lock-free on an immutable snapshot; reloads swap it."""

    def __init__(self, roots: list[SkillRoot], *, expose_paths: bool = True) -> None:
        self._roots = dedupe_roots(list(roots))  # absolute paths, each folder once
        # False: what is shown to a client names each root by a label, never its absolute path
        self.expose_paths = expose_paths
        self._hider = PathHider(self._roots)
        self._real_roots = [_real(root.path) for root in self._roots]
        # Skill folders that are symlinks in a root: real target -> (root index, path in the root),
        # so that edits reported under the target's real path find their skill.
        self._link_targets: dict[Path, tuple[int, Path]] = {}
        self._lock = threading.Lock()
        self._records: dict[Path, _Record] = {}
        # One tuple, swapped in a single assignment: readers never see half of a reload.
        self._view: tuple[dict[str, _Served], list[InvalidSkill]] = ({}, [])
        self.version = 0
        for root in self._roots:
            if root.origin in ("cli", "env") and not root.path.is_dir():
                logger.warning(
                    "skills root %s (%s) is not a folder; nothing is served from it", root.path, root.origin
                )
        self._rescan_all()
        self._view = self._build_view()
        for bad in self._view[1]:
            _log_invalid(bad)
        for served in self._view[0].values():
            _log_shadows(served.skill)

    @classmethod
    def from_config(cls, config: CatalogConfig | None = None) -> Catalog:
        config = config or CatalogConfig()
        return cls(config.roots(), expose_paths=config.expose_paths)

    def shown(self, value: T) -> T:
        """``value`` (text, or nested dicts and lists of it) as a client may see it: with each root's
        path replaced by its label unless this catalog exposes paths."""
        return value if self.expose_paths else self._hider.value(value)

    @property
    def roots(self) -> list[SkillRoot]:
        return list(self._roots)

    def watch_paths(self) -> list[Path]:
        """Folders to watch: every existing root, plus the targets of symlinked skill folders
        (file events do not follow symlinks)."""
        paths = [root.path for root in self._roots if root.path.is_dir()]
        real_roots = [r for r, root in zip(self._real_roots, self._roots, strict=True) if root.path.is_dir()]
        for target in sorted(self._link_targets):
            inside_a_root = any(target == r or r in target.parents for r in real_roots)
            if not inside_a_root and target.is_dir():
                paths.append(target)
        return paths

    def skills(self) -> list[Skill]:
        served = self._view[0]
        return [served[name].skill for name in sorted(served)]

    def invalid(self) -> list[InvalidSkill]:
        return list(self._view[1])

    def get(self, name: str) -> Skill:
        return self._lookup(name).skill

    def read_file(self, name: str, path: str) -> FileContent:
        """One file of a served skill: ``text`` for text types that decode as UTF-8, else ``blob``.

        RefusedInput for a path that leaves the skill folder (checked as a string, then on the
        real path); SkillError for an unknown skill or a missing file. SKILL.md is the served
        version (the last valid one while stale); other files are read from disk as they are now.
        """
        served = self._lookup(name)
        check_relative_path(path)
        # SKILL.md comes from the served version (the last valid one while stale).
        data = served.loaded.skill_md if path == "SKILL.md" else served.loaded.source.read(path)
        known = next((f for f in served.skill.files if f.path == path), None)
        mime = known.mime_type if known else mime_type(path, data)
        if is_text_type(mime):
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                return FileContent(name=name, path=path, mime_type=mime, size=len(data), text=text)
        return FileContent(name=name, path=path, mime_type=mime, size=len(data), blob=data)

    def reload(self, changed_paths: set[Path] | None = None) -> CatalogChange:
        """Re-index the skills whose folders (or packages) contain ``changed_paths``, plus entries
        added to or removed from a root; None rescans everything (unchanged folders are kept
        without reading their files). ``version`` goes up when the change is not empty."""
        with self._lock:
            if changed_paths is None:
                self._rescan_all()
            else:
                self._rescan_some(changed_paths)
            old_served, old_bad = self._view
            served, invalid = self._view = self._build_view()
            change = _diff(old_served, served, old_bad, invalid)
            old_invalid = {(bad.location, bad.model_dump_json()) for bad in old_bad}
            old_shadows = {name: s.skill.shadows for name, s in old_served.items()}
            if not change.empty:
                self.version += 1
                for bad in invalid:
                    if (bad.location, bad.model_dump_json()) not in old_invalid:
                        _log_invalid(bad)
                for name in change.added + change.changed:
                    skill = served[name].skill
                    if skill.shadows and skill.shadows != old_shadows.get(name):
                        _log_shadows(skill)
                    if skill.stale:
                        _log_stale(skill)
            return change

    # -- internals -------------------------------------------------------------------------------

    def _lookup(self, name: str) -> _Served:
        view, invalid = self._view
        served = view.get(name)
        if served is not None:
            return served
        for bad in invalid:
            if name in (bad.name, _folder_name(bad.location)):
                reasons = "; ".join(f"{i.field}: {i.message}" for i in bad.errors)
                raise SkillError(
                    f"skill {name!r} (folder {_folder_name(bad.location)!r}) is invalid and not served: "
                    f"{reasons}"
                )
        close = difflib.get_close_matches(str(name), list(view), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise SkillError(f"no skill named {name!r}{hint} (list_skills shows the {len(view)} served)")

    def _rescan_all(self) -> None:
        found: dict[Path, int] = {}
        for index in range(len(self._roots)):
            for candidate in self._discover(index):
                found.setdefault(candidate, index)
        for path in list(self._records):
            if path not in found:
                del self._records[path]
        for path, index in found.items():
            self._load(path, index)

    def _rescan_some(self, changed_paths: set[Path]) -> None:
        candidates: dict[Path, int] = {}
        relist: set[int] = set()
        for raw in changed_paths:
            hit = self._locate(Path(os.path.abspath(raw)))
            if hit is None:
                continue
            index, candidate = hit
            if candidate is None:
                relist.add(index)
            else:
                candidates.setdefault(candidate, index)
        for index in sorted(relist):
            present = set(self._discover(index))
            for path, record in list(self._records.items()):
                if record.root_index == index and path not in present:
                    candidates.setdefault(path, index)
            for path in present:
                if path not in self._records:
                    candidates.setdefault(path, index)
        for path, index in candidates.items():
            if _is_candidate(path) or self._is_single_root(index, path):
                self._load(path, index)
            else:
                self._records.pop(path, None)

    def _locate(self, path: Path) -> tuple[int, Path | None] | None:
        """Which root a changed path belongs to, and which candidate (None: the root listing)."""
        for index, root in enumerate(self._roots):
            for base in (root.path, self._real_roots[index]):
                try:
                    rel = path.relative_to(base)
                except ValueError:
                    continue
                if (root.path / "SKILL.md").is_file() or root.path in self._records:
                    return index, root.path
                if not rel.parts:
                    return index, None
                first = rel.parts[0]
                if first.startswith(".") or is_junk(first):
                    return None
                return index, root.path / first
        for target, (index, candidate) in self._link_targets.items():
            if path == target or target in path.parents:
                return index, candidate
        return None

    def _is_single_root(self, index: int, path: Path) -> bool:
        return path == self._roots[index].path and (path / "SKILL.md").is_file()

    def _discover(self, index: int) -> list[Path]:
        root = self._roots[index].path
        if (root / "SKILL.md").is_file():
            return [root]
        try:
            entries = sorted(os.scandir(root), key=lambda e: e.name)
        except OSError:
            entries = []
        found = [entry for entry in entries if _is_candidate_entry(entry)]
        self._link_targets = {t: hit for t, hit in self._link_targets.items() if hit[0] != index}
        for entry in found:
            if entry.is_symlink():
                self._link_targets[_real(Path(entry.path))] = (index, Path(entry.path))
        return [Path(entry.path) for entry in found]

    def _load(self, path: Path, index: int) -> None:
        previous = self._records.get(path)
        source = source_for(path, previous.loaded.source if previous else None)
        if (
            previous is not None
            and previous.root_index == index
            and type(source) is type(previous.loaded.source)
            and source.fingerprint() == previous.loaded.source.fingerprint()
        ):
            return  # nothing on disk changed since it was loaded: keep it (and its identity)
        loaded = load_source(source, root=os.fspath(self._roots[index].path))
        if loaded.skill is not None:
            last_valid: Loaded | None = loaded
        else:
            last_valid = previous.last_valid if previous else None
        served: _Served | None = None
        if loaded.skill is not None:
            served = _Served(skill=loaded.skill, loaded=loaded)
        elif last_valid is not None and last_valid.skill is not None:
            assert loaded.invalid is not None
            stale = last_valid.skill.model_copy(update={"stale": True, "stale_errors": loaded.invalid.errors})
            served = _Served(skill=stale, loaded=last_valid)
        self._records[path] = _Record(root_index=index, loaded=loaded, last_valid=last_valid, served=served)

    def _build_view(self) -> tuple[dict[str, _Served], list[InvalidSkill]]:
        served: dict[str, _Served] = {}
        hidden: dict[str, list[str]] = {}
        invalid: list[InvalidSkill] = []
        ordered = sorted(self._records.items(), key=lambda item: (item[1].root_index, os.fspath(item[0])))
        for _, record in ordered:
            if record.served is None:
                assert record.loaded.invalid is not None
                invalid.append(record.loaded.invalid)
                continue
            name = record.served.skill.name
            if name in served:
                hidden[name].append(record.served.skill.location)
            else:
                served[name] = record.served
                hidden[name] = []
        for name, locations in hidden.items():
            if locations:  # a copy: the record's own Skill stays unshadowed and shared
                winner = served[name]
                served[name] = _Served(
                    skill=winner.skill.model_copy(update={"shadows": locations}), loaded=winner.loaded
                )
        return served, invalid


def _diff(
    old: dict[str, _Served], new: dict[str, _Served], old_bad: list[InvalidSkill], new_bad: list[InvalidSkill]
) -> CatalogChange:
    change = CatalogChange(
        added=sorted(set(new) - set(old)),
        removed=sorted(set(old) - set(new)),
        invalid_changed=old_bad != new_bad,
    )
    for name in sorted(set(old) & set(new)):
        before, after = old[name].skill, new[name].skill
        if before is after or before == after:
            continue
        change.changed.append(name)
        old_files = {f.path: f.digest for f in before.files}
        new_files = {f.path: f.digest for f in after.files}
        for path in sorted(set(old_files) | set(new_files)):
            if old_files.get(path) != new_files.get(path):
                change.files.append((name, path))
    return change


def _is_candidate_entry(entry: os.DirEntry) -> bool:
    """A skill folder (symlinked ones too) or a `.skill` package; hidden and junk names are not."""
    name = entry.name
    if name.startswith(".") or is_junk(name):
        return False
    return entry.is_dir() or (name.endswith(".skill") and entry.is_file())


class SkippedEntry(BaseModel):
    """Something in a folder of skills that the catalog does not load, and why."""

    path: str
    reason: str


def skill_entries(folder: Path) -> tuple[list[Path], list[SkippedEntry]]:
    """The skills in a folder of skills, for validation: every `.skill` package and every folder
    with a SKILL.md (any case: a `skill.md` is a skill with that error), and the entries skipped, each
    with why (a folder without one, a hidden skill folder, a file that is no package)."""
    found: list[Path] = []
    skipped: list[SkippedEntry] = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        path = Path(entry.path)
        has_skill_md = entry.is_dir() and _holds_skill_md(path)
        if _is_candidate_entry(entry) and (has_skill_md or not entry.is_dir()):
            found.append(path)
            continue
        reason = _why_skipped(entry, has_skill_md)
        if reason is not None:
            skipped.append(SkippedEntry(path=entry.path, reason=reason))
    return found, skipped


def _holds_skill_md(folder: Path) -> bool:
    try:
        return any(p.name.lower() == "skill.md" for p in folder.iterdir())
    except OSError:  # unreadable: validating it says so
        return True


def _why_skipped(entry: os.DirEntry, has_skill_md: bool) -> str | None:
    """Why an entry is no skill to validate; None for what is not skill-like at all (dotfiles)."""
    hidden = entry.name.startswith(".") or is_junk(entry.name)
    if entry.is_dir() and has_skill_md:
        return "a hidden or leftover folder name: the catalog does not serve it (rename it)"
    if entry.is_dir() and not hidden:
        return "no SKILL.md in it (served from a skills root, it would be listed as an invalid skill)"
    if entry.is_file() and not hidden:
        return "a file, not a skill folder or a .skill package (a zipped skill's name ends in .skill)"
    return None


def _is_candidate(path: Path) -> bool:
    name = path.name
    if name.startswith(".") or is_junk(name):
        return False
    return path.is_dir() or (name.endswith(".skill") and path.is_file())


def _folder_name(location: str) -> str:
    """The skill folder's name from a location (``/root/x`` or ``/root/x.skill!/x``)."""
    if "!/" in location:
        return location.rsplit("!/", 1)[1]
    name = os.path.basename(location)
    return name.removesuffix(".skill")


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path


def _log_invalid(bad: InvalidSkill) -> None:
    reasons = "; ".join(f"{i.field}: {i.message}" for i in bad.errors)
    logger.warning("skill at %s is invalid and not served: %s", bad.location, reasons)


def _log_shadows(skill: Skill) -> None:
    if skill.shadows:
        logger.warning(
            "skill %r from %s shadows the same name at %s",
            skill.name,
            skill.location,
            ", ".join(skill.shadows),
        )


def _log_stale(skill: Skill) -> None:
    reasons = "; ".join(f"{i.field}: {i.message}" for i in skill.stale_errors)
    logger.warning(
        "skill %r at %s is now invalid; serving its last valid version: %s",
        skill.name,
        skill.location,
        reasons,
    )
