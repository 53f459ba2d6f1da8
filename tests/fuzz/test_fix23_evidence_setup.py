"""Fix 23: a found dossier is named for the setup that found it; the fuzz answers no longer
unpack as tuples; a gateway asking to wait is retried with the client's RetryPolicy numbers.

Evidence of the same failure found by two I-VANs (or at two gateways) is two files: the
second run no longer overwrites the first's. The same failure found again by the same
setup is still the same file (fix 22: no new file per run).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.catalog import Catalog
from harness.fuzz import CheckerTarget, FuzzReport, Retrieved, Submitted, exchange, run_fuzz
from harness.fuzz import properties as props
from harness.fuzz.evidence import GatewayReplay, write_evidence
from harness.fuzz.exchange import observe
from harness.fuzz.observation import Observation
from harness.fuzz.pool import DossierSpec, pool_for
from harness.fuzz.properties import PropertyFailed
from harness.fuzz.strategies import FuzzCase
from harness.signing import TestPKI
from tests.fuzz.conftest import AcceptsEverything


def _fuzz(catalog: Catalog, pki: TestPKI, found: Path, ivan: str, name: str = "gw") -> FuzzReport:
    """A run that finds the same failures whoever sends: the target accepts every mutant."""
    target = CheckerTarget(AcceptsEverything(catalog, pki.trust_store()), name=name)
    return run_fuzz(
        target, catalog, budget=6, seed=1, families=["facet"], valid=False, procedure="607",
        pki=pki, found=found, minimise=0, ivan=ivan,
    )  # fmt: skip


def _dossiers(report: FuzzReport) -> set[Path]:
    assert report.failures, "the fuzzer found nothing"
    return {f.evidence.dossier for f in report.failures if f.evidence is not None}


def test_two_ivans_finding_the_same_failure_keep_one_file_each(
    catalog: Catalog, pki: TestPKI, found: Path
) -> None:
    first = _dossiers(_fuzz(catalog, pki, found, "IVAN01"))
    kept = {path: path.read_bytes() for path in first}
    second = _dossiers(_fuzz(catalog, pki, found, "IVAN02"))
    assert not first & second
    assert {path: path.read_bytes() for path in first} == kept  # written beside, not over
    assert len(list(found.glob("*.xml"))) == len(first) + len(second)


def test_the_same_ivan_finding_it_again_rewrites_the_same_file(
    catalog: Catalog, pki: TestPKI, found: Path
) -> None:
    first = _dossiers(_fuzz(catalog, pki, found, "IVAN02"))
    again = _dossiers(_fuzz(catalog, pki, found, "IVAN02"))
    assert first == again and len(list(found.glob("*.xml"))) == len(first)


def test_two_gateways_finding_the_same_failure_keep_one_file_each(
    catalog: Catalog, pki: TestPKI, found: Path
) -> None:
    first = _dossiers(_fuzz(catalog, pki, found, "IVAN01", name="inproc[release-a]"))
    second = _dossiers(_fuzz(catalog, pki, found, "IVAN01", name="inproc[release-b]"))
    assert not first & second


def _failure(pki: TestPKI, catalog: Catalog) -> PropertyFailed:
    spec = DossierSpec(catalog.version, "600", 0, catalog.effective_from, 1, False)
    body = pool_for(catalog, pki).valid(spec).envelope
    obs = Observation(FuzzCase(spec, None, body), Submitted(400, ("XSD-001",), None), 0, 5)
    return PropertyFailed("valid-accepted", obs, "refused")


def test_replays_to_two_urls_or_as_two_ivans_are_two_files(
    catalog: Catalog, pki: TestPKI, found: Path
) -> None:
    """A URL run's note sends the dossier to that URL with that I-VAN's token: each setup
    keeps its own; the same setup twice is one file."""
    failure = _failure(pki, catalog)
    replays = [
        GatewayReplay("https://a.test", ivan="IVAN01"),
        GatewayReplay("https://a.test/", ivan="IVAN01"),  # the same gateway
        GatewayReplay("https://b.test", ivan="IVAN01"),
        GatewayReplay("https://a.test", ivan="IVAN02"),
    ]
    paths = [write_evidence(failure, found, replay=r).dossier for r in replays]
    assert paths[0] == paths[1] and len(set(paths)) == 3
    assert len(list(found.glob("*.txt"))) == 3
    assert "https://b.test/" in paths[2].with_suffix(".txt").read_text(encoding="utf-8")


# -- the answers are dataclasses, not tuples ----------------------------------------------


def test_answers_are_read_by_field_not_unpacked() -> None:
    submitted, retrieved = Submitted(202, (), "R1"), Retrieved(200, b"x")
    for answer in (submitted, retrieved):
        with pytest.raises(TypeError):
            iter(answer)  # type: ignore[call-overload]
        with pytest.raises(TypeError):
            answer[0]  # type: ignore[index]
    assert (submitted.status, submitted.receipt_id, retrieved.body) == (202, "R1", b"x")


# -- waiting out a gateway that asks to wait (RetryPolicy numbers, same waits) ---------


class TooManyRequests(CheckerTarget):
    """A gateway that answers 429 without Retry-After to every submission."""

    def submit(self, body: bytes, message_id: str) -> Submitted:
        return Submitted(429, (), None, retry_after=0.0)


class DownWithoutRetryAfter(CheckerTarget):
    """A gateway that answers 503 with no Retry-After: an answer, judged, never waited."""

    def submit(self, body: bytes, message_id: str) -> Submitted:
        return Submitted(503, ("SRV-001",), None)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits fuzz asked for, without waiting."""
    asked: list[float] = []
    monkeypatch.setattr(exchange, "_wait", asked.append)
    return asked


def _case(pki: TestPKI, catalog: Catalog) -> FuzzCase:
    return _failure(pki, catalog).case


def test_a_429_without_retry_after_backs_off_doubling_for_six_tries(
    catalog: Catalog, pki: TestPKI, waits: list[float]
) -> None:
    obs = observe(TooManyRequests(None), _case(pki, catalog))  # type: ignore[arg-type]
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert obs.unavailable is not None and re.search(r"HTTP 429 6 time", obs.unavailable)
    assert not props.failures(obs)  # no verdict on an unavailable gateway


def test_a_5xx_without_retry_after_is_judged_not_waited(
    catalog: Catalog, pki: TestPKI, waits: list[float]
) -> None:
    obs = observe(DownWithoutRetryAfter(None), _case(pki, catalog))  # type: ignore[arg-type]
    assert waits == [] and obs.unavailable is None
    assert "no-server-error" in {f.check for f in props.failures(obs)}
