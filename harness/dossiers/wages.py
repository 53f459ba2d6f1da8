"""Base salary, regional minimum wage and contribution caps by declaration period.

These decide whether a D02-TS wage is legal (at least the region's minimum, at most the SI
cap), so the figures come from ``fixtures/reference/tables.yaml``, where a new decree is a
one-line change, and the functions here are pure (no faker) so that validators and
factories share the same answer. A period before the first figure raises ``FactoryError``
rather than silently using the oldest figure: a wrong wage floor would make the harness
accept or reject dossiers for the wrong reason.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from harness.dossiers._data import TABLES_FILE, load_yaml
from harness.dossiers.text import Period, parse_period
from harness.errors import FactoryError

__all__ = [
    "REGIONS",
    "PeriodLike",
    "base_salary",
    "coerce_period",
    "minimum_wage",
    "salary_cap",
    "ui_salary_cap",
]

REGIONS = (1, 2, 3, 4)
"""Wage regions I..IV (MavungLTT 01..04)."""

SI_CAP_MULTIPLIER = 20
"""SI/HI contribution salary is capped at 20 x base salary (Social Insurance Law)."""

PeriodLike = str | date | tuple[int, int]
"""A period as ``"MM/yyyy"``/``"yyyy-MM"``, any date in the month, or ``(year, month)``."""


def coerce_period(period: PeriodLike) -> Period:
    """Turn any accepted period spelling into a ``Period``; FactoryError if it is not one."""
    if isinstance(period, date):
        return Period(period.year, period.month)
    if isinstance(period, tuple):
        year, month = period
        if not 1 <= month <= 12:
            raise FactoryError(f"not a period: {period!r}; month must be 1..12")
        return Period(year, month)
    try:
        return parse_period(period)
    except ValueError as exc:
        raise FactoryError(str(exc), hint="write periods as MM/yyyy, e.g. 07/2024") from None


def _amount(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise FactoryError(f"fixtures/{TABLES_FILE}: {where}: amount must be a positive integer")
    return Decimal(value)


def _entries(key: str) -> list[tuple[Period, Any]]:
    """The ``since``-keyed rows of one section, checked to be in strictly ascending order."""
    doc = load_yaml(TABLES_FILE)
    rows = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(rows, list) or not rows:
        raise FactoryError(f"fixtures/{TABLES_FILE}: section {key!r} is missing or empty")
    out: list[tuple[Period, Any]] = []
    for i, row in enumerate(rows):
        try:
            since = parse_period(str(row["since"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise FactoryError(
                f"fixtures/{TABLES_FILE}: {key}[{i}] has no valid 'since': {exc}"
            ) from exc
        if out and since <= out[-1][0]:
            raise FactoryError(f"fixtures/{TABLES_FILE}: {key}[{i}] is not in ascending order")
        out.append((since, row))
    return out


@functools.cache
def _base_schedule() -> tuple[tuple[Period, Decimal], ...]:
    return tuple(
        (since, _amount(row.get("amount"), f"base_salary {since}"))
        for since, row in _entries("base_salary")
    )


@functools.cache
def _minimum_schedule() -> tuple[tuple[Period, Mapping[int, Decimal]], ...]:
    out: list[tuple[Period, Mapping[int, Decimal]]] = []
    for since, row in _entries("regional_minimum_wage"):
        given = row.get("regions")
        # the data loader reads mapping keys as text: "1".."4"
        regions = (
            {int(k): v for k, v in given.items() if str(k).isdigit()}
            if isinstance(given, dict)
            else None
        )
        if regions is None or sorted(regions) != list(REGIONS):
            raise FactoryError(
                f"fixtures/{TABLES_FILE}: regional_minimum_wage {since}: need regions 1, 2, 3, 4"
            )
        figures = {
            r: _amount(regions[r], f"regional_minimum_wage {since} region {r}") for r in REGIONS
        }
        out.append((since, MappingProxyType(figures)))
    return tuple(out)


def _in_force(
    schedule: tuple[tuple[Period, Any], ...], period: PeriodLike, what: str
) -> tuple[Period, Any]:
    """The schedule row governing ``period``: the last one whose ``since`` is not after it."""
    p = coerce_period(period)
    current: tuple[Period, Any] | None = None
    for row in schedule:
        if row[0] > p:
            break
        current = row
    if current is None:
        first = schedule[0][0]
        raise FactoryError(
            f"no {what} known for period {p}: the table starts at {first}",
            hint=f"use a period from {first} on, or add the older figure to fixtures/{TABLES_FILE}",
        )
    return current


def base_salary(period: PeriodLike) -> Decimal:
    """Lương cơ sở in force for ``period`` (VND/month)."""
    amount: Decimal = _in_force(_base_schedule(), period, "base salary")[1]
    return amount


def salary_cap(period: PeriodLike) -> Decimal:
    """The SI/HI contribution-salary ceiling for ``period``: 20 x base salary."""
    return SI_CAP_MULTIPLIER * base_salary(period)


def minimum_wage(period: PeriodLike, region: int) -> Decimal:
    """The regional minimum wage for ``region`` (1..4 = I..IV) in force for ``period``."""
    if isinstance(region, bool) or region not in REGIONS:
        raise FactoryError(
            f"wage region must be 1, 2, 3 or 4 (I..IV), got {region!r}",
            hint="MavungLTT 01..04 maps to region 1..4",
        )
    figures: Mapping[int, Decimal] = _in_force(
        _minimum_schedule(), period, "regional minimum wage"
    )[1]
    return figures[region]


def ui_salary_cap(period: PeriodLike, region: int) -> Decimal:
    """The unemployment-insurance ceiling: 20 x the region's minimum wage."""
    return SI_CAP_MULTIPLIER * minimum_wage(period, region)
