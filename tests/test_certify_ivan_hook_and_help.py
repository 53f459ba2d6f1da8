"""Small rough edges: an unreachable certify hook says what to do, ``demo --help`` names
exit code 143, and the README's exit-code sentence tells the truth about ``serve``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from harness.certification.http_hook import HttpHookAdapter
from harness.certification.model import AdapterFailed
from harness.demo import demo

README = Path(__file__).resolve().parents[1] / "README.md"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_hook_says_what_to_do() -> None:
    url = f"http://127.0.0.1:{_free_port()}/hook"
    with pytest.raises(AdapterFailed) as caught:
        HttpHookAdapter(url, timeout=5).call("start", {})
    assert caught.value.hint is not None and "--adapter" in caught.value.hint
    assert f"\nHint: start the vendor's hook (it answers POST {url}/<operation>)" in str(
        caught.value
    )


def test_demo_help_names_both_interrupt_exit_codes() -> None:
    text = " ".join(CliRunner().invoke(demo, ["--help"]).output.split())
    assert "130/143 interrupted by Ctrl-C/SIGTERM" in text


def test_serve_exits_0_on_sigterm_as_the_readme_says(tmp_path: Path) -> None:
    readme = " ".join(README.read_text(encoding="utf-8").split())
    assert "`serve` is the exception" in readme and "exits 0" in readme
    port = _free_port()
    command = [sys.executable, "-m", "harness", "serve", "--port", str(port)]
    command += ["--database-url", f"sqlite:///{tmp_path / 'gateway.sqlite3'}"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        os.kill(server.pid, signal.SIGTERM)
        assert server.wait(timeout=20) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
