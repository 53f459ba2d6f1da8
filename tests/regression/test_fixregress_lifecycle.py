"""Without an admin token the lifecycle messages come in the gateway's time: a clock too
slow for ``--poll-timeout`` is refused before any dossier is sent, and ``record`` never
stores a baseline whose messages were still awaited when polling stopped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.dossiers.corpus import CorpusEntry
from harness.regression import record
from harness.regression.cli import record as record_cli
from harness.regression.cli import regress as regress_cli
from harness.regression.preflight import LIFECYCLE_SECONDS
from harness.regression.recording import surprises
from harness.signing import TestPKI
from mock_gateway.config import DEFAULT_ADMIN_TOKEN, DEFAULT_IVAN_TOKENS, GatewayConfig
from mock_gateway.testing import ServerProcess

TOKEN = DEFAULT_IVAN_TOKENS["IVAN01"]


@pytest.fixture(scope="module")
def real_time(tmp_path_factory: pytest.TempPathFactory, pki: TestPKI) -> Iterator[ServerProcess]:
    """A gateway whose clock runs at real speed: 03/TB-TS comes 75 real minutes on."""
    folder = tmp_path_factory.mktemp("fixregress-real-time")
    with ServerProcess(folder / "gateway.sqlite3", clock_speed=1.0) as running:
        yield running


@pytest.fixture(scope="module")
def baselines(
    real_time: ServerProcess, pki: TestPKI, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Baseline ``ref`` of one procedure, recorded with the admin token (clock fast-forwarded)."""
    folder = tmp_path_factory.mktemp("fixregress-baselines")
    record(
        gateway=real_time.url, catalog="2026.1", name="ref", procedures=("604",), root=folder,
        pki=pki, token=TOKEN, admin_token=DEFAULT_ADMIN_TOKEN,
    )  # fmt: skip
    return folder


def test_the_lifecycle_the_preflight_expects_is_the_mock_gateways() -> None:
    config = GatewayConfig()
    assert config.handover_delay + config.result_delay == LIFECYCLE_SECONDS


def test_regress_against_a_real_time_clock_without_admin_token_is_refused_first(
    real_time: ServerProcess, baselines: Path, tmp_path: Path
) -> None:
    args = ["--baseline", "ref", "--gateway", real_time.url, "--token", TOKEN]
    args += ["--root", str(baselines), "--out", str(tmp_path), "--poll-timeout", "5"]
    result = CliRunner().invoke(regress_cli, args)
    assert result.exit_code == 2, result.output
    assert "runs its clock at 1 simulated seconds per second" in result.stderr
    assert "Hint: pass --admin-token" in result.stderr and "--poll-timeout 4510" in result.stderr
    assert "--clock-speed 4500 or more" not in result.stderr  # 5 s: no clock can do
    assert not list(tmp_path.glob("regression-*"))  # refused: no report of a non-run


def test_record_against_a_real_time_clock_without_admin_token_is_refused_first(
    real_time: ServerProcess, tmp_path: Path
) -> None:
    args = ["--name", "slow", "--gateway", real_time.url, "--token", TOKEN]
    args += ["--procedure", "604", "--root", str(tmp_path)]
    result = CliRunner().invoke(record_cli, args)
    assert result.exit_code == 2, result.output
    assert "--poll-timeout 300 s" in result.stderr
    assert "--clock-speed 16 or more" in result.stderr
    assert not (tmp_path / "slow").exists()


def test_record_does_not_store_a_baseline_whose_messages_were_still_awaited(
    real_time: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A gateway that does not say how fast its clock runs passes the pre-flight.
    monkeypatch.setattr("harness.regression.preflight.reported_clock_speed", lambda _h: None)
    args = ["--name", "unfinished", "--gateway", real_time.url, "--token", TOKEN]
    args += ["--procedure", "604", "--root", str(tmp_path), "--poll-timeout", "1"]
    result = CliRunner().invoke(record_cli, args)
    assert result.exit_code == 3, result.output
    assert (
        "could not conclude" in result.stderr
        and "still waiting for their 03/TB-TS" in result.stderr
    )
    assert "baseline unfinished was not written" in result.stderr
    assert "Hint: pass --admin-token" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "unfinished").exists()


def test_an_accepted_dossier_without_its_result_is_a_surprise() -> None:
    entry = CorpusEntry("604/valid-0000", "604", None, (), b"<x/>")
    handed_over = {"accepted": True, "codes": [], "messages": [{"kind": "02/TB-TS"}]}
    assert surprises([entry], {entry.name: handed_over}) == [
        "604/valid-0000: accepted, but its 03/TB-TS never came"
    ]
    both = [{"kind": "02/TB-TS"}, {"kind": "03/TB-TS"}]
    assert surprises([entry], {entry.name: {**handed_over, "messages": both}}) == []
