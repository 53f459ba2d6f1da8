"""QA probe of ``bhxh-harness fuzz`` (fix 22): what a tester hunting gateway bugs is told.

Each test runs against the in-process mock gateway, simulating a seeded faulty release
(``fixtures/releases``), or against a checker target, and asserts what the report says.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner, Result
from rich.console import Console

from harness.catalog import Catalog, load_catalog
from harness.cli import main
from harness.errors import GatewayUnavailable
from harness.fuzz import CheckerTarget, Submitted, exchange, run_fuzz
from harness.fuzz.cli import _summary
from harness.fuzz.evidence import GatewayReplay, write_evidence
from harness.fuzz.http_target import HttpTarget
from harness.fuzz.observation import Observation
from harness.fuzz.outcome import FuzzReport
from harness.fuzz.pool import DossierSpec, pool_for
from harness.fuzz.properties import PropertyFailed
from harness.fuzz.report import report_bundle
from harness.fuzz.runner import _no_verdict
from harness.fuzz.strategies import FuzzCase
from harness.signing import TestPKI
from mock_gateway.faulty_app import FaultAdapter, FaultyGateway, parse_spec
from mock_gateway.testing import InProcessGateway
from mock_gateway.transport import DEFAULT_BASE_URL

CATALOG = "2026.1"


@pytest.fixture
def gateway(request: pytest.FixtureRequest, pki: TestPKI) -> Iterator[HttpTarget]:
    """The mock gateway in process, simulating the release the test is parametrised with."""
    with InProcessGateway(pki=pki, release=request.param) as gw:
        yield HttpTarget(gw.session(DEFAULT_BASE_URL), DEFAULT_BASE_URL, name="inproc")


def _printed(report: FuzzReport) -> str:
    out = io.StringIO()
    _summary(Console(file=out, width=1000, highlight=False), report, "FAILED")
    return out.getvalue()


def _cli(tmp_path: Path, *args: str) -> Result:
    out, found = tmp_path / "out", tmp_path / "found"
    return CliRunner().invoke(main, ["fuzz", "--out", str(out), "--found", str(found), *args])


def _results(tmp_path: Path) -> dict[str, object]:
    [folder] = (tmp_path / "out").glob("fuzz-*")
    data: dict[str, object] = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    return data


# -- 1. an idempotency failure's reproduce line sends the body twice under one id ---------


@pytest.mark.parametrize("gateway", ["idempotency-broken"], indirect=True)
def test_an_idempotency_failure_reproduces_with_one_fixed_message_id(
    gateway: HttpTarget, pki: TestPKI, found: Path
) -> None:
    replay = GatewayReplay("http://gateway.test:8080", ivan="IVAN01")
    report = run_fuzz(
        gateway, load_catalog(CATALOG), budget=8, seed=1, families=[], procedure="600",
        pki=pki, found=found, minimise=0, replay=replay,
    )  # fmt: skip
    [failure] = [f for f in report.failures if f.check == "idempotent"]
    assert failure.evidence is not None
    command = failure.evidence.command
    assert command.startswith("id=fuzz-replay-$(date +%s%N); curl ")
    assert command.count('-H "X-Message-Id: $id"') == 2 and command.count("curl ") == 2
    assert "None" not in failure.reason and "no receipt" in failure.reason
    note = failure.evidence.note.read_text(encoding="utf-8")
    [answer] = [line for line in note.splitlines() if line.startswith("answer: ")]
    assert "resent under the same X-Message-Id: HTTP 409 DUP-001, no receipt" in answer
    assert "requirement: DESIGN.md Gateway API: the same X-Message-Id" in note
    [cell] = [c for c in report_bundle(report, found).cases if c.case_id == failure.cell]
    assert "same X-Message-Id with the same body returns the same receipt" in cell.requirement


# -- 2. the same failure found twice is written once --------------------------------------


def test_the_same_failure_signed_twice_is_written_once(pki: TestPKI, found: Path) -> None:
    spec = DossierSpec(CATALOG, "600", 0, "01/2026", 1, False)
    body = pool_for(load_catalog(CATALOG), pki).valid(spec).envelope
    later = re.sub(rb"SigningTime>[^<]+<", b"SigningTime>2031-01-01T00:00:00Z<", body)
    assert later != body
    for signed in (body, later):  # the same case, signed a second later on another run
        obs = Observation(FuzzCase(spec, None, signed), Submitted(400, ("XSD-001",), None), 0, 5)
        write_evidence(PropertyFailed("valid-accepted", obs, "refused"), found)
    assert len(list(found.glob("*.xml"))) == 1 and len(list(found.glob("*.txt"))) == 1


# -- 3. a family that applies to none of the procedures is refused; counts are shown -------


def test_a_family_that_applies_to_none_of_the_procedures_is_refused(
    tmp_path: Path, pki_dir: Path
) -> None:
    result = _cli(tmp_path, "--budget", "20", "--family", "wage", "--procedure", "604")
    assert result.exit_code == 2, result.output
    first, hint = result.stderr.splitlines()[:2]
    assert first == "error: --family wage applies to none of procedure(s) 604"
    assert hint.startswith("Hint: wage applies to procedure(s) 600, 601 of catalog")


def test_a_family_gets_its_cases_and_the_counts_are_shown(tmp_path: Path, pki_dir: Path) -> None:
    result = _cli(tmp_path, "--budget", "40", "--family", "wage")
    assert result.exit_code == 0, result.output
    [line] = [x for x in result.stdout.splitlines() if "cases by family:" in x]
    counts = _results(tmp_path)["run"]["meta"]["cases_by_family"]  # type: ignore[index]
    assert counts["wage"] >= 10 and f"wage {counts['wage']}" in line, counts


def test_a_requested_family_that_got_no_case_leaves_the_run_incomplete(
    tmp_path: Path, pki_dir: Path
) -> None:
    result = _cli(tmp_path, "--budget", "1", "--family", "wage", "--family", "date")
    assert result.exit_code == 3, result.output
    assert "fuzz: INCOMPLETE: 0 distinct failure(s) in 1 cases" in result.stdout
    assert "no verdict on family(ies) " in result.stdout and "raise --budget" in result.stdout


# -- 4. a short 503 burst is waited out, not reported as the gateway's bugs ---------------


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits fuzz asked for, without waiting (tests assert behaviour, not timing)."""
    asked: list[float] = []
    monkeypatch.setattr(exchange, "_wait", asked.append)
    return asked


