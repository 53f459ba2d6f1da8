"""``bhxh-harness serve`` refuses options that would start a server that misbehaves.

Each refusal is exit code 2 with a hint, never a traceback, and never a server: the
port check, the last step before serving, fails these tests if it is reached.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.errors import ConfigError
from harness.signing import TestPKI
from mock_gateway import server, workers
from mock_gateway.cli import serve
from mock_gateway.config import ENV_CONFIG, GatewayConfig
from mock_gateway.exchange import GatewayRequest
from mock_gateway.faulty_app import ENV_FAULTS, ENV_FAULTS_SEED
from mock_gateway.store import Store
from mock_gateway.testing import ServerProcess
from mock_gateway.urls import redact_in, redact_url


def _refused(args: list[str]) -> str:
    result = CliRunner().invoke(serve, args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output and "Hint: " in result.output
    return result.output


@pytest.mark.usefixtures("no_server")
@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (["--host", ""], "--host is empty", "0.0.0.0 to listen on every interface"),
        (["--host", " "], "--host is empty", "127.0.0.1"),
        (["--workers", "2", "--database-url", "sqlite://"], "each worker its own", "--workers 1"),
        (
            ["--workers", "3", "--database-url", "sqlite:///:memory:"],
            "in-memory database",
            "use a file",
        ),
        (["--clock-speed", "1e12"], "--clock-speed 1e+12 is too fast", "/admin/clock/advance"),
        (["--workers", "100000"], "at most", "more workers than cores"),
        (["--workers", "0"], "--workers 0: at least 1", "--workers 1 serves in this process"),
        (["--port", "99999"], "--port 99999 is not a TCP port", "from 1 to 65535"),
        (["--port", "0"], "--port 0 is not a TCP port", "from 1 to 65535"),
        (
            ["--ivan-token", "IVAN01=test-admin-token"],
            "every I-VAN and the admin need distinct tokens",
            "each token names one party",
        ),
    ],
)
def test_options_that_would_misbehave_are_refused(
    args: list[str], message: str, hint: str, pki: TestPKI, tmp_path: Path
) -> None:
    del pki
    if "--database-url" not in args:
        args = [*args, "--database-url", f"sqlite:///{tmp_path / 'gw.sqlite3'}"]
    output = _refused(args)
    assert message in output and hint in output


def test_one_worker_may_use_an_in_memory_database(
    pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    del pki

    def refuse(host: str, port: int) -> None:  # the options passed: stop here
        raise ConfigError("port check reached")

    monkeypatch.setattr(workers, "check_port", refuse)
    result = CliRunner().invoke(serve, ["--database-url", "sqlite://"])
    assert result.exit_code == 2 and "port check reached" in result.output


@pytest.mark.usefixtures("no_server")
def test_a_read_only_database_is_a_refusal_naming_it(pki: TestPKI, tmp_path: Path) -> None:
    """``chmod 444`` gave a traceback ending in 'attempt to write a readonly database'
    (reproduced here without root's bypass: SQLite's read-only open mode)."""
    del pki
    path = tmp_path / "gw.sqlite3"
    Store(f"sqlite:///{path}").close()
    output = _refused(["--database-url", f"sqlite:///file:{path}?mode=ro&uri=true"])
    assert "cannot write to database" in output and str(path) in output
    assert "readonly database" in output and "writable" in output


@pytest.mark.usefixtures("no_server")
@pytest.mark.parametrize(
    "url",
    [
        "mysql://gateway:s3cret-pw@db.example/bhxh",  # an unsupported database
        "postgresql://gateway:s3cret-pw@db.example:notaport/bhxh",  # not a URL SQLAlchemy reads
        "postgresql://gateway:s3cret-pw@x/y@db.example/bhxh",  # "@" and "/" left unescaped
        "gateway:s3cret-pw@db.example/bhxh",  # no scheme at all
    ],
)
def test_a_refused_database_url_never_shows_its_password(url: str) -> None:
    output = _refused(["--database-url", url])
    assert "s3cret" not in output and "pw@" not in output
    assert "gateway:***@" in output


@pytest.mark.parametrize(
    "url",
    ["sqlite:///tmp/bản@sao.sqlite3", "sqlite:///gateway.sqlite3", "postgresql://db/bhxh"],
)
def test_a_url_without_a_password_is_shown_as_typed(url: str) -> None:
    assert redact_url(url) == url


def test_a_taken_port_leaves_no_database_and_no_lock_file(
    pki: TestPKI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The port is checked before the database is created: a refused start left an
    empty gateway database in the current folder."""
    del pki

    def taken(host: str, port: int) -> None:
        raise ConfigError(f"cannot listen on {host}:{port}", hint="choose another --port")

    monkeypatch.setattr(workers, "check_port", taken)
    database = tmp_path / "gw.sqlite3"
    _refused(["--database-url", f"sqlite:///{database}"])
    assert not database.exists()
    assert not database.with_name("gw.sqlite3.writer-lock").exists()


