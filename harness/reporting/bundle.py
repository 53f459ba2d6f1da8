"""A report folder ``reports/<run-id>/``: results.json, junit.xml, index.html and a digest.

The digest (SHA-256 of every file, in ``MANIFEST.json``) lets anyone check later that a
bundle handed over as evidence is exactly what the run wrote.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.reporting.events import CaseResult, Outcome, RunInfo
from harness.reporting.writers import write_html, write_junit

MANIFEST = "MANIFEST.json"


def new_run_id(suite: str) -> str:
    """Sortable and unique: ``<suite>-<UTC time>-<random>``."""
    return f"{suite}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass
class ReportBundle:
    """Collects case results for one run and writes the bundle when finished."""

    info: RunInfo
    directory: Path
    cases: list[CaseResult] = field(default_factory=list)

    def add(self, case: CaseResult) -> None:
        self.cases.append(case)

    @property
    def verdict(self) -> Outcome:
        outcomes = [c.outcome for c in self.cases if c.outcome is not Outcome.SKIPPED]
        if not outcomes:
            return Outcome.SKIPPED
        order = list(Outcome)
        return max(outcomes, key=order.index)

    def summary(self) -> dict[str, int]:
        counts = Counter(c.outcome.value for c in self.cases)
        return {o.value: counts.get(o.value, 0) for o in Outcome} | {"total": len(self.cases)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": {
                "run_id": self.info.run_id,
                "suite": self.info.suite,
                "title": self.info.title,
                "started_at": self.info.started_at,
                "meta": self.info.meta,
            },
            "verdict": self.verdict.value,
            "summary": self.summary(),
            "cases": [c.to_dict() for c in self.cases],
        }

    def write(self) -> Path:
        """Write every file and the manifest; returns the folder."""
        self.directory.mkdir(parents=True, exist_ok=True)
        data = self.to_dict()
        (self.directory / "results.json").write_text(
            json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8"
        )
        write_junit(self.directory / "junit.xml", self.info, self.cases)
        write_html(self.directory / "index.html", data)
        write_manifest(self.directory)
        return self.directory


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(directory: Path) -> None:
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST)
    entries = {str(p.relative_to(directory)): _digest(p) for p in files}
    overall = hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()
    manifest = {"files": entries, "digest": overall}
    (directory / MANIFEST).write_text(
        json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8"
    )


def verify_bundle(directory: Path) -> list[str]:
    """Problems found (empty when the bundle is intact): changed, missing or extra files."""
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise ConfigError(f"{directory} has no {MANIFEST}", hint="is this a report bundle folder?")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    expected: dict[str, str] = manifest["files"]
    problems = []
    for name, digest in expected.items():
        path = directory / name
        if not path.is_file():
            problems.append(f"missing: {name}")
        elif _digest(path) != digest:
            problems.append(f"changed: {name}")
    present = {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}
    problems += [f"extra: {name}" for name in sorted(present - set(expected) - {MANIFEST})]
    overall = hashlib.sha256(json.dumps(expected, sort_keys=True).encode()).hexdigest()
    if overall != manifest.get("digest"):
        problems.append("manifest digest does not match its file list")
    return problems
