"""The plugin loads in every pytest session of an environment where the harness is
installed, used or not: reading its options must not load the catalogs unless an option
needs them (judging the default I-VAN code loaded every catalog, 0.17 s a session), and
loading it must not import what only its fixtures use."""

from __future__ import annotations

from typing import Any

import pytest

from harness.certification import plugin_options
from harness.certification.plugin_options import read_options
from tests.fresh_imports import modules_loaded


class _Config:
    """What ``read_options`` asks of a ``pytest.Config``: the given options, None else."""

    def __init__(self, **given: Any) -> None:
        self.given = given

    def getoption(self, name: str) -> Any:
        return self.given.get(name)


def _judged(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    codes: list[str] = []

    def problem(code: str, versions: Any = ()) -> str | None:
        codes.append(code)
        return "refused here" if code == "IVAN 9" else None

    monkeypatch.setattr(plugin_options, "ivan_code_problem", problem)
    return codes


def test_without_options_no_code_is_judged(monkeypatch: pytest.MonkeyPatch) -> None:
    judged = _judged(monkeypatch)
    options = read_options(_Config())  # type: ignore[arg-type]
    assert options.ivan == "IVAN01" and judged == []


def test_a_given_code_is_judged_and_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    judged = _judged(monkeypatch)
    assert read_options(_Config(bhxh_ivan="IVAN02")).ivan == "IVAN02"  # type: ignore[arg-type]
    with pytest.raises(pytest.UsageError, match="--bhxh-ivan 'IVAN 9': refused here"):
        read_options(_Config(bhxh_ivan="IVAN 9"))  # type: ignore[arg-type]
    assert judged == ["IVAN02", "IVAN 9"]


HEAVY = (
    "harness.catalog",
    "harness.certification.gateway",
    "harness.certification.plugin_inproc",
    "harness.client",
    "mock_gateway",
    "requests",
)
"""What loading the plugin used to import for fixtures a session may never use (0.3 s)."""


def test_loading_the_plugin_imports_no_fixture_machinery() -> None:
    assert modules_loaded("import harness.certification.plugin", HEAVY) == []
