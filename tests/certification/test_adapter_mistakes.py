"""A vendor's adapter that answers the wrong shape, or a template or option written
wrongly, gets one message naming what was expected: never a raw Python error, a relay
silently dropped, or an error blamed on the gateway."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from harness.certification import (
    AdapterContext,
    AdapterFailed,
    CommandAdapter,
    HttpHookAdapter,
    Job,
    ReferenceIvan,
    Relay,
    resolve_adapter,
)
from harness.errors import ConfigError
from tests.certification.test_adapters import certify

PY = sys.executable


def _context(tmp_path: Path) -> AdapterContext:
    return AdapterContext("http://x", "IVAN01", "I", "t", tmp_path / "work", tmp_path, "v")


# -- HTTP hook -----------------------------------------------------------------------------


class _Answers(BaseHTTPRequestHandler):
    """A hook answering each operation with a fixed (wrong) body."""

    bodies: ClassVar[dict[str, tuple[str, bytes]]] = {}

    def log_message(self, *_args: Any) -> None:
        return None

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"] or 0))
        kind, body = self.bodies.get(self.path.strip("/"), ("application/json", b"{}"))
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def wrong_hook() -> Iterator[str]:
    _Answers.bodies = {
        "start": ("text/html", b"<html><body>Login</body></html>"),
        "submit": ("application/json", b'{"relays": ["receipt"]}'),
        "tick": ("application/json", b'{"relays": [{"kind": "recieved"}]}'),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _job() -> Job:
    from harness.envelope import Unit

    unit = Unit("Cty", "TA0001", "0100000000", "A", "0900000000", "79", "1")
    return Job("j/1", "v", "600", "name", "01/2026", "01/01/2026", unit, (), "CKy_Dvi")


def test_a_hook_answering_html_or_wrong_relays_says_what_it_expected(
    wrong_hook: str, tmp_path: Path
) -> None:
    adapter = HttpHookAdapter(wrong_hook)
    with pytest.raises(AdapterFailed) as html:
        adapter.start(_context(tmp_path))
    said = str(html.value)
    assert f'hook {wrong_hook}/start answered 200 text/html: "<html><body>Login' in said
    assert "not JSON" in said and "gateway" not in said
    now = datetime(2026, 1, 5, tzinfo=UTC)
    with pytest.raises(AdapterFailed, match="relay 1 is 'receipt', not a JSON object"):
        adapter.submit(_job(), now)
    with pytest.raises(AdapterFailed, match="relay 1 has kind 'recieved'"):
        adapter.tick(now)


class _DictIvan(ReferenceIvan):
    """A Python adapter that returns its relays as dictionaries."""

    def submit(self, job: Job, now: datetime) -> list[Relay]:
        return [r.to_json() for r in super().submit(job, now)]  # type: ignore[misc]


def test_a_python_adapter_returning_dicts_is_told_to_return_relays(tmp_path: Path) -> None:
    [case] = certify(_DictIvan(), tmp_path, ["CERT-SCH-01"]).cases
    assert case.outcome.value == "error"
    assert "submit: adapter" in case.message and "holding dict" in case.message
    assert "not a list of Relay" in case.message


# -- options -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan"])
def test_a_timeout_that_is_not_positive_seconds_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match=f"timeout='{value}' is not a positive number"):
        resolve_adapter("vendor-cli submit {dossier}", {"timeout": value})


def test_options_an_adapter_would_ignore_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown adapter option poll") as unknown:
        resolve_adapter("vendor-cli submit {dossier}", {"poll": "x"})
    assert "timeout" in str(unknown.value)
    for spec in ("reference", "faulty:unsigned-form", "manual"):
        with pytest.raises(ConfigError, match=f"adapter '{spec}' takes no --adapter-option"):
            resolve_adapter(spec, {"timeout": "5"})
    with pytest.raises(ConfigError, match=r"takes only timeout \(given: tick\)"):
        resolve_adapter("https://vendor.example/hook", {"tick": "x", "timeout": "5"})
    assert isinstance(resolve_adapter("https://h.example", {"timeout": "5"}), HttpHookAdapter)


# -- command templates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "shown"),
    [
        ("vendor-cli submit {dossier} --at {nowz}", "unknown placeholder {nowz}"),
        ("vendor-cli submit {dossier} {0}", "unknown placeholder {0}"),
        ("vendor-cli submit {dossier} }", "Single '}'"),
        ("vendor-cli submit {dossier} {ma_gdich}", "unknown placeholder {ma_gdich}"),
    ],
)
def test_template_mistakes_are_found_before_any_case(template: str, shown: str) -> None:
    with pytest.raises(ConfigError, match=shown.replace("{", r"\{").replace("}", r"\}")):
        CommandAdapter(template)


def test_literal_braces_are_fine() -> None:
    CommandAdapter('vendor-cli submit {dossier} --extra {{"a": 1}}')


def _script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("stdout", "said"),
    [
        ('{"kind": "receipt", "ma_gdich": "X"}\nSubmitted OK\n', "submit: line 2 of its stdout"),
        ('{"kind": "receit", "ma_gdich": "X"}\n', "relay 1 has kind 'receit'"),
        ("[1, 2]\n", "submit: line 1 of its stdout is not a JSON object"),
    ],
)
def test_a_stdout_line_that_is_not_a_relay_is_an_error(
    stdout: str, said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _script(tmp_path, "ivan.py", f"import sys\nsys.stdout.write({stdout!r})\n")
    monkeypatch.chdir(tmp_path)
    adapter = CommandAdapter(f"{PY} ivan.py submit {{dossier}}")
    adapter.start(_context(tmp_path))
    with pytest.raises(AdapterFailed, match=said):
        adapter.submit(_job(), datetime(2026, 1, 5, tzinfo=UTC))


def test_relative_arguments_mean_the_users_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay = '{"kind": "receipt", "ma_gdich": "X"}'
    _script(tmp_path, "my_ivan.py", f"print({relay!r})\n")
    monkeypatch.chdir(tmp_path)
    adapter = CommandAdapter("python ./my_ivan.py submit {dossier}")
    adapter.start(_context(tmp_path))
    [receipt] = adapter.submit(_job(), datetime(2026, 1, 5, tzinfo=UTC))
    assert (receipt.kind, receipt.ma_gdich, receipt.job_id) == ("receipt", "X", "j/1")


def test_a_timeout_kills_the_commands_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pids = tmp_path / "child.pid"
    _script(
        tmp_path,
        "slow.py",
        "import subprocess, sys, time\n"
        "child = subprocess.Popen(['sleep', '1000'])\n"
        f"open({str(pids)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(1000)\n",
    )
    monkeypatch.chdir(tmp_path)
    adapter = CommandAdapter(f"{PY} slow.py submit {{dossier}}", timeout=1.5)
    adapter.start(_context(tmp_path))
    with pytest.raises(AdapterFailed) as failed:
        adapter.submit(_job(), datetime(2026, 1, 5, tzinfo=UTC))
    assert "timed out after 1.5 seconds" in str(failed.value)
    assert "cannot run" not in str(failed.value)
    child = int(pids.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.1)
    assert not _alive(child), "the command's child outlived its timeout"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")  # a zombie is dead, just not reaped yet
    return not (status.exists() and "State:\tZ" in status.read_text())


def test_a_failing_operation_shows_its_name_and_exit_code(tmp_path: Path) -> None:
    cli = f"{PY} -m harness.certification.reference_cli"
    adapter = resolve_adapter(
        f"{cli} submit {{dossier}} --now {{now}}",
        {"tick": f"{cli} tick --now {{now}}", "restart": f"{cli} restart"},
    )
    [case] = certify(adapter, tmp_path, ["CERT-SCH-01"]).cases
    assert case.outcome.value == "error"
    assert case.message.startswith("the adapter failed: restart: ")  # words, no class name
    assert "exited 2: Error: No such command 'restart'." in case.message


def test_an_unreachable_hook_is_said_in_words() -> None:
    """It printed urllib3's "HTTPConnectionPool(...): Max retries exceeded" text."""
    hook = HttpHookAdapter("http://127.0.0.1:9/hook", timeout=5)
    with pytest.raises(AdapterFailed) as caught:
        hook.call("start", {})
    assert "unreachable: the connection was refused" in str(caught.value)
    assert "HTTPConnectionPool" not in str(caught.value)
