"""``load`` refuses master options in a one-process run, and every usage error it prints
ends with a ``Hint:`` line (README: "one line and a hint")."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.errors import ConfigError
from harness.load.cli import load
from harness.load.request import LoadRequest


def _load(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(load, [*args, "--duration", "5", "--out", str(tmp_path)])


def _hint(result: Result) -> str:
    """The refusal's hint line (exit 2, nothing run)."""
    assert result.exit_code == 2, result.output
    [line] = [line for line in result.stderr.splitlines() if line.startswith("Hint: ")]
    return line


def test_a_master_port_without_workers_is_refused(busy_port: int, tmp_path: Path) -> None:
    """It was ignored: a run with a port in use exited 0 though README says it is checked."""
    result = _load(tmp_path, "--master-port", str(busy_port))
    assert f"--master-port {busy_port} applies to distributed mode only" in result.stderr
    assert "add --workers N" in _hint(result)
    assert not any(tmp_path.iterdir())


def test_a_master_bind_without_workers_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"--master-bind 0\.0\.0\.0 applies to distributed mode"):
        LoadRequest(master_bind="0.0.0.0").validate()
    LoadRequest(workers=1, master_bind="0.0.0.0", master_port=5557).validate()
    LoadRequest(remote_workers=2, master_bind="0.0.0.0", master_port=5557).validate()


def test_a_missing_service_level_file_says_what_to_give(tmp_path: Path) -> None:
    result = _load(tmp_path, "--service-levels", str(tmp_path / "nonexist.yaml"))
    assert "nonexist.yaml does not exist" in result.stderr
    assert "leave --service-levels out" in _hint(result)


def test_a_master_port_in_use_has_a_hint(busy_port: int, tmp_path: Path) -> None:
    result = _load(tmp_path, "--workers", "1", "--master-port", str(busy_port))
    assert f"--master-port {busy_port} is in use" in result.stderr
    assert _hint(result)
