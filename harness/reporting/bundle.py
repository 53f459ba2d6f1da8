"""A report folder ``reports/<run-id>/``: results.json, junit.xml, index.html and a digest.

The digest (SHA-256 of every file, in ``MANIFEST.json``) lets anyone check later that a
bundle handed over as evidence is exactly what the run wrote: against accidental change
by itself, against tampering when compared with the overall digest published separately.

A run stopped by Ctrl-C or SIGTERM still gets its bundle: :func:`write_interrupted` writes
what finished, with the verdict ``interrupted``, instead of leaving a folder of evidence
that reads as a run still going.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import signal
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.reporting.events import CaseResult, Outcome, RunInfo
from harness.reporting.writers import readable, write_html, write_junit

MANIFEST = "MANIFEST.json"
INTERRUPTED = "interrupted"
"""The verdict of a run stopped before it finished: what ran is reported, nothing judged."""

log = logging.getLogger(__name__)


def new_run_id(suite: str) -> str:
    """Sortable and unique: ``<suite>-<UTC time>-<random>``."""
    return f"{suite}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass
class ReportBundle:
    """Collects case results for one run and writes the bundle when finished."""

    info: RunInfo
    directory: Path
    cases: list[CaseResult] = field(default_factory=list)
    interrupted: int | None = None
    """The signal that stopped the run (then the bundle holds only the cases that finished)."""

    def __post_init__(self) -> None:
        _UNWRITTEN[id(self)] = self  # until written: see write_interrupted

    def add(self, case: CaseResult) -> None:
        self.cases.append(case)

    def begin(self) -> ReportBundle:
        """Make the folder now: a run stopped before :meth:`write` then gets this bundle
        written, marked interrupted, by :func:`write_interrupted`."""
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

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
        data, info, cases = self.to_dict(), self.info, self.cases
        if self.interrupted is not None:  # after to_dict: a subclass's verdict yields too
            stop = self._interruption(data["verdict"])
            data |= {"verdict": INTERRUPTED, "interrupted": stop}
            info = replace(info, meta={**info.meta, INTERRUPTED: stop["message"]})
            # one error more in junit.xml: CI must not show a partial run as passed
            cases = [
                *cases,
                CaseResult(
                    INTERRUPTED,
                    "stopped before it finished",
                    Outcome.ERROR,
                    message=stop["message"],
                ),
            ]
        (self.directory / "results.json").write_text(
            readable(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)),
            encoding="utf-8",
        )
        write_junit(self.directory / "junit.xml", info, cases)
        write_html(self.directory / "index.html", data)
        write_manifest(self.directory)
        _UNWRITTEN.pop(id(self), None)
        return self.directory

    def write_interrupted(self, signum: int) -> Path | None:
        """Write the bundle marked interrupted by ``signum``; returns its folder, or None
        when it cannot be written (logged: on the way out already, do not mask the stop)."""
        self.interrupted = signum
        try:
            return self.write()
        except OSError as exc:
            log.warning("cannot write the interrupted report in %s: %s", self.directory, exc)
            return None

    def _interruption(self, verdict_so_far: str) -> dict[str, Any]:
        """What results.json says of the stop: the signal, the exit code, what ran."""
        signum = self.interrupted or signal.SIGINT
        name = signal.Signals(signum).name
        return {
            "signal": name,
            "exit_code": 128 + signum,
            "verdict_so_far": verdict_so_far if self._judged() else "none",
            "message": f"stopped by {name} after {len(self.cases)} case(s): this report "
            "holds only the cases that finished, and no verdict",
        }

    def _judged(self) -> bool:
        """Whether a case was judged (passed, failed, error), not only skipped."""
        return any(c.outcome is not Outcome.SKIPPED for c in self.cases)


_UNWRITTEN: weakref.WeakValueDictionary[int, ReportBundle] = weakref.WeakValueDictionary()
"""Bundles made in this process and not yet written (weakly: a dropped one is forgotten)."""


def write_interrupted(signum: int) -> list[Path]:
    """Write, marked interrupted by ``signum``, every bundle begun but not written whose
    run already made its folder; returns those folders.

    The CLI calls it while handling the Ctrl-C or SIGTERM that stopped a command (the
    exception's traceback keeps the stopped run, and so its bundle, alive), so the evidence
    files a suite wrote come with a results.json and a manifest. A bundle whose folder
    does not exist yet is left alone (nothing to mark); one that cannot be written is
    logged.
    """
    written = []
    for bundle in list(_UNWRITTEN.values()):
        if bundle.directory.is_dir() and (folder := bundle.write_interrupted(signum)):
            written.append(folder)
    return written


def _is_stop(exc: BaseException) -> bool:
    """Whether ``exc`` is a stop from outside (Ctrl-C; SIGTERM as the CLI raises it), not
    an error of the run: neither an ``Exception`` nor an exit."""
    return not isinstance(exc, Exception | SystemExit | GeneratorExit)


@contextmanager
def when_stopped(keep: Callable[[], object]) -> Iterator[None]:
    """Within the block, a Ctrl-C or SIGTERM first calls ``keep`` (a run keeps what it found:
    its evidence, its partial report), then goes on stopping the command; an error does not.

    Further stops are ignored while ``keep`` runs, so it is not cut short; if ``keep``
    fails, that is logged and the stop goes on (the exit code stays the signal's).
    """
    try:
        yield
    except BaseException as exc:
        if _is_stop(exc):
            with _signals_ignored():
                try:
                    keep()
                except Exception as failure:  # on the way out already: do not mask the stop
                    log.warning("cannot keep what the stopped run found: %s", failure)
        raise


@contextmanager
def _signals_ignored() -> Iterator[None]:
    """Ctrl-C and SIGTERM ignored within the block (signal handlers: main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stops = (signal.SIGINT, signal.SIGTERM)
    previous = {stop: signal.signal(stop, signal.SIG_IGN) for stop in stops}
    try:
        yield
    finally:
        for stop, handler in previous.items():
            if handler is not None:  # None: not set from Python, cannot be put back
                signal.signal(stop, handler)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(directory: Path) -> None:
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST)
    entries = {str(p.relative_to(directory)): _digest(p) for p in files}
    overall = hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()
    manifest = {"files": entries, "digest": overall}
    # ASCII JSON keeps a file name's surrogate escapes as \udcXX, which verify_bundle matches
    # under the same locale; readable() only guards the write, as for results.json
    (directory / MANIFEST).write_text(
        readable(json.dumps(manifest, indent=2, sort_keys=True)), encoding="utf-8"
    )


def _read_manifest(directory: Path) -> tuple[dict[str, str], str]:
    """The manifest's file digests and overall digest, or a ConfigError saying what is wrong."""
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise ConfigError(f"{directory} has no {MANIFEST}", hint="is this a report bundle folder?")
    broken = f"{manifest_path} is not a report manifest"
    hint = "the bundle cannot be verified: get an intact copy from whoever ran it"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{broken} ({exc})", hint=hint) from exc
    files = manifest.get("files") if isinstance(manifest, dict) else None
    overall = manifest.get("digest") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not isinstance(overall, str):
        raise ConfigError(f"{broken} (no 'files' mapping and 'digest')", hint=hint)
    for name, digest in files.items():
        inside = not Path(name).is_absolute() and ".." not in Path(name).parts
        if not inside or not isinstance(digest, str):
            raise ConfigError(f"{broken} (entry {name!r} is not a file of the bundle)", hint=hint)
    return files, overall


def bundle_digest(directory: Path) -> str:
    """The overall digest the bundle's manifest records (publish it to detect tampering)."""
    return _read_manifest(directory)[1]


def verify_bundle(directory: Path, *, digest: str | None = None) -> list[str]:
    """Problems found (empty when the bundle is intact): changed, missing or extra files.

    The manifest guards against accidental change only: whoever edits a file can rewrite
    the manifest too. Against tampering, compare with ``digest``, the overall digest
    published when the run ended, through a channel the bundle does not travel with.
    """
    expected, recorded = _read_manifest(directory)
    problems = []
    for name, file_digest in expected.items():
        path = directory / name
        if not path.is_file():
            problems.append(f"missing: {name}")
        elif _digest(path) != file_digest:
            problems.append(f"changed: {name}")
    present = {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}
    problems += [f"extra: {name}" for name in sorted(present - set(expected) - {MANIFEST})]
    overall = hashlib.sha256(json.dumps(expected, sort_keys=True).encode()).hexdigest()
    if overall != recorded:
        problems.append("manifest digest does not match its file list")
    if digest is not None and digest.strip().lower() != recorded:
        problems.append(f"manifest digest {recorded} is not the published {digest.strip()}")
    return problems
