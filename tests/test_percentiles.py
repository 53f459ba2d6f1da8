"""The one percentile every report uses: nearest rank, always a measured value."""

from __future__ import annotations

import pytest

from harness.load.stats import percentile as load_percentile
from harness.percentiles import nearest_rank
from harness.regression.baseline import percentile as regression_percentile


@pytest.mark.parametrize(
    ("values", "percent", "expected"),
    [
        ([4.0, 1.0, 3.0, 2.0], 50, 2.0),
        ([4.0, 1.0, 3.0, 2.0], 95, 4.0),
        ([7.0], 99.9, 7.0),
        ([1.0, 2.0], 0, 1.0),
        ([float(v) for v in range(1, 1001)], 99.9, 999.0),  # 0.999 * 1000 is 999.0000000000001
        ([float(v) for v in range(1, 101)], 95, 95.0),
    ],
)
def test_nearest_rank(values: list[float], percent: float, expected: float) -> None:
    assert nearest_rank(values, percent) == expected


def test_no_samples_no_percentile() -> None:
    assert nearest_rank([], 95) is None
    assert load_percentile([], "p95") is None
    assert regression_percentile([], 95) == 0.0  # a baseline's figure for an empty procedure


def test_the_load_verdict_and_the_regression_baseline_agree() -> None:
    values = [float(v) for v in range(1, 2001)]
    for percent in (50, 95, 99, 99.9):
        assert load_percentile(values, f"p{percent}") == regression_percentile(values, percent)
