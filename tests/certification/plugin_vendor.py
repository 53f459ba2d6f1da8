"""Run a vendor's test file with the plugin in a child pytest, as a vendor would."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.inner_pytest import inner_env


def run_vendor(
    folder: Path, source: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``pytest test_vendor.py ARGS`` in ``folder``, warnings as errors, a JUnit report."""
    (folder / "test_vendor.py").write_text(source, encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"]
    command += ["--junitxml", "junit.xml", "test_vendor.py", *args]
    return subprocess.run(
        command,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=180,
        env=inner_env(env),
    )


def outcomes(folder: Path) -> dict[str, str]:
    """Each vendor test's outcome from the JUnit report: ``passed``, or ``failure``,
    ``error`` or ``skipped`` with the first lines of its report."""
    result = {}
    for case in ET.parse(folder / "junit.xml").getroot().iter("testcase"):
        bad = [c for c in case if c.tag in ("failure", "error", "skipped")]
        detail = f"{bad[0].tag}: {bad[0].get('message', '')} {bad[0].text}" if bad else "passed"
        result[case.get("name", "")] = detail[:1500]
    return result
