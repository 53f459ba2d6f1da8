"""A baseline keeps values masked by the masks of its recording: compared under other
masks, an unchanged gateway failed with dozens of differences and a trailing note. Such a
baseline is refused before anything is sent, saying how to proceed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.paths import fixtures_dir
from harness.regression import Baseline, load_baseline

CLOSED = "http://127.0.0.1:9"
"""Nothing listens there: a run that got as far as the gateway would say so instead."""


def _edited_home(tmp_path: Path) -> Path:
    """A copy of the fixtures whose SO_HSO mask is changed (REPRO.md's ``home3``)."""
    home = tmp_path / "home"
    shutil.copytree(fixtures_dir(), home / "fixtures")
    masks = home / "fixtures" / "baselines" / "masks.yaml"
    text = masks.read_text(encoding="utf-8")
    edited = text.replace(
        "action: regex, pattern: '^\\d{5}/\\d{4}/'", "action: token, pattern: '^'"
    )
    assert edited != text
    masks.write_text(edited, encoding="utf-8")
    return home


def test_a_baseline_recorded_with_other_masks_is_refused(
    reference: Baseline, baselines: Path, tmp_path: Path
) -> None:
    other = tmp_path / "masks.yaml"
    other.write_text((fixtures_dir() / "baselines" / "masks.yaml").read_text() + "\n# edited\n")
    with pytest.raises(ConfigError, match="recorded with other masks") as refused:
        load_baseline(reference.name, baselines, masks=other)
    assert f"record --name {reference.name} --root {baselines} --force" in str(refused.value)
    assert load_baseline(reference.name, baselines).outcomes == reference.outcomes


def test_regress_refuses_it_before_anything_is_sent(
    reference: Baseline, baselines: Path, tmp_path: Path
) -> None:
    """REPRO.md's ``home3``: the command, as a user runs it with a data copy."""
    env = {**os.environ, "BHXH_HARNESS_HOME": str(_edited_home(tmp_path))}
    run = subprocess.run(
        [sys.executable, "-m", "harness", "regress", "--baseline", reference.name,
         "--root", str(baselines), "--gateway", CLOSED, "--token", "t",
         "--out", str(tmp_path / "reports")],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 2, run.stdout + run.stderr
    assert "recorded with other masks" in run.stderr and "Traceback" not in run.stderr
    assert "does not answer" not in run.stderr  # refused before the gateway was tried
