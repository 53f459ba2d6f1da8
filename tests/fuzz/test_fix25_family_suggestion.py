"""``fuzz --family`` mistyped says which family was meant, as the other options do."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.cli import main


def _fuzz(tmp_path: Path, *families: str) -> Result:
    out, found = tmp_path / "out", tmp_path / "found"
    chosen = [arg for family in families for arg in ("--family", family)]
    return CliRunner().invoke(main, ["fuzz", "--out", str(out), "--found", str(found), *chosen])


def _hint(result: Result) -> str:
    assert result.exit_code == 2, result.output
    [hint] = [line for line in result.stderr.splitlines() if line.startswith("Hint: ")]
    return hint


@pytest.mark.parametrize(
    ("typed", "meant"), [("wag", "wage"), ("Hostle", "hostile"), ("vaild", "valid")]
)
def test_a_mistyped_family_is_suggested(tmp_path: Path, typed: str, meant: str) -> None:
    hint = _hint(_fuzz(tmp_path, typed))
    assert hint.startswith(f"Hint: did you mean {meant!r}? choose among facet, ")


def test_several_mistyped_families_are_each_named(tmp_path: Path) -> None:
    hint = _hint(_fuzz(tmp_path, "wag", "date", "hostle"))
    assert "wag: did you mean 'wage'? hostle: did you mean 'hostile'? choose among" in hint


def test_a_name_like_no_family_gets_no_guess(tmp_path: Path) -> None:
    hint = _hint(_fuzz(tmp_path, "zzzzzz"))
    assert "did you mean" not in hint and hint.startswith("Hint: choose among facet, ")
