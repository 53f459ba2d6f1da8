"""`load`'s named data (shape, mix) suggests the closest name, as other commands do, and a
--scale that is not a finite number says what a usable one is."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from harness.cli import main


def _load(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["load", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--shape", "month-ed"), "unknown shape 'month-ed'\nHint: did you mean 'month-end'?"),
        (("--mix", "ordinry"), "unknown mix 'ordinry'\nHint: did you mean 'ordinary'?"),
    ],
)
def test_a_misspelt_shape_or_mix_is_suggested(args: tuple[str, ...], said: str) -> None:
    code, output = _load(*args)
    assert code == 2 and said in output, output


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_a_scale_that_is_not_finite_says_what_is_wanted(value: str) -> None:
    """`--scale inf must be positive`: inf is positive."""
    code, output = _load("--scale", value)
    assert code == 2 and f"'{value}' is not a finite number (give one above 0" in output
