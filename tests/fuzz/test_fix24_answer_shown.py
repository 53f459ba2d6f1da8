"""A failure's evidence shows the answer that proved it, as the gateway sent it: codes
alone cannot show a leaked stack trace or a missing signature (DESIGN.md: each failure
with the exchange that proved it). Before, the report said only "HTTP 400 no codes"."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from harness.cli import main
from harness.signing import TestPKI
from mock_gateway.local import LocalServer
from mock_gateway.testing import InProcessGateway


def test_a_failure_s_evidence_holds_the_answer_as_sent(tmp_path: Path, pki: TestPKI) -> None:
    out, found = tmp_path / "out", tmp_path / "found"
    with (
        InProcessGateway(pki=pki, release="error-code-renumbered") as gateway,
        LocalServer(gateway.gateway) as server,
    ):
        args = ["--gateway", server.url, "--token", "test-token-IVAN01", "--seed", "3"]
        options = ["--family", "date", "--budget", "40", "--out", str(out), "--found", str(found)]
        result = CliRunner().invoke(main, ["fuzz", *args, *options])
    assert result.exit_code == 1, result.output
    [results] = out.glob("fuzz-*/results.json")
    cases = json.loads(results.read_text(encoding="utf-8"))["cases"]
    shown = [text for case in cases for text in case.get("evidence", {}).values()]
    proofs = [text.split("answer as sent:\n", 1)[1] for text in shown if "answer as sent:" in text]
    assert proofs, shown
    assert all("XACNHAN_GDICH" in proof and "<MA_LOI>" in proof for proof in proofs)