def test_a_503_burst_with_retry_after_is_waited_out(
    pki: TestPKI, found: Path, waits: list[float], catalog: Catalog
) -> None:
    with InProcessGateway(pki=pki) as gw:
        faulty = FaultyGateway(gw.gateway, parse_spec("burst-503:count=3,retry_after=1"))
        session = requests.Session()
        session.mount(DEFAULT_BASE_URL + "/", FaultAdapter(faulty, DEFAULT_BASE_URL))
        session.headers["Authorization"] = f"Bearer {gw.token()}"
        target = HttpTarget(session, DEFAULT_BASE_URL, name="inproc")
        report = run_fuzz(target, catalog, budget=8, seed=1, pki=pki, found=found, minimise=0)
    assert report.ok and report.cases == 8, report.failures
    assert waits == [1.0, 1.0, 1.0]
    assert not found.exists() or not list(found.iterdir())


class AlwaysBusy(CheckerTarget):
    """A gateway that stays unavailable: every submission is 503 with Retry-After."""

    def submit(self, body: bytes, message_id: str) -> Submitted:
        return Submitted(503, ("SRV-001",), None, retry_after=5.0)


def test_a_gateway_that_stays_unavailable_ends_the_run_with_no_verdict(
    pki: TestPKI, found: Path, waits: list[float], catalog: Catalog
) -> None:
    target = AlwaysBusy(None)  # type: ignore[arg-type]  # it never checks a dossier
    with pytest.raises(
        GatewayUnavailable, match=re.escape("answered HTTP 503 (Retry-After: 5) 6 time")
    ):
        run_fuzz(target, catalog, budget=8, seed=1, pki=pki, found=found, minimise=0)
    assert sum(waits) <= exchange.MAX_WAIT and not found.exists()


# -- 5. the GUID signature Id quirk of quirks.yaml is sent as a valid case ----------------


@pytest.mark.parametrize("gateway", ["guid-signature-id"], indirect=True)
def test_fuzz_finds_the_guid_signature_id_release(
    gateway: HttpTarget, pki: TestPKI, found: Path
) -> None:
    report = run_fuzz(
        gateway, load_catalog(CATALOG), budget=60, seed=3, families=[], pki=pki,
        found=found, minimise=0,
    )  # fmt: skip
    [failure] = report.failures
    assert failure.check == "valid-accepted" and failure.family == "valid"
    assert failure.mutation == "valid:quirk:guid-signature-id" and "SIG-101" in failure.codes


# -- 6. what the gateway objected to, in words ---------------------------------------------


@pytest.mark.parametrize("gateway", ["pa-code-removed"], indirect=True)
def test_a_failure_says_where_the_gateway_objected_and_in_words(
    gateway: HttpTarget, pki: TestPKI, found: Path
) -> None:
    report = run_fuzz(
        gateway, load_catalog(CATALOG), budget=40, seed=1, families=[], procedure="601",
        pki=pki, found=found, minimise=0,
    )  # fmt: skip
    [failure] = report.failures
    assert "/PA" in failure.detail and "value=" in failure.detail
    assert f"gateway said: {failure.detail}" in _printed(report)
    assert failure.evidence is not None and failure.evidence.dossier.is_absolute()
    assert f"gateway said: {failure.detail}" in failure.evidence.note.read_text("utf-8")
    [cell] = [c for c in report_bundle(report, found).cases if c.case_id == failure.cell]
    [evidence] = cell.evidence.values()
    assert "expected: accepted" in evidence and "()" not in evidence and "('" not in evidence
    assert len(failure.codes) == len(set(failure.codes))


