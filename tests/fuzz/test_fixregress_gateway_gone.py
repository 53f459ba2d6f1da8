"""A gateway that goes away during a fuzz run is no finding about it: the run ends with
exit 3 (no verdict) and writes no "minimal failure" of a refused connection; a connection
dropped while ``/healthz`` still answers stays a crash the properties judge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result

from harness.cli import main
from harness.errors import GatewayUnavailable
from harness.fuzz.exchange import observe
from harness.fuzz.http_target import HttpTarget
from harness.signing import ensure_pki
from mock_gateway.local import LocalServer
from mock_gateway.testing import InProcessGateway

URL = "http://127.0.0.1:9"


class _Dropping(requests.Session):
    """Every submission's connection is dropped; ``/healthz`` answers or not."""

    def __init__(self, *, healthy: bool) -> None:
        super().__init__()
        self.healthy = healthy

    def post(self, *_args: Any, **_kwargs: Any) -> requests.Response:  # type: ignore[override]
        raise requests.ConnectionError("Connection aborted: RemoteDisconnected")

    def get(self, *_args: Any, **_kwargs: Any) -> requests.Response:  # type: ignore[override]
        if not self.healthy:
            raise requests.ConnectionError("Connection refused")
        response = requests.Response()
        response.status_code = 200
        return response


def test_a_dropped_connection_while_healthz_answers_is_still_the_cases_crash() -> None:
    target = HttpTarget(_Dropping(healthy=True), URL)
    with pytest.raises(requests.ConnectionError):
        target.submit(b"<x/>", "m-1")
    assert target.unavailable is None


def test_a_dropped_connection_and_no_healthz_is_a_gateway_gone() -> None:
    target = HttpTarget(_Dropping(healthy=False), URL)
    with pytest.raises(GatewayUnavailable, match=f"the gateway at {URL} stopped answering"):
        target.submit(b"<x/>", "m-1")
    assert isinstance(target.unavailable, GatewayUnavailable)


def _fuzz(tmp_path: Path, *args: str) -> Result:
    out, found = tmp_path / "out", tmp_path / "found"
    return CliRunner().invoke(main, ["fuzz", "--out", str(out), "--found", str(found), *args])


def test_a_gateway_stopped_mid_run_ends_it_with_exit_3_and_no_fixture(
    tmp_path: Path, pki_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with InProcessGateway(pki=ensure_pki(pki_dir)) as gateway:
        server = LocalServer(gateway.gateway).__enter__()
        sent = [0]

        def stop_at_the_tenth(*args: Any, **kwargs: Any) -> Any:
            sent[0] += 1
            if sent[0] == 10:
                server.__exit__(None, None, None)  # as SIGTERM would stop `serve`
            return observe(*args, **kwargs)

        monkeypatch.setattr("harness.fuzz.runner.observe", stop_at_the_tenth)
        try:
            args = ["--gateway", server.url, "--token", "test-token-IVAN01", "--budget", "60"]
            result = _fuzz(tmp_path, *args)
        finally:
            server.__exit__(None, None, None)
    assert result.exit_code == 3, result.output
    assert f"the gateway at {server.url} stopped answering" in result.stderr
    assert "it went away after 9 judged case(s): no verdict" in result.stderr
    assert "Hint: check that the gateway still runs" in result.stderr
    assert "FAILED" not in result.output and "Traceback" not in result.output
    assert not list((tmp_path / "found").glob("*"))  # no "minimal failure" of a refusal
    # and still the partial report: the cases judged before it went away, no verdict
    assert "partial report:" in result.stderr
    report = next((tmp_path / "out").glob("*/results.json")).read_text(encoding="utf-8")
    data = json.loads(report)
    assert data["verdict"] == "incomplete"
    assert data["run"]["meta"]["cases"] == 9
    assert "stopped answering" in data["run"]["meta"]["unavailable"]


def test_fuzz_help_says_when_it_exits_3() -> None:
    shown = CliRunner().invoke(main, ["fuzz", "--help"]).output
    assert "3 when the gateway stopped answering" in " ".join(shown.split())


@pytest.mark.parametrize("duration", ["inf", "nan", "-5"])
def test_a_duration_that_is_not_a_finite_positive_number_is_refused(
    tmp_path: Path, duration: str
) -> None:
    result = _fuzz(tmp_path, "--duration", duration, "--budget", "1")
    assert result.exit_code == 2, result.output
    assert "--duration" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
