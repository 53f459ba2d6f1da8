"""Only an adapter's own claim can be broken: ``recover`` that a hook tried because its
/start named no capabilities, answered "not supported", is skipped as not supported, never
failed; and such a hook starts at all (its /start was refused, quoting a list it never sent).
A Python class that is not an adapter is told which members it lacks.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from harness.certification import (
    AdapterContext,
    AdapterFailed,
    HttpHookAdapter,
    NotSupported,
    ReferenceIvan,
    resolve_adapter,
    run_certification,
)
from harness.errors import ConfigError
from tests.certification.conftest import FAST, PROCEDURE


class TriedRecover(ReferenceIvan):
    """Has recover among its capabilities only because it named none (as a hook that
    lists no capabilities), and answers "not supported"."""

    assumed = frozenset({"recover"})

    def recover(self, ma_gdich: str) -> list[bytes]:
        raise NotSupported("hook http://127.0.0.1:9/recover answered 404: not supported")


def test_an_operation_tried_but_never_announced_is_not_supported(tmp_path: Path) -> None:
    bundle = run_certification(
        TriedRecover(), [PROCEDURE], cases=["CERT-REC-01"], out=tmp_path, settings=FAST
    )
    [case] = bundle.cases
    assert case.outcome.value == "skipped"
    assert case.message.startswith("not supported by the adapter:") and "404" in case.message


class Hook(BaseHTTPRequestHandler):
    """/start answers ``START`` (a JSON body, or empty); every other operation is 404."""

    START: ClassVar[bytes] = b""

    def log_message(self, *_args: Any) -> None:
        return None

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"] or 0))
        start = self.path == "/start"
        self.send_response(200 if start else 404)
        data = self.START if start else b""
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def hook(request: pytest.FixtureRequest) -> Iterator[str]:
    handler = type("StartsWith", (Hook,), {"START": request.param})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _started(url: str, tmp_path: Path) -> HttpHookAdapter:
    adapter = HttpHookAdapter(url, timeout=5)
    adapter.start(AdapterContext("http://x", "IVAN01", "I", "t", tmp_path / "w", tmp_path, "v"))
    return adapter


@pytest.mark.parametrize("hook", [b"", b"{}"], indirect=True)
def test_a_hook_naming_no_capabilities_is_tried_on_each(hook: str, tmp_path: Path) -> None:
    adapter = _started(hook, tmp_path)
    assert adapter.capabilities == adapter.assumed == {"tick", "recover", "restart"}
    with pytest.raises(NotSupported) as refused:
        adapter.recover("MA1")
    assert f"{hook}/recover answered 404" in str(refused.value)
    assert '{"capabilities": [' in (refused.value.hint or "")  # how to say what it has


LISTS_RECOVER = json.dumps({"capabilities": ["recover"]}).encode()


@pytest.mark.parametrize("hook", [LISTS_RECOVER], indirect=True)
def test_a_hook_refusing_what_it_listed_says_so(hook: str, tmp_path: Path) -> None:
    adapter = _started(hook, tmp_path)
    assert adapter.capabilities == {"recover"} and not adapter.assumed
    with pytest.raises(NotSupported, match="although its /start listed it"):
        adapter.recover("MA1")


def test_a_python_class_missing_members_is_told_which(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "vendor_half.py").write_text(
        "class Half:\n    name = spec = 'half'\n\n    def start(self, context): ...\n\n"
        "    def submit(self, job, now): ...\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError) as refused:
        resolve_adapter("python:vendor_half:Half")
    message = str(refused.value)
    assert "it has no capabilities, tick, recover, restart, stop" in message
    assert "NotSupported" in (refused.value.hint or "")


@pytest.mark.parametrize("hook", [b""], indirect=True)
def test_a_hook_url_without_start_says_to_check_the_url(hook: str, tmp_path: Path) -> None:
    with pytest.raises(AdapterFailed) as wrong:
        _started(f"{hook}/wrong", tmp_path)
    assert not isinstance(wrong.value, NotSupported)  # a wrong URL, not a missing operation
    assert f"{hook}/wrong/start answered 404" in str(wrong.value)
    assert "give --adapter the URL the hook listens on" in (wrong.value.hint or "")
