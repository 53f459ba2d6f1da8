"""A gateway whose simulated clock stopped at its limit is refused before any dossier is
sent, and a refused ``record`` or ``regress`` leaves no folder behind (no empty
``--root`` or ``--out`` created for a run that never ran)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner, Result

from harness.regression import record
from harness.regression.cli import record as record_cli
from harness.regression.cli import regress as regress_cli
from harness.signing import TestPKI
from mock_gateway.clock import LATEST
from mock_gateway.config import DEFAULT_ADMIN_TOKEN, DEFAULT_IVAN_TOKENS
from mock_gateway.routes import MAX_CLOCK_ADVANCE
from mock_gateway.testing import ServerProcess

TOKEN = DEFAULT_IVAN_TOKENS["IVAN01"]
ADMIN = {"Authorization": f"Bearer {DEFAULT_ADMIN_TOKEN}"}
WITH_ADMIN = ["--admin-token", DEFAULT_ADMIN_TOKEN]
SPEED = 20_000.0
"""Simulated seconds per second: the 75-minute lifecycle takes under 10 s of waiting."""
NEAR = SPEED / 2
"""Simulated seconds short of the limit a fast-forward stops at: half a second's run."""


def _health(url: str) -> dict[str, object]:
    answer = requests.get(f"{url}/healthz", timeout=10)
    assert answer.status_code == 200, answer.text[:300]
    body: dict[str, object] = answer.json()
    return body


def _advance_to_the_limit(url: str) -> None:
    """Fast-forward a running clock in the largest steps allowed to just short of its
    limit (the clock moves meanwhile), then let it run there and stop."""
    for _ in range(200):
        health = _health(url)
        if health["clock_stopped"] is True:
            return
        now = datetime.fromisoformat(str(health["simulated_time"]))
        room = (LATEST - now).total_seconds() - NEAR
        if room <= 0:
            time.sleep(0.2)
            continue
        moved = requests.post(
            f"{url}/admin/clock/advance",
            params={"seconds": repr(min(room, MAX_CLOCK_ADVANCE))},
            headers=ADMIN,
            timeout=30,
        )
        assert moved.status_code == 200, moved.text[:300]
    raise AssertionError("the clock did not stop at its limit")


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory, pki: TestPKI) -> Iterator[ServerProcess]:
    """A gateway whose running simulated clock reached 2200-01-01, where it stands still
    (fast enough for ``--poll-timeout 20``: only the stop keeps its messages away)."""
    folder = tmp_path_factory.mktemp("fix19-stopped")
    with ServerProcess(folder / "gateway.sqlite3", clock_speed=SPEED) as running:
        _advance_to_the_limit(running.url)
        yield running


@pytest.fixture(scope="module")
def real_time(tmp_path_factory: pytest.TempPathFactory, pki: TestPKI) -> Iterator[ServerProcess]:
    """A gateway whose clock runs at real speed: 03/TB-TS comes 75 real minutes on."""
    folder = tmp_path_factory.mktemp("fix19-real-time")
    with ServerProcess(folder / "gateway.sqlite3", clock_speed=1.0) as running:
        yield running


