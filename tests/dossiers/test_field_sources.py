"""Every name ``fields.yaml`` may use resolves in the factory, and a wrong one is refused
by ``catalog check`` and ``dossier build`` with file and line, not a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.dossiers import factory
from harness.dossiers.factory import _FormFiller, _Row, make_unit, source_names
from harness.dossiers.form_model import ElementSpec
from harness.dossiers.provider import make_faker
from harness.paths import fixtures_dir


@pytest.mark.parametrize("kind", ["person", "unit", "dossier", "row"])
def test_every_offered_name_resolves(kind: str) -> None:
    fake = make_faker(seed=3)
    filler = _FormFiller(fake, make_unit(fake, "07/2026"), "07/2026", 1, True)
    spec = ElementSpec("X", 1, 1, None)
    for name in sorted(source_names()[kind]):
        assert isinstance(filler._resolve(f"{kind}.{name}", spec, _Row(index=1)), str), name


def test_the_shipped_fields_yaml_passes() -> None:
    factory.field_rules.cache_clear()
    assert "ON" in factory.field_rules().prefer["PA"]


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("  PhuCapCV: 0.2", "  PhuCapCV: hai mươi phần trăm", "probability from 0 to 1"),
        ("  Email: unit.email", "  Email: unit.quoc_gia", "the factory offers no unit.quoc_gia"),
        ("  ChucVu: faker.job_title", "  ChucVu: faker.country_vi", "did you mean 'country'"),
    ],
)
@pytest.mark.parametrize("command", [("catalog", "check", "2026.1"), ("dossier", "build", "600")])
def test_the_commands_refuse_with_file_and_line(
    tmp_path: Path, old: str, new: str, says: str, command: tuple[str, ...]
) -> None:
    home = tmp_path / "home"
    shutil.copytree(fixtures_dir(), home / "fixtures")
    path = home / "fixtures" / "reference" / "fields.yaml"
    text = path.read_text(encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t == old)
    path.write_text(text.replace(old, new), encoding="utf-8")
    env = {**os.environ, "BHXH_HARNESS_HOME": str(home)}
    args = [*command, "-o", str(tmp_path / "d.xml")] if command[0] == "dossier" else command
    done = subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode in (1, 2), done.stdout + done.stderr
    assert f"fields.yaml:{line}:" in done.stderr and says in done.stderr
    assert "Traceback" not in done.stderr
