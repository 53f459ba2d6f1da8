"""The command line as a shell uses it: a bare group, an unknown top-level option, a reader
that leaves the pipe, an --out nothing can be made in, a named pipe, a narrow terminal."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from harness.cli import main
from harness.errors import ConfigError
from harness.paths import report_parent


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), prog_name="bhxh-harness")
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("group", ["catalog", "dossier", "pki"])
def test_a_group_without_a_subcommand_prints_its_help(group: str) -> None:
    """Its whole help came flattened into one `error:` line and a `Hint:`."""
    code, _, err = _invoke(group)
    assert code == 2  # as click does for a bare group (and `bhxh-harness` alone): nothing done
    assert err.startswith(f"Usage: bhxh-harness {group} [OPTIONS] COMMAND")
    assert "\nCommands:\n" in err and "error:" not in err and "Hint:" not in err


@pytest.mark.parametrize("option", ["-V", "--nosuch"])
def test_an_unknown_top_level_option_is_refused_as_every_other(option: str) -> None:
    code, _, err = _invoke(option)
    assert code == 2
    assert err.splitlines() == [
        f"error: No such option '{option}'.",
        "Hint: see `bhxh-harness --help`",
    ]


def _with_reader_gone(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI with stdout a pipe whose reader has already left (`| head -0`)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "harness", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            timeout=300,
        )
    finally:
        os.close(write)


def test_a_reader_leaving_does_not_change_the_verdict(tmp_path: Path, pki_dir: Path) -> None:
    """`demo | head -3` exited 1 though results.json said passed (pipefail read a failure)."""
    done = _with_reader_gone("demo", "--out", str(tmp_path / "r"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (results,) = (tmp_path / "r").glob("*/results.json")
    assert json.loads(results.read_text(encoding="utf-8"))["verdict"] == "passed"
    done = _with_reader_gone("dossier", "corpus", "-o", str(tmp_path / "c"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "c" / "manifest.json").is_file()


def test_a_dossier_on_stdout_that_was_not_read_fails(tmp_path: Path, pki_dir: Path) -> None:
    """stdout is its product: a pipeline must not take a dossier nobody received as made."""
    done = _with_reader_gone("dossier", "build", "600", cwd=tmp_path)
    assert done.returncode == 1
    assert "the dossier was not written in full" in done.stderr


def test_an_out_nothing_can_be_made_in_is_refused_before_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As root os.access says yes everywhere: certify ran 41 s, then failed on /proc/x."""
    if not Path("/proc").is_dir():
        pytest.skip("needs Linux's /proc")
    monkeypatch.setattr("harness.paths.os.access", lambda *_args, **_kw: True)  # as root
    with pytest.raises(ConfigError, match="cannot keep the report in /proc/x"):
        report_parent(Path("/proc/x"))


def test_an_out_that_can_be_written_is_left_as_it_was(tmp_path: Path) -> None:
    assert report_parent(tmp_path / "new") == tmp_path / "new"
    assert not (tmp_path / "new").exists() and list(tmp_path.iterdir()) == []


def test_a_named_pipe_is_not_read(tmp_path: Path, pki_dir: Path) -> None:
    """`dossier check fifo.xml` waited forever for a writer."""
    fifo = tmp_path / "fifo.xml"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "harness", "dossier", "check", str(fifo), "/dev/zero"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert f"{fifo}: unreadable: not a regular file" in done.stdout
    assert "/dev/zero: unreadable: not a regular file" in done.stdout


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory, pki_dir: Path) -> Iterator[object]:
    from harness.demo import run_demo

    yield run_demo(None, 1, tmp_path_factory.mktemp("demo"))


@pytest.mark.parametrize("terminal", [True, False])
def test_the_demo_table_never_cuts_what_it_says(outcome: object, terminal: bool) -> None:
    """At COLUMNS=40 it printed `rejec… SIG-0…`, on a terminal and piped alike."""
    from harness.demo import DemoOutcome, _print

    assert isinstance(outcome, DemoOutcome)
    out = io.StringIO()
    _print(outcome, Console(file=out, width=40, force_terminal=terminal, color_system=None))
    text = out.getvalue()
    assert "…" not in text
    # each code whole, for grep (a narrow terminal split `SIG-00` / `1` across lines)
    details = [c.message or c.title for c in outcome.bundle.cases]
    codes = {code for d in details for code in re.findall(r"\b[A-Z]{3,4}-\d{3}\b", d)}
    assert codes and all(code in text for code in codes), codes
