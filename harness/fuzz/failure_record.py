"""A distinct failure as the report gives it: its minimal dossier written as evidence,
named for who fuzzed which gateway. Its own module: writing a failure down is apart
from running the cases, and is done alike for a finished and a stopped campaign."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.catalog import Catalog
from harness.fuzz.evidence import GatewayReplay, write_evidence
from harness.fuzz.minimise import Cause, shrunk
from harness.fuzz.outcome import FuzzFailure
from harness.fuzz.pool import DossierSpec
from harness.fuzz.properties import PropertyFailed
from harness.signing import TestPKI


@dataclass(frozen=True)
class Setup:
    """Who fuzzed which gateway, and how to replay there: what evidence is written for."""

    gateway: str
    ivan: str
    pki: TestPKI
    replay: GatewayReplay | None
    taken: dict[str, str]  # evidence name -> the cause written there: one file per failure


def written(
    failure: PropertyFailed,
    minimal: PropertyFailed,
    occurrences: int,
    found: Path | None,
    setup: Setup,
    catalog: Catalog,
    seen: tuple[tuple[str, str], ...] = (),
    key: Cause = (),
) -> FuzzFailure:
    """``failure`` as the report gives it, with ``minimal`` (``failure`` itself when it was
    not minimised) written as evidence in ``found``, named for the ``setup`` that found it."""
    evidence = write_evidence(
        minimal,
        found,
        pki_dir=setup.pki.directory,
        replay=setup.replay,
        ivan=setup.ivan,
        gateway=setup.gateway,
        shrunk=shrunk(failure.check, minimal is not failure),
        taken=setup.taken,
        cause="/".join(key),
    )
    obs = minimal.observation
    return FuzzFailure(
        failure.check,
        failure.case.family,
        minimal.case.name,
        minimal.reason,
        obs.answer_for(failure.check),
        tuple(sorted(minimal.case.expected_codes)),
        () if obs.answer is None else tuple(dict.fromkeys(obs.answer.codes)),
        occurrences,
        minimal is not failure,
        evidence,
        minimal.case.spec.procedure,
        _forms(catalog, minimal.case.spec),
        obs.detail,
        seen,
        obs.body_for(failure.check),
    )


def _forms(catalog: Catalog, spec: DossierSpec) -> tuple[str, ...]:
    """The form versions ``spec``'s valid dossier carries (``D02-TS-505``): what a
    failure line names beside the procedure, so whoever reads it knows where to look."""
    return spec.form_files(catalog)


__all__ = ["Setup", "written"]
