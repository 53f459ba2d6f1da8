"""Fix 24: a failure's evidence shows *that* failure again. Minimising keeps the cause the
run counted; a timeout is not called minimal; a reproduce line replays the sequence that
showed it (two POSTs under one id, the POST then the GET), reads the token from
$BHXH_TOKEN, waits the run's timeout, and serves the in-process release that failed."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from harness.catalog import load_catalog
from harness.cli import main
from harness.fuzz import run_fuzz
from harness.fuzz.evidence import GatewayReplay
from harness.fuzz.report import report_bundle
from harness.fuzz.strategies import FuzzCase
from harness.fuzz.target import Retrieved, Submitted
from harness.signing import TestPKI

CATALOG = "2026.1"
REPLAY_PORT = 18721  # the QA probe's range: nothing else of this suite listens there


@dataclass
class Drifting:
    """Accepts every dossier (so every mutant breaks rejected-as-expected, answering no
    code) for its first ``honest`` message ids, then answers XML-001 to any new one: a
    minimiser that kept only the property would end on that other bug."""

    honest: int
    name: str = "drifting"
    delay: float = 0.0
    ids: list[str] = field(default_factory=list)
    stored: dict[str, bytes] = field(default_factory=dict)

    def submit(self, body: bytes, message_id: str) -> Submitted:
        time.sleep(self.delay)
        if message_id not in self.ids:
            self.ids.append(message_id)
        if self.ids.index(message_id) >= self.honest:
            return Submitted(400, ("XML-001",), None)
        receipt = "R" + hashlib.sha256(message_id.encode()).hexdigest()[:12]
        self.stored[receipt] = body
        return Submitted(202, (), receipt)

    def fetch(self, receipt_id: str) -> Retrieved:
        body = self.stored.get(receipt_id)
        return Retrieved(200 if body else 404, body)


def test_minimising_keeps_the_cause_the_run_counted(pki: TestPKI, found: Path) -> None:
    report = run_fuzz(
        Drifting(honest=2), load_catalog(CATALOG), budget=2, families=["hostile"],
        procedure="600", valid=False, pki=pki, found=found, minimise=10,
    )  # fmt: skip
    assert report.failures
    for failure in report.failures:  # as first seen: not a case of XML-001, another bug
        assert failure.codes == () and not failure.minimised, failure
        assert failure.evidence is not None
        note = failure.evidence.note.read_text(encoding="utf-8")
        assert "minimised: not minimised (the dossier as first seen)" in note


def test_two_causes_on_one_dossier_get_two_evidence_files(pki: TestPKI, found: Path) -> None:
    from harness.fuzz.evidence import write_evidence
    from harness.fuzz.exchange import observe
    from harness.fuzz.properties import failures

    case = _first_case(pki)
    failed = failures(observe(Drifting(honest=1), case))[0]
    taken: dict[str, str] = {}
    one = write_evidence(failed, found, taken=taken, cause="rejected-as-expected/XML-002/")
    two = write_evidence(failed, found, taken=taken, cause="rejected-as-expected/XML-002/X")
    assert one.dossier != two.dossier and one.note.exists() and two.note.exists()
    again = write_evidence(failed, found, taken=taken, cause="rejected-as-expected/XML-002/")
    assert again.dossier == one.dossier  # the same failure found twice: written once


def _first_case(pki: TestPKI) -> FuzzCase:
    """One hostile case of procedure 600, drawn by hypothesis's simplest example."""
    from hypothesis import find

    from harness.fuzz.strategies import fuzz_cases

    strategy = fuzz_cases(load_catalog(CATALOG), "600", families=["hostile"], pki=pki, valid=False)
    case: FuzzCase = find(strategy, lambda c: True)
    return case


def test_a_timeout_is_not_called_minimal_and_curl_waits_the_run_s_timeout(
    pki: TestPKI, found: Path, tmp_path: Path
) -> None:
    replay = GatewayReplay("http://gateway.test:8080", ivan="IVAN01")
    report = run_fuzz(
        Drifting(honest=10, delay=0.5), load_catalog(CATALOG), budget=1, families=[],
        procedure="600", pki=pki, found=found, timeout=0.1, replay=replay,
    )  # fmt: skip
    [failure] = [f for f in report.failures if f.check == "within-timeout"]
    assert failure.evidence is not None
    assert "--max-time 6 " in failure.evidence.command  # 0.1 s + a 5 s margin
    [cell] = [c for c in report_bundle(report, tmp_path).cases if c.case_id == failure.cell]
    [said] = cell.evidence.values()
    assert "not minimised (a timeout)" in said and "minimal dossier" not in said
    note = failure.evidence.note.read_text(encoding="utf-8")
    assert "minimised: not minimised (a timeout)" in note


class _Gateway(BaseHTTPRequestHandler):
    """Acknowledges a POST with a receipt, and records each request (method, path, token)."""

    seen: ClassVar[list[tuple[str, str, str]]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self._record("POST")
        self._answer(202, b"<KET_QUA>\n<MA_GDICH>R123</MA_GDICH>\n</KET_QUA>")

    def do_GET(self) -> None:
        self._record("GET")
        self._answer(404, b"")

    def _record(self, method: str) -> None:
        self.seen.append((method, self.path, self.headers.get("Authorization", "")))

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Gateway.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_retrievability_line_posts_then_gets_what_the_202_acknowledged(
    stub: str, tmp_path: Path
) -> None:
    dossier = tmp_path / "d.xml"
    dossier.write_bytes(b"<x/>")
    line = GatewayReplay(stub, ivan="IVAN01").command(dossier, check="acknowledged-retrievable")
    assert "<token>" not in line
    env = {**os.environ, "BHXH_TOKEN": "tok-1"}
    subprocess.run(["bash", "-c", line], env=env, check=True, capture_output=True, timeout=60)
    assert _Gateway.seen == [
        ("POST", "/api/v1/dossiers", "Bearer tok-1"),
        ("GET", "/api/v1/dossiers/R123", "Bearer tok-1"),
    ]


def test_the_reproduce_line_of_a_faulty_release_shows_its_failure(tmp_path: Path) -> None:
    out, found = tmp_path / "out", tmp_path / "found"
    args = ["--release", "idempotency-broken", "--family", "valid", "--procedure", "600"]
    args += ["--budget", "8", "--seed", "1", "--catalog", CATALOG]
    result = CliRunner().invoke(main, ["fuzz", *args, "--out", str(out), "--found", str(found)])
    assert result.exit_code == 1, result.output
    [folder] = out.glob("fuzz-*")
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    [failure] = [f for f in data["run"]["meta"].get("failures", [])] or _failures(result.output)
    env = {**os.environ, "BHXH_REPLAY_PORT": str(REPLAY_PORT)}
    shown = subprocess.run(
        ["bash", "-c", failure], env=env, capture_output=True, text=True, timeout=120
    )
    # the resent body under the same id is refused: the release's bug, shown again
    assert shown.stdout.count("<MA_LOI>DUP-001") >= 1, shown.stdout + shown.stderr


def _failures(output: str) -> list[str]:
    """The reproduce lines the summary printed."""
    return [
        line.split("reproduce: ", 1)[1]
        for line in output.splitlines()
        if line.strip().startswith("reproduce: ")
    ]
