"""``--out`` of certify, demo and load is checked before the run, in regress's words: a file
where the folder should be was found only once the whole run was done (and its results
lost), and ``--out ""`` wrote the report into the current folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from harness.certification.cli import certify
from harness.demo import demo
from harness.errors import ConfigError
from harness.load.cli import load
from harness.signing import TestPKI

COMMANDS: list[tuple[click.Command, list[str]]] = [
    (certify, ["--adapter", "reference", "--case", "CERT-SCH-01@600", "--no-progress"]),
    (demo, ["--catalog", "2024.1"]),
    (load, ["--duration", "1", "--scale", "0.05"]),
]
IDS = ["certify", "demo", "load"]


@pytest.mark.parametrize(("command", "args"), COMMANDS, ids=IDS)
def test_an_out_below_a_file_is_refused_before_the_run(
    tmp_path: Path, pki: TestPKI, command: click.Command, args: list[str]
) -> None:
    (tmp_path / "afile").write_text("not a folder", encoding="utf-8")
    outcome = CliRunner().invoke(command, [*args, "--out", str(tmp_path / "afile" / "sub")])
    assert outcome.exit_code == 2, outcome.output
    assert (
        f"error: cannot keep the report in {tmp_path / 'afile' / 'sub'}: "
        f"{tmp_path / 'afile'} is a file, not a folder" in outcome.stderr
    )
    assert "Hint: name with --out a folder you may write to" in outcome.stderr
    assert "verdict" not in outcome.output  # nothing ran


@pytest.mark.parametrize(("command", "args"), COMMANDS, ids=IDS)
def test_an_empty_out_is_refused(
    tmp_path: Path,
    pki: TestPKI,
    command: click.Command,
    args: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    outcome = CliRunner().invoke(command, [*args, "--out", ""])
    assert outcome.exit_code == 2, outcome.output
    assert "an empty value" in outcome.output
    assert list(tmp_path.iterdir()) == []  # no report in the current folder


def test_the_report_parent_is_checked_not_created(tmp_path: Path) -> None:
    from harness.paths import report_parent, writable_folder

    folder = tmp_path / "new" / "deeper"
    assert report_parent(folder) == folder and not (tmp_path / "new").exists()
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"cannot keep the report in .*: it is a file") as caught:
        report_parent(tmp_path / "afile")
    assert caught.value.hint is not None and "--out" in caught.value.hint
    with pytest.raises(ConfigError, match="afile is a file, not a folder"):
        writable_folder(tmp_path / "afile" / "x", "baselines", hint="--root", create=False)
    with pytest.raises(ConfigError, match="afile is a file, not a folder"):
        writable_folder(tmp_path / "afile" / "x", "baselines", hint="--root")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    with pytest.raises(ConfigError, match="dangling is a link to nothing"):
        report_parent(tmp_path / "dangling" / "reports")


def test_a_relative_load_out_reaches_locust_as_an_absolute_folder(
    tmp_path: Path, pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """locust runs in the project's folder: a relative report folder split the report in
    two (statistics there, the rest here) and the run ended in "wrote no statistics"."""
    from harness.load.request import LoadRequest
    from harness.load.runner import execute

    seen: dict[str, object] = {}

    class Gateway:
        url = "http://127.0.0.1:1"

        def __init__(self, *_args: object, **_kwargs: object) -> None: ...

        def __enter__(self) -> Gateway:
            return self

        def __exit__(self, *_exc: object) -> None: ...

    def locust(_file: Path, _url: str, settings: Any, *args: Any, **_kwargs: Any) -> None:
        seen.update(directory=args[2], lifecycle=settings.lifecycle_out)
        raise ConfigError("stopped here")

    monkeypatch.setattr("harness.load.runner._prepare_pools", lambda *_args: 0.0)
    monkeypatch.setattr("harness.load.runner.LocalGateway", Gateway)
    monkeypatch.setattr("harness.load.runner.run_locust", locust)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="stopped here"):
        execute(LoadRequest(duration=1, out=Path("rel")))
    directory = seen["directory"]
    assert isinstance(directory, Path) and directory.parent == tmp_path / "rel"
    assert Path(str(seen["lifecycle"])).is_absolute()


def test_regress_refuses_an_empty_out() -> None:
    """An unset shell variable in --out "$DIR" wrote the report into the current folder."""
    from click.testing import CliRunner

    from harness.cli import main

    result = CliRunner().invoke(main, ["regress", "--baseline", "reference-2026.1", "--out", ""])
    assert result.exit_code == 2 and "an empty value" in result.output
