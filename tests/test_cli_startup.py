"""Start-up: the CLI imports a command's heavy libraries only when that command runs.

Each probe runs in a fresh interpreter, since this test session has long loaded them all.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.fresh_imports import modules_loaded

HEAVY = ("xmlschema", "signxml", "sqlalchemy", "uvicorn", "locust", "hypothesis")

_PROBE = """
import sys
from harness.cli import main
try:
    main(sys.argv[1:], prog_name="bhxh-harness")
except SystemExit:
    pass
print("loaded:", *[m for m in {heavy!r} if m in sys.modules], file=sys.stderr)
"""


def loaded_by(*args: str) -> tuple[set[str], str]:
    """The heavy modules loaded by ``bhxh-harness ARGS`` (and its standard output)."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("loaded:"), done.stderr
    return set(last.split()[1:]), done.stdout


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert modules_loaded("import harness.cli", HEAVY) == []


def test_importing_the_facade_loads_nothing_until_a_name_is_used() -> None:
    script = (
        "import sys, harness; before = set(sys.modules); harness.DossierFactory;"
        f"print(*sorted(set({HEAVY!r}) & before))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == []


@pytest.mark.parametrize(
    "args",
    [
        ("catalog", "--help"),
        ("dossier", "build", "--help"),
        ("pki", "--help"),
        ("serve", "--help"),
        ("no-such-command",),
        ("catalog", "no-such-command"),
    ],
)
def test_a_command_help_or_a_usage_error_loads_no_heavy_library(args: tuple[str, ...]) -> None:
    assert loaded_by(*args)[0] == set()


def test_the_help_lists_every_command_without_loading_a_heavy_library() -> None:
    """Listing loads each command's module for its short help; the packages those modules
    live in (certification, load, regression...) import their names lazily, and the demo
    imports the gateway, signing and dossiers only when it runs."""
    loaded, out = loaded_by("--help")
    assert loaded == set()
    listed = re.findall(r"^  (\S+)  ", out.split("Commands:")[1], re.M)
    assert listed == [
        "catalog",
        "certify",
        "demo",
        "dossier",
        "fuzz",
        "load",
        "pki",
        "record",
        "regress",
        "serve",
    ]
    assert re.search(r"^  serve +Run the mock BHXH gateway", out, re.M)


@pytest.mark.parametrize(("typed", "meant"), [("serv", "serve"), ("certfy", "certify")])
def test_a_mistyped_command_suggests_one_not_loaded_yet(typed: str, meant: str) -> None:
    """click suggests from the commands already loaded: the lazy ones were never offered."""
    from click.testing import CliRunner

    from harness.cli import main

    result = CliRunner().invoke(main, [typed])
    assert result.exit_code == 2 and f"Did you mean '{meant}'?" in result.output


def test_writing_an_interrupted_report_ignores_a_second_stop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A second Ctrl-C while the report was written left it half written, exit 1."""
    import signal

    from harness import cli
    from harness.reporting import bundle

    seen: list[object] = []

    def write(_signum: int) -> list[object]:
        seen.append(signal.getsignal(signal.SIGINT))
        return []

    monkeypatch.setattr(bundle, "write_interrupted", write)
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        cli._write_interrupted(signal.SIGINT)
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)
    assert seen == [signal.SIG_IGN]
