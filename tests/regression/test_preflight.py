"""Against a URL: refused before any dossier is replayed when the run could only mislead,
and transient unavailability reported as such (not as a functional change)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from harness.errors import ConfigError, GatewayUnavailable
from harness.regression import GatewayTarget, Masks, build_corpus, record, regress, replay
from harness.regression.corpus import CorpusRecipe
from harness.regression.transport import TransportStats
from harness.signing import TestPKI
from mock_gateway.config import DEFAULT_ADMIN_TOKEN, DEFAULT_IVAN_TOKENS
from mock_gateway.testing import ServerProcess, free_port
from tests.regression.conftest import FUNCTIONAL

TOKEN = DEFAULT_IVAN_TOKENS["IVAN01"]
ADMIN = {"Authorization": f"Bearer {DEFAULT_ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, pki: TestPKI) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("regression-preflight")
    with ServerProcess(folder / "gateway.sqlite3", clock_speed=20_000.0) as running:
        yield running


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory, pki: TestPKI) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("regression-frozen")
    with ServerProcess(folder / "gateway.sqlite3", clock_speed=0.0) as running:
        yield running


@pytest.fixture(scope="module")
def root(server: ServerProcess, pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("preflight-baselines")
    record(
        gateway=server.url, catalog="2026.1", name="pf", procedures=("604",), root=folder,
        pki=pki, token=TOKEN, admin_token=DEFAULT_ADMIN_TOKEN,
    )  # fmt: skip
    return folder


def _regress(url: str, root: Path, pki: TestPKI, **options: object) -> object:
    options = {"token": TOKEN, "admin_token": DEFAULT_ADMIN_TOKEN} | options
    return regress(
        baseline="pf", gateway=url, root=root, pki=pki, thresholds=FUNCTIONAL, **options
    )  # fmt: skip


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"token": "not-a-token"}, "refuses the I-VAN token"),
        ({"token": DEFAULT_IVAN_TOKENS["IVAN02"]}, "the token given for IVAN01 is another I-VAN's"),
        ({"admin_token": "not-the-admin"}, "refuses the admin token"),
    ],
)
def test_a_run_that_could_only_mislead_is_refused_first(
    server: ServerProcess, root: Path, pki: TestPKI, options: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        _regress(server.url, root, pki, **options)


def test_a_url_with_a_path_is_refused(server: ServerProcess, root: Path, pki: TestPKI) -> None:
    with pytest.raises(ConfigError, match="has a path"):
        _regress(server.url + "/api/v1", root, pki)


def test_a_frozen_clock_needs_the_admin_token(
    frozen: ServerProcess, root: Path, pki: TestPKI
) -> None:
    with pytest.raises(ConfigError, match="frozen clock"):
        _regress(frozen.url, root, pki, admin_token=None)


def test_a_maintenance_window_stops_the_run_with_its_length(
    frozen: ServerProcess, root: Path, pki: TestPKI
) -> None:
    plan = {"profiles": [{"name": "maintenance", "params": {"duration": 3600}}]}
    requests.put(f"{frozen.url}/admin/faults", json=plan, headers=ADMIN, timeout=10)
    try:
        with pytest.raises(ConfigError, match="in maintenance for ~1 h"):
            _regress(frozen.url, root, pki, max_backoff=20.0)  # without the check: fails fast
    finally:
        requests.delete(f"{frozen.url}/admin/faults", headers=ADMIN, timeout=10)


def test_a_burst_of_503_is_unavailability_with_its_retries_counted(
    server: ServerProcess, root: Path, pki: TestPKI
) -> None:
    plan = {"profiles": [{"name": "burst-503", "params": {"count": 7, "retry_after": 1}}]}
    requests.put(f"{server.url}/admin/faults", json=plan, headers=ADMIN, timeout=10)
    try:
        result = _regress(server.url, root, pki)
    finally:
        requests.delete(f"{server.url}/admin/faults", headers=ADMIN, timeout=10)
    assert [d.kind for d in result.unintended] == ["unavailable"]  # type: ignore[attr-defined]
    [d] = result.unintended  # type: ignore[attr-defined]
    assert d.actual == "unavailable: 503 SRV-001 after 6 attempts"
    stats = result.run.transport  # type: ignore[attr-defined]
    assert stats.retries >= 5 and stats.backoff >= 5.0  # the pre-flight probe took one 503


def test_record_builds_the_corpus_for_the_tokens_ivan(
    server: ServerProcess, pki: TestPKI, tmp_path: Path
) -> None:
    surprises: list[str] = []
    baseline, _ = record(
        gateway=server.url, catalog="2026.1", name="ivan02", procedures=("604",), root=tmp_path,
        pki=pki, token=DEFAULT_IVAN_TOKENS["IVAN02"], admin_token=DEFAULT_ADMIN_TOKEN,
        ivan="IVAN02", on_surprise=surprises.append,
    )  # fmt: skip
    assert surprises == [] and baseline.recipe.ivan == "IVAN02"
    assert CorpusRecipe.from_dict(baseline.recipe.to_dict()).ivan == "IVAN02"


@pytest.mark.parametrize("ivan", ["IVAN02", "IVAN07"])
def test_record_in_process_sends_as_the_corpus_ivan(
    pki: TestPKI, tmp_path: Path, ivan: str
) -> None:
    """The in-process gateway was always sent IVAN01's token: a corpus naming IVAN02 was
    answered ENV-010 throughout, and recorded as such."""
    surprises: list[str] = []
    baseline, _ = record(
        gateway="inproc", catalog="2026.1", name="inproc-ivan", procedures=("604",),
        root=tmp_path, pki=pki, ivan=ivan, on_surprise=surprises.append,
    )  # fmt: skip
    assert surprises == [] and baseline.recipe.ivan == ivan


def test_a_gateway_gone_mid_run_says_so(pki: TestPKI) -> None:
    corpus = build_corpus(CorpusRecipe("2026.1", procedures=("604",), quirks=False), pki)[:1]
    target = GatewayTarget(f"http://127.0.0.1:{free_port()}", TOKEN)
    with pytest.raises(GatewayUnavailable, match="stopped answering after 0 of 1 dossiers"):
        replay(target, corpus, Masks(()))


def test_the_total_backoff_is_capped() -> None:
    stats = TransportStats("http://gw", max_backoff=5.0, wait=lambda _s: None)
    stats.sleep(4.0)
    with pytest.raises(GatewayUnavailable, match="cap of 5 s"):
        stats.sleep(2.0)
