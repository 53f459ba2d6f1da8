"""Each case ends for the I-VAN's own reason: a dossier never forwarded fails (Decree 166
art. 30), a case needing an operation the adapter lacks is skipped with that reason, a
result message never relayed fails the baseline, and the adapter's own errors say what to do.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from harness.certification import (
    AdapterContext,
    AdapterFailed,
    CommandAdapter,
    HttpHookAdapter,
    Job,
    ReferenceIvan,
    Relay,
    run_certification,
)
from harness.certification.suite import load_suite, suite_dir
from harness.errors import ConfigError
from harness.message_kinds import RESULT
from harness.reporting import ReportBundle
from tests.certification.conftest import FAST, PROCEDURE

TICK_REASON = (
    "not supported by the adapter: no tick operation: BHXH's messages cannot reach the employer"
)


def outcomes(bundle: ReportBundle) -> dict[str, tuple[str, str]]:
    return {c.case_id.split("@")[0]: (c.outcome.value, c.message) for c in bundle.cases}


def certify(adapter: Any, tmp_path: Path, cases: list[str]) -> ReportBundle:
    return run_certification(
        adapter, procedures=[PROCEDURE], cases=cases, out=tmp_path, settings=FAST
    )


class NeverForwards(ReferenceIvan):
    """Takes every job, forwards none, and remembers what it was handed."""

    name = spec = "python:never-forwards"
    seen: ClassVar[list[Job]] = []

    def submit(self, job: Job, now: datetime) -> list[Relay]:
        self.seen.append(job)
        return []


class NoTick(ReferenceIvan):
    """The reference I-VAN behind a submit-only adapter (recover and restart, no tick)."""

    name = spec = "python:no-tick"
    capabilities = frozenset({"recover", "restart"})


class DropsResults(ReferenceIvan):
    """Reads and acknowledges every BHXH message but never relays the result (03/TB-TS)."""

    name = spec = "python:drops-results"

    def tick(self, now: datetime) -> list[Relay]:
        return [r for r in super().tick(now) if r.kind != RESULT]


def test_a_dossier_never_forwarded_fails_every_case_that_needs_it(tmp_path: Path) -> None:
    bundle = certify(NeverForwards(), tmp_path, ["CERT-SCH-01", "CERT-REJ-01", "CERT-MSG-01"])
    for case_id, (outcome, message) in outcomes(bundle).items():
        assert outcome == "failed", (case_id, message)
        assert "never forwarded job" in message and "Decree 166/2016 art. 30" in message
    [case] = [c for c in bundle.cases if c.case_id.startswith("CERT-REJ-01")]
    assert "rejection" in case.evidence["job"]


def test_the_i_van_is_never_told_which_defect_a_job_carries(tmp_path: Path) -> None:
    NeverForwards.seen.clear()
    certify(NeverForwards(), tmp_path, ["CERT-REJ-01"])
    [job] = NeverForwards.seen
    assert job.defect is None
    assert "defect" not in job.to_json()
    assert "defect" not in Job(**{**vars(job), "defect": "impossible-date"}).to_json()


def test_cases_needing_tick_are_skipped_for_a_submit_only_adapter(tmp_path: Path) -> None:
    cases = ["CERT-FWD-01", "CERT-MSG-01", "CERT-MNT-01", "CERT-MSG-02", "CERT-PKI-02"]
    found = outcomes(certify(NoTick(), tmp_path, cases))
    assert found["CERT-FWD-01"][0] == "passed", found
    for case_id in cases[1:]:
        assert found[case_id][0] == "skipped", found
        assert found[case_id][1].startswith(TICK_REASON), found


class CountsSubmits(NoTick):
    """A submit-only adapter that counts the jobs it is handed."""

    name = spec = "python:counts-submits"
    submitted: ClassVar[list[str]] = []

    def submit(self, job: Job, now: datetime) -> list[Relay]:
        self.submitted.append(job.job_id)
        return super().submit(job, now)


def test_a_scenario_whose_every_case_lacks_an_operation_is_not_run(tmp_path: Path) -> None:
    """Its cases are skipped saying why; running it would judge nothing and cost the vendor
    its real-time waits (the maintenance and PKI rollover scenarios hand over jobs too)."""
    CountsSubmits.submitted.clear()
    found = outcomes(certify(CountsSubmits(), tmp_path, ["CERT-MNT-01", "CERT-PKI-02"]))
    assert {outcome for outcome, _ in found.values()} == {"skipped"}, found
    assert CountsSubmits.submitted == []


def test_a_result_message_never_relayed_fails_the_baseline(tmp_path: Path) -> None:
    outcome, message = outcomes(certify(DropsResults(), tmp_path, ["CERT-MSG-01"]))["CERT-MSG-01"]
    assert outcome == "failed"
    assert f"BHXH's {RESULT} " in message and "never reached the employer" in message


# -- what the adapters say ------------------------------------------------------------------


class SlowHook(BaseHTTPRequestHandler):
    """A hook that starts, then answers /submit too late and /tick with an HTML page."""

    def log_message(self, *_args: Any) -> None:
        return None

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"] or 0))
        operation = self.path.strip("/")
        if operation == "submit":
            time.sleep(1.0)
        if operation == "tick":
            data, kind = "<html><body>Đăng nhập</body></html>".encode(), "text/html"
        else:
            data, kind = json.dumps({"capabilities": ["tick"]}).encode(), "application/json"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the adapter gave up waiting (the slow /submit)
            self.wfile.write(data)


@pytest.fixture
def slow_hook() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowHook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _context(tmp_path: Path) -> AdapterContext:
    return AdapterContext("http://x", "IVAN01", "I", "t", tmp_path / "w", tmp_path, "v")


def test_hook_errors_say_what_to_do(slow_hook: str, tmp_path: Path) -> None:
    adapter = HttpHookAdapter(slow_hook, timeout=0.3)
    adapter.start(_context(tmp_path))
    assert adapter.capabilities == {"tick"}
    with pytest.raises(AdapterFailed) as slow:
        adapter.call("submit", {})
    assert "did not answer within 0.3 s" in str(slow.value)
    assert "--adapter-option timeout=" in (slow.value.hint or "")
    with pytest.raises(AdapterFailed) as html:
        adapter.tick(datetime(2026, 1, 1))
    assert "<html><body>Đăng nhập" in str(html.value) and "b'" not in str(html.value)
    advice = adapter.how_to_add("recover")
    assert f"{slow_hook}/recover" in advice and "template" not in advice


def test_command_template_mistakes_are_named_before_any_case(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown placeholder \{dosier\}"):
        CommandAdapter("vendor-cli submit {dosier}")
    script = tmp_path / "ivan.sh"
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    script.chmod(0o644)
    adapter = CommandAdapter(f"{script} submit {{dossier}}")
    with pytest.raises(ConfigError, match="is not executable"):
        adapter.start(_context(tmp_path))
    assert "--adapter-option tick=" in adapter.how_to_add("tick")


def test_a_crashed_node_or_java_command_shows_where_it_put_the_error() -> None:
    from harness.certification.command_adapter import _stderr_summary

    node = (
        "/srv/ivan.js:12\n    throw new TypeError('no key');\n    ^\n\n"
        "TypeError: no key\n    at Object.<anonymous> (/srv/ivan.js:12:11)\n"
        "    at node:internal/main/run_main_module:28:49\n"
    )
    assert "TypeError: no key" in _stderr_summary(node)
    java = 'Exception in thread "main" java.lang.IllegalStateException: x\n\tat A.main(A.java:3)'
    assert _stderr_summary(java).startswith('Exception in thread "main"')


def test_a_case_needing_an_unknown_operation_is_refused_at_load(tmp_path: Path) -> None:
    folder = tmp_path / "suite"
    shutil.copytree(suite_dir(), folder)
    doc = yaml.safe_load((folder / "cases.yaml").read_text(encoding="utf-8"))
    doc["cases"]["CERT-MSG-01"]["needs"] = ["poll"]
    (folder / "cases.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    with pytest.raises(ConfigError, match=r"case CERT-MSG-01: needs must be a list of tick"):
        load_suite(folder)
