"""The user-facing suite ``scenarios/fuzz`` runs green on a tiny budget, in its own process
(it configures hypothesis itself, as it does when users run it without these tests)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from harness.catalog import list_versions
from harness.fuzz import FAMILIES
from harness.paths import project_root
from harness.signing import TestPKI
from tests.inner_pytest import inner_env


def test_scenario_suite_passes_on_a_small_budget(pki: TestPKI, tmp_path: Path) -> None:
    env = inner_env(
        {
            "BHXH_FUZZ_EXAMPLES": "3",
            "BHXH_FUZZ_FOUND": str(tmp_path),
            "BHXH_HARNESS_PKI": str(pki.directory),
            "HYPOTHESIS_PROFILE": "ci",
        }
    )
    command = [sys.executable, "-m", "pytest", "scenarios/fuzz", "-q", "-p", "no:cacheprovider"]
    command += ["-n", "0"]  # the project's addopts would start workers inside this worker
    done = subprocess.run(
        command, cwd=project_root(), env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    expected = len(list_versions()) * (1 + len(FAMILIES)) + 1  # + the lifecycle machine
    assert re.search(rf"\b{expected} passed\b", done.stdout), done.stdout[-500:]
