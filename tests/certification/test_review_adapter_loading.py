"""An adapter named by its entry point whose module cannot be imported is a usage error
(exit 2, one message with a hint), exactly as the ``python:module:Class`` form is."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.certification import resolve_adapter
from harness.certification.cli import certify
from harness.errors import ConfigError


def _entry_point(site: Path, name: str, module: str, source: str) -> None:
    """A fake installed distribution whose adapter entry point ``name`` is ``module:Ivan``."""
    info = site / "fake_vendor-0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fake-vendor\nVersion: 0.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        f"[bhxh_harness.adapters]\n{name} = {module}:Ivan\n", encoding="utf-8"
    )
    if source:
        (site / f"{module}.py").write_text(source, encoding="utf-8")


@pytest.mark.parametrize(
    ("module", "source", "message"),
    [
        (
            "review_broken_dep",
            "import review_not_installed_dependency\n",
            "importing review_broken_dep failed: No module named 'review_not_installed_dependency'",
        ),
        (
            "review_raising",
            "raise ValueError('bad config')\n",
            "importing review_raising failed: ValueError: bad config",
        ),
        ("review_absent", "", "no Python module 'review_absent' for adapter python:broken"),
    ],
)
def test_an_entry_point_whose_module_fails_to_import_is_a_config_error(
    module: str, source: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _entry_point(tmp_path, "broken", module, source)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match=message) as caught:
        resolve_adapter("python:broken")
    assert caught.value.hint


def test_certify_says_so_in_one_message_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _entry_point(tmp_path / "site", "broken", "review_broken_cli", "import review_missing_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        certify, ["--adapter", "python:broken", "--out", str(out), "--no-progress"]
    )
    assert result.exit_code == 2, result.output
    assert "importing review_broken_cli failed: No module named 'review_missing_xyz'" in (
        result.output
    )
    assert "Hint: run `python -c 'import review_broken_cli'`" in result.output
    assert "Traceback" not in result.output and not out.exists()