@pytest.fixture(scope="module")
def baselines(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Baseline ``ref`` of one procedure, from the in-process gateway."""
    folder = tmp_path_factory.mktemp("fix19-baselines")
    record(
        gateway="inproc", catalog="2026.1", name="ref", procedures=("604",), root=folder, pki=pki
    )
    return folder


def _refused(result: Result) -> None:
    """A refusal: exit 2 (as the frozen-clock one), said in one line and a hint."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "replayed" not in result.output


def _says_reset(result: Result, url: str) -> None:
    assert "reports its simulated clock stopped at 2200-01-01" in result.stderr, result.stderr
    assert f"Hint: restart its clock with POST {url}/admin/reset" in result.stderr


@pytest.mark.parametrize("admin", [[], WITH_ADMIN], ids=["no-admin-token", "admin-token"])
def test_record_refuses_a_clock_stopped_at_its_limit_at_once(
    stopped: ServerProcess, tmp_path: Path, admin: list[str]
) -> None:
    root = tmp_path / "new" / "baselines"
    args = ["--name", "late", "--gateway", stopped.url, "--token", TOKEN, *admin]
    args += ["--procedure", "604", "--root", str(root), "--poll-timeout", "20"]
    result = CliRunner().invoke(record_cli, args)
    _refused(result)
    _says_reset(result, stopped.url)
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("admin", [[], WITH_ADMIN], ids=["no-admin-token", "admin-token"])
def test_regress_refuses_a_clock_stopped_at_its_limit_at_once(
    stopped: ServerProcess, baselines: Path, tmp_path: Path, admin: list[str]
) -> None:
    out = tmp_path / "new" / "reports"
    args = ["--baseline", "ref", "--gateway", stopped.url, "--token", TOKEN, *admin]
    args += ["--root", str(baselines), "--out", str(out), "--poll-timeout", "20"]
    result = CliRunner().invoke(regress_cli, args)
    _refused(result)
    _says_reset(result, stopped.url)
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--catalog", "1999.9"], "1999.9"),
        (["--release", "slow-d02"], "--release and --serve-catalog only apply"),
        (["--token", "not-a-token"], "refuses the I-VAN token"),
    ],
    ids=["unknown-catalog", "inproc-option-on-a-url", "preflight"],
)
def test_a_refused_record_creates_no_baselines_folder(
    real_time: ServerProcess, tmp_path: Path, options: list[str], message: str
) -> None:
    root = tmp_path / "new" / "baselines"
    args = ["--name", "refused", "--gateway", real_time.url, "--token", TOKEN, *WITH_ADMIN]
    result = CliRunner().invoke(record_cli, [*args, "--root", str(root), *options])
    _refused(result)
    assert message in result.stderr, result.stderr
    assert not (tmp_path / "new").exists()


def test_a_record_refused_for_an_existing_baseline_adds_nothing(
    baselines: Path, tmp_path: Path
) -> None:
    before = sorted(p.relative_to(baselines) for p in baselines.rglob("*"))
    args = ["--name", "ref", "--catalog", "2026.1", "--procedure", "604"]
    result = CliRunner().invoke(record_cli, [*args, "--root", str(baselines)])
    _refused(result)
    assert "baseline ref already exists" in result.stderr
    assert sorted(p.relative_to(baselines) for p in baselines.rglob("*")) == before


def test_an_unfinished_record_creates_no_baselines_folder(
    real_time: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A gateway that does not say how fast its clock runs passes the pre-flight.
    monkeypatch.setattr("harness.regression.preflight.reported_clock_speed", lambda _h: None)
    root = tmp_path / "new" / "baselines"
    args = ["--name", "unfinished", "--gateway", real_time.url, "--token", TOKEN]
    args += ["--procedure", "604", "--root", str(root), "--poll-timeout", "1"]
    result = CliRunner().invoke(record_cli, args)
    assert result.exit_code == 3, result.output
    assert "baseline unfinished was not written" in result.stderr
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--baseline", "nope"], "no baseline 'nope'"),
        (["--baseline", "ref", "--release", "slow-d02"], "only apply to --gateway inproc"),
        (["--baseline", "ref", "--token", "not-a-token"], "refuses the I-VAN token"),
    ],
    ids=["unknown-baseline", "inproc-option-on-a-url", "preflight"],
)
def test_a_refused_regress_creates_no_report_folder(
    real_time: ServerProcess, baselines: Path, tmp_path: Path, options: list[str], message: str
) -> None:
    out = tmp_path / "new" / "reports"
    args = ["--gateway", real_time.url, "--token", TOKEN, *WITH_ADMIN, "--root", str(baselines)]
    result = CliRunner().invoke(regress_cli, [*args, "--out", str(out), *options])
    _refused(result)
    assert message in result.stderr, result.stderr
    assert not (tmp_path / "new").exists()
