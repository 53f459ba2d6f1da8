"""``iso`` (the stored form of every moment) writes what ``strftime`` wrote, faster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from mock_gateway.clock import from_iso, iso

OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
MOMENTS = st.datetimes(
    min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=OFFSETS
)


@given(MOMENTS)
def test_iso_is_the_strftime_form_in_utc_and_reads_back(moment: datetime) -> None:
    if moment.astimezone(UTC).year >= 1000:  # below, %Y did not pad: now it does
        assert iso(moment) == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert from_iso(iso(moment)) == moment


def test_a_year_below_1000_is_padded_so_it_sorts_and_reads_back() -> None:
    early = datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert iso(early) == "0999-12-31T23:59:59.000000Z"
    assert from_iso(iso(early)) == early
    assert iso(early) < iso(datetime(1000, 1, 1, tzinfo=UTC))


def test_iso_keeps_microseconds_and_sorts_as_text() -> None:
    plain = datetime(2026, 11, 27, 7, 5, 3, tzinfo=UTC)
    assert iso(plain) == "2026-11-27T07:05:03.000000Z"
    later = plain + timedelta(microseconds=1)
    assert iso(later) == "2026-11-27T07:05:03.000001Z" and iso(plain) < iso(later)
    hanoi = timezone(timedelta(hours=7))
    assert iso(datetime(2026, 1, 1, 6, 59, 59, 999999, tzinfo=hanoi)) == (
        "2025-12-31T23:59:59.999999Z"
    )
