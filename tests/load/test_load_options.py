"""Mistakes in options and in fixtures/load/ stop a load run before anything starts (exit 2),
each in one line naming the option, or the file and line, and what to do instead."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.errors import ConfigError, UsageError
from harness.gateway_url import gateway_base_url
from harness.load import load_levels, load_profile, parse_tokens
from harness.load.cli import load
from harness.load.profile import load_dir
from harness.load.request import LoadRequest
from harness.load.settings import format_tokens, token_options


@pytest.mark.parametrize(
    ("text", "base"),
    [
        ("http://127.0.0.1:18300/", "http://127.0.0.1:18300"),
        ("HTTP://127.0.0.1:18300", "http://127.0.0.1:18300"),
        ("https://gw.example", "https://gw.example"),
    ],
)
def test_a_gateway_url_is_reduced_to_its_base(text: str, base: str) -> None:
    assert gateway_base_url(text) == (base, "")
    assert LoadRequest(gateway=text).validate().gateway == base


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("http://gw:8080/api/v1", "has a path"),
        ("http://gw:8080/?x=1", "has a query"),
        ("http://gw:8080#top", "has a fragment"),
        ("http://gw:8080/gw?x=1", "has a path and a query"),
    ],
)
def test_a_gateway_url_names_what_its_base_must_lose(text: str, said: str) -> None:
    _, problem = gateway_base_url(text)
    assert problem.startswith(f"--gateway {text} {said}: use the gateway's base URL, e.g. http")


def test_tokens_holding_a_comma_survive_the_trip_to_the_workers() -> None:
    tokens = token_options(["IVAN01=a,b=c", "IVAN02=100%,x"])
    assert tokens == {"IVAN01": "a,b=c", "IVAN02": "100%,x"}
    assert parse_tokens(format_tokens(tokens)) == tokens


def test_remote_workers_on_a_loopback_master_are_warned_about() -> None:
    request = LoadRequest(gateway="http://gw", remote_workers=2, master_port=5557)
    (warning,) = request.warnings()
    assert "cannot reach this master" in warning and "--master-bind 0.0.0.0" in warning
    assert LoadRequest(remote_workers=2, master_port=5557, master_bind="0.0.0.0").warnings() == []


def test_a_master_port_in_use_is_refused_at_once(busy_port: int, tmp_path: Path) -> None:
    args = ["--workers", "1", "--master-port", str(busy_port), "--duration", "5"]
    outcome = CliRunner().invoke(load, [*args, "--out", str(tmp_path)])
    assert outcome.exit_code == 2, outcome.output
    assert f"--master-port {busy_port} is in use; choose another or leave it at 0" in outcome.output
    assert not any(tmp_path.iterdir())


def test_a_master_address_this_machine_lacks_is_refused(tmp_path: Path) -> None:
    args = ["--workers", "1", "--master-bind", "192.0.2.1", "--duration", "5"]  # TEST-NET-1
    outcome = CliRunner().invoke(load, [*args, "--out", str(tmp_path)])
    assert outcome.exit_code == 2, outcome.output
    assert "--master-bind 192.0.2.1 is not an address of this machine" in outcome.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("latency_ms:\n  submitt: {p95: 800}\n", r":2: latency_ms.submitt: no such step"),
        (
            "lifecycle_s:\n  submit_to_reciept: {p99: 7200}\n",
            r"lifecycle_s.submit_to_reciept: no such stage",
        ),
        ("error_rate: 5\n", r"error_rate must be a number above 0 and at most 1"),
        ("throughput_ratio: .nan\n", r"throughput_ratio must be a number above 0"),
        ("latency_ms:\n  submit: {p95: .inf}\n", r"latency.submit.p95 must be a number above 0"),
        ("latency_ms:\n  submit: {p95: 0}\n", r"latency.submit.p95 must be a number above 0"),
        ("error_rate: 0.1\nerror_rate: 0.2\n", r"key 'error_rate' given twice"),
    ],
)
def test_service_level_typos_are_refused_with_the_known_names(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "levels.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match=message):  # duplicates: a CatalogError of yamlfile
        load_levels(path)


def test_a_service_level_typo_stops_the_cli_before_the_run(tmp_path: Path) -> None:
    path = tmp_path / "levels.yaml"
    path.write_text("latency_ms:\n  submitt: {p95: 800}\n", encoding="utf-8")
    args = ["--service-levels", str(path), "--duration", "5", "--out", str(tmp_path / "r")]
    outcome = CliRunner().invoke(load, args)
    assert outcome.exit_code == 2
    assert "no such step" in outcome.output and "known names: submit, " in outcome.output
    assert not (tmp_path / "r").exists()


@pytest.fixture
def profile_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "load"
    shutil.copytree(load_dir(), folder)
    return folder


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("mixes.yaml", '"601": 10', '"601": lots', r"mixes.yaml:\d+: mix 'month-end': the weight"),
        ("mixes.yaml", '"601": 10', '"601": .nan', r"weight of 601 must be a finite number"),
        ("mixes.yaml", '"601": 10', '"601": .inf', r"weight of 601 must be a finite number"),
        ("shapes.yaml", "\nfeed:", "\nfeeds:", r"shapes.yaml:\d+: feed: is missing"),
        (
            "shapes.yaml",
            "points: [[0.0, 1.0], [1.0, 1.0]]",
            "points: [[0.0, 0], [1.0, 0]]",
            r"shapes.yaml:\d+: shape 'flat': every multiple is 0",
        ),
    ],
)
def test_mistakes_in_mixes_and_shapes_name_file_and_line(
    profile_dir: Path, file: str, old: str, new: str, message: str
) -> None:
    _edit(profile_dir / file, old, new)
    with pytest.raises(ConfigError, match=message):
        load_profile(profile_dir)


def test_a_mix_naming_a_procedure_no_catalog_has_stops_the_run(
    profile_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _edit(profile_dir / "mixes.yaml", '"604": 5,  "607": 3', '"6O4": 5,  "607": 3')
    monkeypatch.setattr("harness.load.run_setup.load_profile", lambda: load_profile(profile_dir))
    outcome = CliRunner().invoke(load, ["--duration", "5", "--out", str(tmp_path / "r")])
    assert outcome.exit_code == 2, outcome.output
    assert "mixes.yaml:" in outcome.output and "names 6O4, a procedure no catalog" in outcome.output
    assert not (tmp_path / "r").exists()


def test_a_procedure_another_catalog_version_has_is_a_warning(tmp_path: Path) -> None:
    """mixes.yaml is shared by the catalog versions (630a came in 2026.1), so on 2024.1 the
    code is left out with a warning rather than refused."""
    from harness.catalog import load_catalog
    from harness.load.profile import Plan
    from harness.load.run_setup import _mix

    profile = load_profile()
    plan = Plan(profile, profile.shape("month-end"), 1.0, 10.0, "open")
    said: list[str] = []
    procedures = list(load_catalog("2024.1").procedures)
    _name, weights, dropped = _mix(LoadRequest(), plan, procedures, "2024.1", said.append)
    assert dropped == ["630a"] and "630a" not in weights
    assert said == [
        "warning: mix month-end: 630a not in catalog 2024.1; left out, the other procedures "
        "keep their relative weights"
    ]


def test_help_lists_the_shapes_from_the_data_and_every_exit_code() -> None:
    text = CliRunner().invoke(load, ["--help"], terminal_width=200).output
    for name in load_profile().shapes:
        assert name in text
    assert "1.67 dossiers/s" in text and "[default: the latest]" in text
    assert "0 = any free port" in text
    assert "1 a judged level missed" in text and "2 a usage error" in text
    assert "no level could be judged (verdict INCOMPLETE)" in text
    assert "itself broke (verdict ERROR" in text


def test_a_scale_too_small_for_whole_users_is_warned_about(tmp_path: Path) -> None:
    args = ["--gateway", "http://127.0.0.1:9", "--shape", "flat", "--scale", "0.05"]
    outcome = CliRunner().invoke(load, [*args, "--duration", "20", "--out", str(tmp_path)])
    assert outcome.exit_code == 2  # the gateway does not answer; the warning came first
    assert "warning: --scale 0.05 asks for 1.7 dossiers, but whole users" in outcome.output
    assert "schedule 4.0; they send that many, and throughput_ratio counts" in outcome.output


@pytest.mark.parametrize("option", ["workers", "gateway_workers"])
def test_a_process_count_this_machine_cannot_hold_is_refused(option: str) -> None:
    """--workers 100000 began forking 100,000 locust processes."""
    from harness.load.request import MAX_LOCAL_PROCESSES

    with pytest.raises(ConfigError, match=f"at most {MAX_LOCAL_PROCESSES}"):
        LoadRequest(**{option: 100_000}).validate()  # type: ignore[arg-type]


def test_a_gateway_url_python_cannot_split_is_a_problem_not_a_traceback() -> None:
    _, problem = gateway_base_url("http://[::1")
    assert problem == "--gateway http://[::1: not a valid URL (Invalid IPv6 URL)"