def test_the_workers_count_reaches_every_worker_and_healthz(
    pki: TestPKI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``/healthz`` says how many processes serve: fault counters are per worker."""
    del pki
    for name in (ENV_CONFIG, ENV_FAULTS, ENV_FAULTS_SEED):
        monkeypatch.delenv(name, raising=False)  # serve sets them; restored afterwards
    seen: list[GatewayConfig] = []

    class Workers:  # what each worker process would read from its environment
        def __init__(self, count: int, *_args: Any) -> None:
            self.count = count

        def run(self) -> None:
            seen.extend(GatewayConfig.from_env() for _ in range(self.count))

    monkeypatch.setattr(workers, "check_port", lambda host, port: None)
    monkeypatch.setattr(workers, "supported", lambda: True)
    monkeypatch.setattr(workers, "Workers", Workers)
    database = f"sqlite:///{tmp_path / 'gw.sqlite3'}"
    server.serve(workers=3, database_url=database)
    assert [c.workers for c in seen] == [3, 3, 3]

    apps: list[Any] = []
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **_options: apps.append(app))
    server.serve(workers=1, database_url=database)
    gateway = apps[0].app.state.gateway
    try:
        health = gateway.handle(GatewayRequest("GET", "/healthz", {}, {}))
        assert health.status == 200 and json.loads(health.body)["workers"] == 1
    finally:
        gateway.close()


def test_the_banner_writes_an_ipv6_host_as_a_url_does() -> None:
    from mock_gateway.cli import _host

    assert _host("::1") == "[::1]" and _host("127.0.0.1") == "127.0.0.1"


@pytest.mark.usefixtures("no_server")
def test_log_level_and_catalog_options_read_as_typed() -> None:
    """--log-level DEBUG was refused while --sqlite-synchronous FULL was accepted; an empty
    --catalog silently served every version."""
    empty = CliRunner().invoke(serve, ["--catalog", ""])
    assert empty.exit_code == 2 and "an empty value" in empty.output
    upper = CliRunner().invoke(serve, ["--log-level", "DEBUG", "--host", ""])
    assert "--log-level" not in upper.output and "--host is empty" in upper.output


@pytest.mark.usefixtures("no_server")
def test_an_ivan_code_no_envelope_can_carry_is_refused(pki: TestPKI) -> None:
    """ivan_01 passed the header check, but MaIVAN is [A-Z0-9]{3,10}: every dossier failed."""
    output = _refused(["--ivan-token", "ivan_01=tok-abc"])
    assert "no envelope of catalog" in output and "can name I-VAN ivan_01" in output


@pytest.mark.usefixtures("no_server")
def test_a_damaged_pki_is_refused_before_the_banner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start banner came first, then the refusal: it read as a server that started."""
    from harness.signing import ensure_pki

    directory = tmp_path / "pki"
    ensure_pki(directory)
    (directory / "unit.key.pem").write_bytes(b"")
    monkeypatch.setenv("BHXH_HARNESS_PKI", str(directory))
    result = CliRunner().invoke(serve, ["--database-url", f"sqlite:///{tmp_path / 'g.sqlite3'}"])
    assert result.exit_code == 2, result.output
    assert "unit.key.pem is not a valid PEM private key" in result.output
    assert "mock BHXH gateway" not in result.output


@pytest.mark.parametrize(
    ("url", "hidden"),
    [
        ("postgresql://gateway@db.example/bhxh?password=s3cret-pw", "s3cret"),
        ("//gateway:s3cret-pw@db.example/bhxh", "s3cret"),
    ],
)
def test_a_password_in_other_shapes_is_masked(url: str, hidden: str) -> None:
    assert hidden not in redact_url(url) and "***" in redact_url(url)


def test_a_driver_quoting_part_of_an_unescaped_password_does_not_show_it() -> None:
    url = "postgresql+psycopg://gateway:pa@ss-word@127.0.0.1/bhxh"
    said = redact_in("failed to resolve host 'ss-word@127.0.0.1'", url)
    assert "ss-word" not in said and "127.0.0.1" in said


@pytest.mark.parametrize("workers", [1, 2])
def test_a_server_stopped_with_sigterm_exits_0(tmp_path: Path, pki: TestPKI, workers: int) -> None:
    """It exited 143 with one worker and 0 with two; docker stop and systemd read 143 as
    a failure, and a server told to stop has done its work."""
    del pki  # the child trusts the session PKI through $BHXH_HARNESS_PKI
    server = ServerProcess(tmp_path / "gateway.sqlite3", workers=workers).start()
    process = server.process
    assert process is not None
    server.stop()
    assert process.returncode == 0
