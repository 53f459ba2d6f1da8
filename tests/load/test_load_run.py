"""The CI-sized deadline run: a 20-second month-end shape, a local gateway, master + 2 workers.

Both directions are asserted, because a load test that cannot fail proves nothing: the
healthy gateway meets every service level (widened for a shared machine), and the same
run against a gateway with a one-second latency fault misses the shipped submit latency
level, exits 1 and says so. Locust runs only in subprocesses (gevent's monkey-patching
stays out of pytest); everything listens on 127.0.0.1 and every run stops by itself.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import harness.load
from harness.errors import ConfigError
from harness.load import LoadResult, LocustSettings, run_load
from harness.load.cli import load
from harness.load.gateway import check_remote, well_known_tokens
from harness.load.levels import default_levels_path
from harness.load.processes import Master, master_args, worker_args
from harness.load.run_setup import remote_clock_speed
from harness.load.runner import LoadRequest, _reproduce
from harness.reporting import verify_bundle
from harness.signing import TestPKI
from mock_gateway.config import DEFAULT_IVAN_TOKENS
from mock_gateway.testing import ServerProcess

SHARED_MACHINE = {"latency_ms": 4.0, "lifecycle_s": 2.0}
"""How far each limit of the shipped service levels is widened, by kind, for the run
judged here: the suite shares two cores with other test processes (the certification
matrix runs four at once), and a CI run saw submit p95 at 930 ms against 800 and a
hand-over slip at 8.2 real s against 8. Whether this machine meets the shipped limits
themselves is a benchmark's question (``benchmarks/bench_load.py``); the failing
direction below keeps them."""


def _shared_machine_levels(folder: Path) -> Path:
    """The shipped service levels, every kind and percentile, with real-time limits
    widened by :data:`SHARED_MACHINE`."""
    levels = yaml.safe_load(default_levels_path().read_text(encoding="utf-8"))
    for kind, factor in SHARED_MACHINE.items():
        for limits in levels[kind].values():
            limits.update({point: limit * factor for point, limit in limits.items()})
    path = folder / "shared-machine-levels.yaml"
    path.write_text(yaml.safe_dump(levels), encoding="utf-8")
    return path


def _healthy_month_end(tmp_path: Path) -> LoadResult:
    """The distributed month-end run, judged on :func:`_shared_machine_levels`."""
    levels = _shared_machine_levels(tmp_path)
    return run_load(
        "local", "month-end", duration=20, workers=2, service_levels=levels, out=tmp_path / "r"
    )


def test_month_end_in_distributed_mode_meets_its_service_levels(
    pki: TestPKI, tmp_path: Path
) -> None:
    result = _healthy_month_end(tmp_path)
    assert result.passed, result.summary()
    folder = result.directory
    for name in (
        "locust_stats.csv",
        "locust_stats_history.csv",
        "locust.html",
        "verdict.html",
        "lifecycle.json",
        "index.html",
        "junit.xml",
        "results.json",
    ):
        assert (folder / name).is_file(), name
    assert verify_bundle(folder) == []
    logs = {p.name for p in (folder / "logs").iterdir()}
    assert {
        "gateway.log",
        "locust-master.log",
        "locust-worker-1.log",
        "locust-worker-2.log",
    } <= logs
    m = result.measurements
    assert m.accepted >= 0.8 * m.expected_dossiers
    assert m.steps["submit"].requests >= m.accepted
    assert m.steps["feed"].requests > 0 and m.steps["ack"].requests > 0
    assert m.lifecycle["submit_to_result"], "no 03/TB-TS result reached the I-VANs"
    page = (folder / "verdict.html").read_text(encoding="utf-8")
    assert "Verdict: PASSED" in page and page.count("<svg") == 3
    assert json.loads((folder / "results.json").read_text(encoding="utf-8"))["verdict"] == "passed"


def test_a_latency_fault_misses_the_latency_level_and_exits_1(pki: TestPKI, tmp_path: Path) -> None:
    args = ["--gateway", "local", "--shape", "month-end", "--duration", "20", "--workers", "2"]
    outcome = CliRunner().invoke(load, [*args, "--fault-latency", "1.0", "--out", str(tmp_path)])
    assert outcome.exit_code == 1, outcome.output
    assert "verdict: FAILED" in outcome.output
    assert "missed latency.submit.p95" in outcome.output
    (folder,) = tmp_path.iterdir()
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    outcomes = {case["case_id"]: case["outcome"] for case in results["cases"]}
    assert outcomes["latency.submit.p95"] == "failed"
    assert outcomes["error_rate"] == "passed"  # slow, not broken: only latency levels fail
    page = (folder / "verdict.html").read_text(encoding="utf-8")
    assert 'id="failed-levels"' in page and "latency.submit.p95" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shape", "black-friday"], "unknown shape 'black-friday'"),
        (["--gateway", "ftp://x"], "--gateway ftp://x: use an http:// or https:// URL"),
        (
            ["--gateway", "http://127.0.0.1:9/api/v1"],
            "has a path: use the gateway's base URL, e.g. http://127.0.0.1:9",
        ),
        (["--gateway", "127.0.0.1:18300"], "did you mean http://127.0.0.1:18300?"),
        (["--gateway", "http://127.0.0.1:9", "--gateway-workers", "2"], "needs a local gateway"),
        (["--scale", "0"], "--scale 0 must be positive"),
        (["--scale", "1e9"], "users at the shape's peak"),
        (["--ivan-token", "IVAN01=a", "--ivan-token", "IVAN01=b"], "IVAN01 is given twice"),
        (["--gateway", "http://127.0.0.1:9", "--fault-latency", "1"], "needs a local gateway"),
        (["--ivan-token", "IVAN01"], "not NAME=TOKEN"),
        (["--gateway", "http://127.0.0.1:9"], "does not answer"),
    ],
)
def test_usage_errors_exit_2_before_anything_starts(
    tmp_path: Path, args: list[str], message: str
) -> None:
    outcome = CliRunner().invoke(load, [*args, "--duration", "5", "--out", str(tmp_path)])
    assert outcome.exit_code == 2
    assert message in outcome.output
    assert not any(tmp_path.iterdir())  # nothing was started or written


def test_a_gateway_refusing_the_credential_stops_the_run_before_it_starts(
    tmp_path: Path, pki: TestPKI
) -> None:
    with ServerProcess(tmp_path / "gateway.sqlite3") as server:
        args = ["--gateway", server.url, "--ivan-token", "IVAN01=not-the-token"]
        outcome = CliRunner().invoke(load, [*args, "--duration", "5", "--out", str(tmp_path / "r")])
    assert outcome.exit_code == 2, outcome.output
    assert f"gateway {server.url} refuses the credential of IVAN01 (401 AUTH-002)" in outcome.output
    assert not (tmp_path / "r").exists()


def test_an_ivan_paired_with_another_ivans_token_stops_the_run(
    tmp_path: Path, pki: TestPKI
) -> None:
    """IVAN02 with IVAN01's token: every submission got 403 ENV-010, and the run said
    FAILED as if the gateway could not keep up."""
    from mock_gateway.config import DEFAULT_IVAN_TOKENS

    with ServerProcess(tmp_path / "gateway.sqlite3") as server:
        args = ["--gateway", server.url, "--ivan-token", f"IVAN02={DEFAULT_IVAN_TOKENS['IVAN01']}"]
        outcome = CliRunner().invoke(load, [*args, "--duration", "5", "--out", str(tmp_path / "r")])
        kept = [r for r in server_traffic(server.url) if r["path"] == "/api/v1/dossiers"]
    assert outcome.exit_code == 2, outcome.output
    assert "the token given for IVAN02 is another I-VAN's" in outcome.output
    assert all(r["status"] >= 400 for r in kept)  # the probe was refused, nothing stored
    assert not (tmp_path / "r").exists()


def server_traffic(url: str) -> list[dict[str, object]]:
    import json

    import requests

    answer = requests.get(
        f"{url}/admin/traffic", headers={"Authorization": "Bearer test-admin-token"}, timeout=10
    )
    return [json.loads(line) for line in answer.text.splitlines() if line]


def test_the_gateways_own_clock_speed_scales_lifecycle_times(tmp_path: Path, pki: TestPKI) -> None:
    """A load run against a URL learns the mock gateway's clock speed from /healthz, and
    refuses a --clock-speed that contradicts it: lifecycle figures would be off by 60x."""
    with ServerProcess(tmp_path / "gateway.sqlite3", clock_speed=60) as server:
        assert check_remote(server.url, well_known_tokens(2)) == 60.0
        args = ["--gateway", server.url, "--clock-speed", "1", "--duration", "5"]
        outcome = CliRunner().invoke(load, [*args, "--out", str(tmp_path / "r")])
    assert outcome.exit_code == 2, outcome.output
    assert f"--clock-speed 1, but gateway {server.url} runs its clock at 60" in outcome.output
    assert not (tmp_path / "r").exists()


def test_a_frozen_gateway_clock_is_refused_before_the_run(tmp_path: Path, pki: TestPKI) -> None:
    with ServerProcess(tmp_path / "gateway.sqlite3", clock_speed=0) as server:
        outcome = CliRunner().invoke(load, ["--gateway", server.url, "--duration", "5"])
    assert outcome.exit_code == 2, outcome.output
    assert "has its clock frozen" in outcome.output and "--clock-speed 900" in outcome.output


@pytest.mark.parametrize(
    ("asked", "reported", "expected"),
    [
        (None, 60.0, (60.0, "reported by the gateway")),
        (60.0, 60.0, (60.0, "reported by the gateway")),
        (30.0, None, (30.0, "--clock-speed")),
        (
            None,
            None,
            (1.0, "assumed: the gateway does not report its clock; --clock-speed sets it"),
        ),
    ],
)
def test_remote_clock_speed(
    asked: float | None, reported: float | None, expected: tuple[float, str]
) -> None:
    assert remote_clock_speed("http://gw", asked, reported) == expected


def test_default_tokens_are_the_gateways_well_known_ones() -> None:
    assert well_known_tokens(2) == dict(DEFAULT_IVAN_TOKENS)


def test_public_surface() -> None:
    assert set(harness.load.__all__) == {
        "DossierPool", "FeedReader", "Ivan", "Level", "LevelResult", "LifecycleLog",
        "LoadRequest", "LoadResult", "LocustSettings", "Measurements", "Pacer", "Picker",
        "Plan", "Profile", "Shape", "Submitter", "add_arguments", "build_pool", "evaluate",
        "execute", "identities", "load_levels", "load_or_build", "load_profile",
        "mix_for_catalog", "parse_feed", "parse_tokens", "run_load",
    }  # fmt: skip


def test_master_waits_for_local_and_remote_workers(tmp_path: Path) -> None:
    settings = LocustSettings(duration=30)
    local_only = master_args("http://gw", tmp_path, settings, 2, 5557)
    assert local_only[local_only.index("--master-bind-host") + 1] == "127.0.0.1"
    assert local_only[local_only.index("--expect-workers") + 1] == "2"
    spread = master_args("http://gw", tmp_path, settings, 2, 5557, Master("0.0.0.0", 5557, 6))
    assert spread[spread.index("--master-bind-host") + 1] == "0.0.0.0"
    assert spread[spread.index("--expect-workers") + 1] == "8"
    single = master_args("http://gw", tmp_path, settings, 0, 0)
    assert "--master" not in single and "--headless" in single
    assert worker_args(5557, "10.0.0.5") == [
        "--worker", "--master-host", "10.0.0.5", "--master-port", "5557",
    ]  # fmt: skip


def test_remote_workers_need_a_known_master_port(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--remote-workers needs --master-port"):
        run_load("http://127.0.0.1:9", remote_workers=2, out=tmp_path)
    with pytest.raises(ConfigError, match="unexpected keyword"):
        run_load(colour="red")


def test_the_reproduce_line_gives_back_every_option_of_the_run(tmp_path: Path) -> None:
    """The report's command is parsed by the CLI into the same run (tokens left out)."""
    bundle = tmp_path / "ca bundle.pem"
    bundle.write_text("PEM")
    request = LoadRequest(
        gateway="https://gw.example:8443", shape="flat", scale=0.5, duration=12.0,
        model="closed", mix="ordinary", service_levels=Path("my levels.yaml"),
        clock_speed=60.0, ivan_tokens={"IVAN07": "secret"}, catalog_version="2024.1",
        pool_size=3, seed=9, workers=2, master_port=5557, ca_bundle=bundle,
    )  # fmt: skip
    line = _reproduce(request)
    assert "secret" not in line
    words = shlex.split(line)
    assert words[:2] == ["bhxh-harness", "load"]
    params = load.make_context("load", words[2:]).params
    assert params.pop("ivan_tokens") == ("IVAN07=<token>",)
    rebuilt = LoadRequest(**params)
    assert rebuilt == dataclasses.replace(request, ivan_tokens=None)