def test_a_cell_titles_its_count_in_english_and_meta_says_what_was_asked(
    tmp_path: Path, pki_dir: Path
) -> None:
    result = _cli(tmp_path, "--budget", "6", "--family", "date", "--procedure", "600")
    assert result.exit_code == 0, result.output
    data = _results(tmp_path)
    meta = data["run"]["meta"]  # type: ignore[index]
    assert meta["budget"] == 6 and meta["families"] == ["date"] and meta["procedures"] == ["600"]
    assert meta["found"] == str((tmp_path / "found").resolve())
    command = meta["reproduce"]
    assert command.startswith("bhxh-harness fuzz ") and "--family date" in command
    titles = [c["title"] for c in data["cases"]]  # type: ignore[attr-defined]
    assert not any(t.startswith("1 ") and t.endswith(" cases") for t in titles), titles


# -- 7. one bug is one distinct failure, listing where it showed ---------------------------


@pytest.mark.parametrize("gateway", ["idempotency-broken"], indirect=True)
def test_one_bug_under_several_procedures_is_one_distinct_failure(
    gateway: HttpTarget, pki: TestPKI, found: Path
) -> None:
    report = run_fuzz(
        gateway, load_catalog(CATALOG), budget=40, seed=2, families=["encoding"],
        pki=pki, found=found, minimise=0,
    )  # fmt: skip
    [failure] = report.failures
    assert failure.check == "idempotent" and len({p for _, p in failure.seen}) > 1
    assert "showed in: " in _printed(report)
    cells = {c.case_id: c for c in report_bundle(report, found).cases}
    assert failure.evidence is not None
    for family, procedure in failure.seen:  # every cell it showed in points at the fixture
        cell = cells[f"FUZZ-{family}@{procedure}"]
        assert cell.reproduce == failure.evidence.command, cell
        if cell.case_id != failure.cell:
            assert f"the same failure as {failure.cell}" in cell.message


# -- 8. --family valid runs valid dossiers only, quirks included ---------------------------


def test_family_valid_shows_only_valid_cells(tmp_path: Path, pki_dir: Path) -> None:
    result = _cli(
        tmp_path, "--budget", "40", "--family", "valid", "--seed", "3", "--lifecycle-steps", "0"
    )
    assert result.exit_code == 0, result.output
    cells = {c["case_id"].split("@")[0] for c in _results(tmp_path)["cases"]}  # type: ignore[attr-defined,index]
    assert cells == {"FUZZ-valid"}


# -- 9. --release, and options an inproc run would ignore ----------------------------------


def test_release_simulates_a_faulty_release_in_process(tmp_path: Path, pki_dir: Path) -> None:
    args = ["--budget", "8", "--family", "valid", "--procedure", "600", "--seed", "1"]
    result = _cli(tmp_path, "--release", "idempotency-broken", *args)
    assert result.exit_code == 1, result.output
    assert "idempotent [valid] procedure 600" in result.stdout
    assert _results(tmp_path)["run"]["meta"]["target"] == "inproc[idempotency-broken]"  # type: ignore[index]


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (
            ["--gateway", "http://127.0.0.1:9", "--token", "t", "--release", "slow-d02"],
            "--release slow-d02: only --gateway inproc can simulate a release",
            "leave --release out for a URL",
        ),
        (
            ["--gateway", "inproc[error-code-renumbered]"],
            "a simulated release is chosen with --release",
            "--gateway inproc --release error-code-renumbered",
        ),
        (["--token", "abc"], "--token is for a gateway URL", "leave --token out"),
        (["--release", "nosuch"], "unknown gateway release 'nosuch'", "known releases:"),
    ],
)
def test_options_an_inproc_run_would_ignore_are_refused(
    args: list[str], message: str, hint: str, tmp_path: Path, pki_dir: Path
) -> None:
    result = _cli(tmp_path, "--budget", "1", *args)
    assert result.exit_code == 2, result.output
    first, second = result.stderr.splitlines()[:2]
    assert first.startswith("error: ") and message in first
    assert second.startswith("Hint: ") and hint in second


# -- 10. the last case before the gateway went away, in words ------------------------------


def test_the_last_case_sent_is_said_in_words() -> None:
    spec = DossierSpec(CATALOG, "612", 303, "03/2026", 2, True)
    report = FuzzReport("inproc", CATALOG, 0, started_at=datetime.now(UTC), run_id="fuzz-x")
    message = str(_no_verdict(GatewayUnavailable("gone"), report, 0, FuzzCase(spec, None, b"")))
    assert "FuzzCase(" not in message and "seed=" not in message
    assert "the last case sent was the valid procedure 612's dossier (catalog 2026.1, seed 303" in (
        message
    )
