"""Headless Chromium for end-to-end page tests: the rendered DOM and a screenshot.

Uses Debian's ``chromium`` with the flags this closed network needs; tests skip with the
reason where it is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import html

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,2000",
]


@dataclass(frozen=True)
class Rendered:
    """What the browser shows: the DOM after scripts ran, its visible text, a PNG."""

    dom: str
    text: str
    screenshot: bytes


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


def render(url: str, timeout: float = 60, *, settle_ms: int = 0) -> Rendered:
    """Load ``url`` (http:// or file://) headless; return its DOM, text and screenshot.

    ``settle_ms`` lets the page run (and navigate itself) for that much virtual time first.
    """
    binary = chromium()
    with tempfile.TemporaryDirectory() as profile:
        base = [binary, *FLAGS, f"--user-data-dir={profile}"]
        if settle_ms:
            base.append(f"--virtual-time-budget={settle_ms}")
        dom = subprocess.run(
            [*base, "--dump-dom", url], capture_output=True, timeout=timeout, check=True
        ).stdout.decode("utf-8", "replace")
        shot = Path(profile) / "shot.png"
        subprocess.run(
            [*base, f"--screenshot={shot}", url], capture_output=True, timeout=timeout, check=True
        )
        png = shot.read_bytes() if shot.exists() else b""
    text = " ".join(html.fromstring(dom).text_content().split()) if dom.strip() else ""
    return Rendered(dom, text, png)
