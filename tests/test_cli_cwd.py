"""Run from a folder that was deleted: one message saying so (exit 2), never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

_IN_DELETED_FOLDER = 'rmdir "$PWD" && exec "$0" "$@"'
"""bash: delete the current folder, then run the command given (``$0`` and the rest)."""


def in_deleted_folder(tmp_path: Path, *command: str) -> subprocess.CompletedProcess[str]:
    gone = tmp_path / "gone"
    gone.mkdir()
    return subprocess.run(
        ["bash", "-c", _IN_DELETED_FOLDER, *command],
        cwd=gone,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "args", [("--help",), ("dossier", "build", "--help"), ("catalog", "check"), ("--version",)]
)
def test_the_cli_says_the_current_folder_is_gone(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = in_deleted_folder(tmp_path, sys.executable, "-m", "harness", *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "error: the current folder no longer exists (it was deleted or moved)",
        "Hint: cd to an existing folder and run the command again",
    ]
    assert done.stdout == ""


def test_the_library_finds_its_checkout_from_a_deleted_folder(tmp_path: Path) -> None:
    script = "from harness.paths import project_root; print(project_root())"
    done = in_deleted_folder(tmp_path, sys.executable, "-c", script)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip(), "fixtures", "catalog").is_dir()
