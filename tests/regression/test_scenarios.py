"""The user-facing suite ``scenarios/regression`` passes against the reference gateway and
fails, naming the procedures, against a faulty release (in its own process, as users run it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness.paths import project_root
from harness.signing import TestPKI
from tests.inner_pytest import inner_env


def _run(pki: TestPKI, tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = inner_env(
        {"BHXH_HARNESS_PKI": str(pki.directory), "BHXH_REGRESS_REPORT": str(tmp_path), **extra}
    )
    command = [
        sys.executable,
        "-m",
        "pytest",
        "scenarios/regression",
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    return subprocess.run(
        command, cwd=project_root(), env=env, capture_output=True, text=True, timeout=300
    )


def test_scenarios_pass_on_the_reference_and_fail_on_a_faulty_release(
    pki: TestPKI, tmp_path: Path
) -> None:
    good = _run(pki, tmp_path / "good")
    assert good.returncode == 0, good.stdout[-3000:] + good.stderr[-2000:]
    bad = _run(pki, tmp_path / "bad", BHXH_REGRESS_RELEASE="pa-code-removed")
    assert bad.returncode == 1, bad.stdout[-3000:]
    assert "test_no_unintended_difference[600]" in bad.stdout
    assert "test_no_unintended_difference[601]" in bad.stdout
    assert "2 failed" in bad.stdout
