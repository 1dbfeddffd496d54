"""The ``runs/`` folder of one eval, close to upskill's layout: written as answers arrive.

``runs/YYYY_MM_DD_HH_MM_SS/``: ``eval.json`` (the settings; ``--resume`` refuses other settings),
``run_N/run_metadata.json`` + ``run_N/run_result.json`` per answer (model, case, condition,
answer, assertions, tokens, time), and at the end ``batch_summary.json`` (the report) and
``results.csv`` (one row per answer).
"""

from __future__ import annotations

import csv
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from kernel_skills.errors import RefusedInput
from kernel_skills.evals.folders import make_dirs, remove_made
from kernel_skills.evals.lift.models import BatchReport, Condition, RunResult

SETTINGS_FILE = "eval.json"


class JobKey(BaseModel):
    model: str
    case: int
    condition: Condition
    run: int


class RunRecord(BaseModel):
    """One answer as stored in run_N/run_result.json."""

    key: JobKey
    input: str
    result: RunResult
    finished_at: str


class EvalSettings(BaseModel):
    """What an eval asked; a resumed eval must ask the same."""

    skill: str
    models: list[str]
    runs: int
    base_url: str
    temperature: float | None
    max_tokens: int | None
    seed: int | None
    cases: list[str]  # the prompts, in order


def _write_json(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # a reader (or --resume after a kill) never sees half a file


class RunsFolder:
    """A new eval's folder appears with its first stored answer; one whose eval never got an answer
    is removed (``discard``), so a dead endpoint leaves nothing behind. A resumed folder is kept."""

    def __init__(self, path: Path, settings: EvalSettings | None = None):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._pending = settings  # not yet on disk: written with the first answer
        self._made: list[Path] = []
        self._discarded = False
        self.answers = 0  # answers (not errors) stored by this process

    @classmethod
    def create(cls, parent: Path, settings: EvalSettings) -> RunsFolder:
        stamp = datetime.now(UTC).strftime("%Y_%m_%d_%H_%M_%S")
        path = Path(parent) / stamp
        n = 1
        while path.exists():
            n += 1
            path = Path(parent) / f"{stamp}_{n}"
        return cls(path, settings)

    def _materialise(self) -> None:
        """Called under the lock: make a new eval's folder and its settings file."""
        if self._pending is None:
            return
        self._made = make_dirs(self.path)
        _write_json(self.path / SETTINGS_FILE, self._pending.model_dump_json(indent=2))
        self._pending = None

    def discard(self) -> None:
        """Remove the folder this process made, when none of its runs got an answer."""
        with self._lock:
            self._discarded = True
            if self.answers == 0:
                remove_made(self._made)

    @staticmethod
    def stored_settings(path: Path, flag: str) -> EvalSettings:
        """The settings an eval in ``path`` was run with (``flag`` names the option in the error)."""
        file = Path(path) / SETTINGS_FILE
        try:
            return EvalSettings.model_validate_json(file.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise RefusedInput(
                f"{flag} {path}: not an eval's runs folder (no valid {SETTINGS_FILE}): {exc}"
            ) from exc

    @classmethod
    def resume(cls, path: Path, settings: EvalSettings) -> RunsFolder:
        stored = cls.stored_settings(path, "--resume")
        if stored != settings:
            differ = [k for k in EvalSettings.model_fields if getattr(stored, k) != getattr(settings, k)]
            raise RefusedInput(
                f"--resume {path}: that eval was run with other settings ({', '.join(differ)} differ); "
                "resume with the same skill, cases, --model, --runs, --base-url, --temperature, "
                "--max-tokens and --seed"
            )
        return cls(Path(path))

    def completed(self) -> dict[tuple[str, int, str, int], RunRecord]:
        """Answers already stored (errors are not: a resumed eval asks again)."""
        return {key: record for key, (_, record) in self.records().items() if record.result.error is None}

    def records(self) -> dict[tuple[str, int, str, int], tuple[int, RunRecord]]:
        """Every stored answer (errors included) with its run_N number."""
        out: dict[tuple[str, int, str, int], tuple[int, RunRecord]] = {}
        for file in sorted(self.path.glob("run_*/run_result.json")):
            try:
                record = RunRecord.model_validate_json(file.read_text(encoding="utf-8"))
            except (OSError, ValidationError):
                continue
            k = record.key
            out[(k.model, k.case, k.condition, k.run)] = (int(file.parent.name.removeprefix("run_")), record)
        return out

    def write_run(self, number: int, key: JobKey, prompt: str, result: RunResult, base_url: str) -> None:
        folder = self.path / f"run_{number}"
        with self._lock:
            if self._discarded:  # a request that was in flight when the eval stopped
                return
            self._materialise()
            folder.mkdir(exist_ok=True)
            self.answers += result.error is None
        meta = {**key.model_dump(), "base_url": base_url, "input": prompt}
        _write_json(folder / "run_metadata.json", json.dumps(meta, indent=2))
        record = RunRecord(
            key=key, input=prompt, result=result, finished_at=datetime.now(UTC).isoformat(timespec="seconds")
        )
        _write_json(folder / "run_result.json", record.model_dump_json(indent=2))

    def write_summary(self, batch: BatchReport) -> None:
        with self._lock:
            self._materialise()
        _write_json(self.path / "batch_summary.json", batch.model_dump_json(indent=2))
        with (self.path / "results.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(CSV_COLUMNS)
            for report in batch.models:
                for case in report.cases:
                    for cond in ("without_skill", "with_skill"):
                        for r in getattr(case, cond).runs:
                            writer.writerow(_csv_row(report.model, case.index, case.kind, cond, r))


CSV_COLUMNS = [
    "model",
    "case",
    "kind",
    "condition",
    "run",
    "status",
    "assertions_passed",
    "assertions_judged",
    "assertions_not_judged",
    "prompt_tokens",
    "completion_tokens",
    "latency_s",
    "error",
]


def _csv_row(model: str, case: int, kind: str, cond: str, r: RunResult) -> list[object]:
    s, u = r.score, r.usage
    latency = f"{r.latency_s:.2f}" if r.latency_s is not None else ""
    judged = len(s.hit) + len(s.missed)
    tokens = [u.prompt_tokens, u.completion_tokens] if u else ["", ""]
    return [
        model,
        case,
        kind,
        cond,
        r.run,
        "no_answer" if r.error else s.status,
        len(s.hit),
        judged,
        len(s.not_judged),
        *tokens,
        latency,
        r.error or "",
    ]
