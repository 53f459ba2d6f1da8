"""Failures as fixtures: the minimal failing dossier on disk, with how to reproduce it.

A fuzz failure is only useful if someone can replay it tomorrow without hypothesis: the
dossier bytes go to ``<dir>/<sha>.xml`` (``fixtures/dossiers/found`` by default, so a
found bug can be committed as a regression case) and a sidecar ``<sha>.txt`` whose first
line is the one command that shows the verdict again (after a comment line saying what it
needs, ``$BHXH_TOKEN``, when it sends the dossier to a gateway), followed by what was expected and
what the target answered. The file name is a digest of the property, the dossier's spec,
the mutation, the I-VAN the dossier names, the PKI that signed it and the gateway that
answered (which decide the bytes but for the signatures' SigningTime, and what the note
says): the same failure found twice by the same setup is written once, and a run as
another I-VAN or against another gateway does not overwrite it.

In a hypothesis test, every failing call during shrinking is recorded and only the last
one per property and family is written: hypothesis replays the minimal example last.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.fuzz.replay import GatewayReplay
from harness.identities import DEFAULT_IVAN_CODE
from harness.paths import cache_dir, fixtures_dir

if TYPE_CHECKING:  # properties imports hypothesis: not at the CLI's start-up
    from harness.fuzz.properties import PropertyFailed

FOUND_ENV = "BHXH_FUZZ_FOUND"
"""Environment variable naming the evidence folder (default ``fixtures/dossiers/found``)."""


def found_dir(directory: Path | None = None) -> Path:
    """Where evidence goes: ``directory``, else ``$BHXH_FUZZ_FOUND``, else the fixtures."""
    if directory is not None:
        return directory
    env = os.environ.get(FOUND_ENV)
    return Path(env) if env else fixtures_dir() / "dossiers" / "found"


@dataclass(frozen=True)
class Evidence:
    """A written failure: the dossier, its note, and the command that replays it."""

    dossier: Path
    note: Path
    command: str


def reproduce_command(path: Path, catalog_version: str, pki_dir: Path | None = None) -> str:
    """``bhxh-harness dossier check`` for ``path``, with the PKI it was signed under.

    The path is absolute, so the line works from any folder. ``BHXH_HARNESS_PKI`` is
    spelled out unless the PKI is the project's default cache: whoever replays the command
    tomorrow will not have this process's environment.
    """
    shown = shlex.quote(str(path.resolve()))
    command = f"bhxh-harness dossier check --catalog {catalog_version} {shown}"
    if pki_dir is not None and pki_dir.resolve() != (cache_dir() / "pki").resolve():
        command = f"BHXH_HARNESS_PKI={shlex.quote(str(pki_dir))} {command}"
    return command


def write_evidence(
    failure: PropertyFailed,
    directory: Path | None = None,
    *,
    pki_dir: Path | None = None,
    replay: GatewayReplay | None = None,
    ivan: str | None = None,
    gateway: str | None = None,
    shrunk: str = "",
    taken: dict[str, str] | None = None,
    cause: str = "",
) -> Evidence:
    """Write the failing case's bytes and a note; returns where and how to replay them
    (against ``replay``'s gateway when the run fuzzed a URL). ``ivan`` (the I-VAN the
    dossier names) and ``gateway`` (the target's name) are part of the file name.
    ``shrunk`` says whether it was minimised; ``taken`` (name -> cause) holds the run's
    names so far: another ``cause`` on the same dossier gets a name of its own."""
    from harness.fuzz.properties import requirement

    case = failure.case
    folder = found_dir(directory).resolve()  # absolute, like the reproduce line
    folder.mkdir(parents=True, exist_ok=True)
    name = _name_in_setup(failure, pki_dir, replay, ivan, gateway)
    if taken is not None:
        if taken.setdefault(name, cause) != cause:  # one file per distinct failure
            name = _name_in_setup(failure, pki_dir, replay, ivan, gateway, cause)
        taken[name] = cause
    dossier, note = folder / f"{name}.xml", folder / f"{name}.txt"
    dossier.write_bytes(case.body)
    check = reproduce_command(dossier, case.spec.catalog_version, pki_dir)
    command = check
    if replay is not None:
        command = replay.command(dossier, check=failure.check, pki_dir=pki_dir)
    expected = ",".join(sorted(case.expected_codes)) or "accepted"
    if case.expected_warnings:
        expected += f" with warning {','.join(sorted(case.expected_warnings))}"
    lines = [
        command,
        f"property: {failure.check}",
        f"requirement: {requirement(failure.check)}",
        f"reason: {failure.reason}",
        f"mutation: {case.name}",
        f"expected: {expected}",
        f"answer: {failure.observation.answer_for(failure.check)}",
    ]
    if failure.observation.detail:
        lines.append(f"gateway said: {failure.observation.detail}")
    lines.append(f"dossier: {case.spec}")
    if shrunk:
        lines.append(f"minimised: {shrunk}")
    if replay is not None:
        lines.insert(1, f"expected verdict: {check}")
        lines.insert(0, replay.token_line())  # a comment: the line stays runnable
    if failure.observation.error:
        lines += ["", failure.observation.error]
    note.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Evidence(dossier, note, command)


def _name_in_setup(
    failure: PropertyFailed,
    pki_dir: Path | None,
    replay: GatewayReplay | None,
    ivan: str | None,
    gateway: str | None,
    cause: str = "",
) -> str:
    """:func:`evidence_name` of ``failure`` as this setup found it: the I-VAN given, else
    ``replay``'s, else the default one; the gateway named, else the one ``replay`` sends to."""
    case = failure.case
    return evidence_name(
        failure.check,
        str(case.spec),
        case.name,
        ivan=ivan or (replay.ivan if replay else None) or DEFAULT_IVAN_CODE,
        pki="" if pki_dir is None else str(pki_dir.resolve()),
        gateway=gateway or ("" if replay is None else replay.url.rstrip("/")),
        cause=cause,
    )


def evidence_name(
    check: str,
    spec: str,
    mutation: str,
    *,
    ivan: str,
    pki: str = "",
    gateway: str = "",
    cause: str = "",
) -> str:
    """The file name of a failure's evidence: a digest of what decides it, the setup that
    found it included (the I-VAN the dossier names, the PKI's folder, the gateway that
    answered), so a run as another I-VAN or against another gateway keeps its own. Not the
    bytes: each signing stamps a new SigningTime, so the same failure found twice would be
    saved twice. Not the unsigned content (``harness.regression.fingerprint.content_digest``):
    a hostile or broken-encoding mutant does not parse, and is digested with its signatures."""
    parts = (check, spec, mutation, ivan, pki, gateway, *((cause,) if cause else ()))
    key = "\n".join(parts).encode()  # a cause only for a second one on the same dossier
    return hashlib.sha256(key).hexdigest()[:16]


class EvidenceLog:
    """Remembers the last failure per (property, family) and writes them on demand."""

    def __init__(
        self, directory: Path | None = None, *, pki_dir: Path | None = None, ivan: str | None = None
    ) -> None:
        self.directory = directory
        self.pki_dir = pki_dir
        self.ivan = ivan
        self._last: dict[tuple[str, str], PropertyFailed] = {}

    def record(self, failure: PropertyFailed) -> None:
        self._last[(failure.check, failure.case.family)] = failure

    def flush(self) -> list[Evidence]:
        written = [
            write_evidence(f, self.directory, pki_dir=self.pki_dir, ivan=self.ivan)
            for f in self._last.values()
        ]
        self._last.clear()
        return written


def hunt(test: Callable[[], None], log: EvidenceLog) -> None:
    """Run a hypothesis test whose properties record into ``log``; on failure write evidence.

    The exception is re-raised with the evidence paths and replay commands as notes, so a
    CI log shows where the minimal dossier is.
    """
    try:
        test()
    except Exception as exc:
        for evidence in log.flush():
            exc.add_note(f"evidence: {evidence.dossier}\nreproduce: {evidence.command}")
        raise


__all__ = [
    "FOUND_ENV",
    "Evidence",
    "EvidenceLog",
    "GatewayReplay",
    "evidence_name",
    "found_dir",
    "hunt",
    "reproduce_command",
    "write_evidence",
]
