"""Shapes, mixes and the base figures are data; the plan turns them into rates and users."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from harness.catalog import list_versions, load_catalog
from harness.errors import ConfigError
from harness.load import Plan, Shape, load_profile, mix_for_catalog
from harness.load.profile import load_dir


def test_base_figures_are_domain_scale() -> None:
    base = load_profile().base
    assert (base.dossiers_per_day, base.units) == (48000, 410000)  # DOMAIN.md "Scale"
    assert math.isclose(base.rate, 48000 / (8 * 3600))


def test_every_shape_runs_from_start_to_end_on_a_known_mix() -> None:
    profile = load_profile()
    assert {"steady-day", "month-end", "quarter-end"} <= set(profile.shapes)
    for shape in profile.shapes.values():
        assert shape.mix in profile.mixes
        assert shape.points[0][0] == 0.0 and shape.points[-1][0] == 1.0


def test_deadlines_peak_above_an_ordinary_day() -> None:
    profile = load_profile()
    peak = {name: max(y for _, y in s.points) for name, s in profile.shapes.items()}
    assert peak["steady-day"] < peak["month-end"] < peak["quarter-end"]


def test_every_mixed_procedure_exists_in_some_catalog_version() -> None:
    known = {code for v in list_versions() for code in load_catalog(v).procedures}
    for name, weights in load_profile().mixes.items():
        assert set(weights) <= known, name


def test_curve_is_linear_between_points() -> None:
    shape = Shape("t", "t", "m", ((0.0, 1.0), (0.5, 3.0), (1.0, 1.0)))
    assert shape.multiple(0.25) == 2.0
    assert shape.multiple(0.5) == 3.0
    assert shape.multiple(-1) == 1.0 and shape.multiple(2) == 1.0
    assert math.isclose(shape.mean_multiple(), 2.0, rel_tol=1e-3)


def test_plan_rates_users_and_expected_dossiers() -> None:
    profile = load_profile()
    flat = profile.shape("flat")
    open_plan = Plan(profile, flat, scale=6.0, duration=10.0, model="open")
    assert math.isclose(open_plan.rate(3.0), 6 * profile.base.rate)
    assert open_plan.users(0.0) == math.ceil(6 * profile.base.rate * 5.0)
    assert math.isclose(open_plan.expected_dossiers, 6 * profile.base.rate * 10.0, rel_tol=1e-6)
    closed = Plan(profile, flat, scale=6.0, duration=10.0, model="closed")
    assert closed.users(0.0) == math.ceil(6 * profile.base.rate * 2.0)
    tiny = Plan(profile, flat, scale=0.001, duration=10.0, model="open")
    assert tiny.users(5.0) == 1  # a run never idles
    assert Plan(profile, flat, 1.0, 10.0, "max", users_max=7).users(1.0) == 7


def test_month_end_ramp_then_spike() -> None:
    profile = load_profile()
    plan = Plan(profile, profile.shape("month-end"), 1.0, 100.0, "open")
    assert plan.rate(0) < plan.rate(50) < plan.rate(80)
    assert plan.rate(80) == plan.peak_rate > plan.rate(99)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"scale": 0.0}, "scale=0.0"),
        ({"duration": -1.0}, "duration=-1.0"),
        ({"model": "bursty"}, "model='bursty'"),
        ({"model": "max"}, "users_max"),
    ],
)
def test_plan_names_the_bad_value(changes: dict[str, object], message: str) -> None:
    profile = load_profile()
    values: dict[str, object] = {"scale": 1.0, "duration": 10.0, "model": "open"} | changes
    with pytest.raises(ConfigError, match=message):
        Plan(profile, profile.shape("flat"), **values)  # type: ignore[arg-type]


def test_unknown_shape_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="month-end"):
        load_profile().shape("black-friday")


def _copy_profile(tmp_path: Path, shapes_text: str) -> Path:
    shutil.copy(load_dir() / "mixes.yaml", tmp_path / "mixes.yaml")
    original = (load_dir() / "shapes.yaml").read_text(encoding="utf-8")
    head = original.split("\nshapes:", 1)[0]
    (tmp_path / "shapes.yaml").write_text(head + "\nshapes:\n" + shapes_text, encoding="utf-8")
    return tmp_path


def test_a_shape_must_cover_the_whole_run(tmp_path: Path) -> None:
    folder = _copy_profile(
        tmp_path, "  short:\n    mix: month-end\n    points: [[0, 1], [0.5, 2]]\n"
    )
    with pytest.raises(ConfigError, match=r"'short'.*0.0 to 1.0"):
        load_profile(folder)


def test_a_shape_must_name_a_known_mix(tmp_path: Path) -> None:
    folder = _copy_profile(tmp_path, "  odd:\n    mix: nowhere\n    points: [[0, 1], [1, 1]]\n")
    with pytest.raises(ConfigError, match=r"shapes.yaml:.*'odd' names mix 'nowhere'"):
        load_profile(folder)


def test_mix_keeps_what_the_catalog_has() -> None:
    kept, dropped = mix_for_catalog({"600": 2.0, "630a": 1.0, "604": 0.0}, ["600", "604"])
    assert kept == {"600": 2.0} and dropped == ["630a"]
    with pytest.raises(ConfigError, match="no procedure of this catalog"):
        mix_for_catalog({"630a": 1.0}, ["600"])


def test_a_procedure_the_mix_does_not_weigh_is_said_to_be_left_out() -> None:
    from types import SimpleNamespace

    from harness.load.run_setup import _mix

    profile = load_profile()
    plan = SimpleNamespace(profile=profile, shape=SimpleNamespace(mix="month-end"))
    said: list[str] = []
    procedures = [*profile.mix("month-end"), "605"]  # 605: a procedure just added
    _, weights, _ = _mix(SimpleNamespace(mix=None), plan, procedures, "2026.2", said.append)  # type: ignore[arg-type]
    assert "605" not in weights
    [warning] = said
    assert warning.startswith("warning: mix month-end gives no weight to 605 of catalog 2026.2")
    assert "mixes.yaml:" in warning
