"""Reference tables (wages, places, code sets) for Schematron rules.

The tables are YAML under ``fixtures/reference/``. The mapping is generic: each top-level
list is a table of rows, nested mappings flatten to ``parent_child`` columns
(``regions: {1: ...}`` becomes ``regions_1``). Rules reach them two ways:

* ``fn:in-table('wards', code)`` and ``fn:as-of('base_salary', 'amount', period)``, indexed
  lookups in Python (a hash probe instead of an XPath scan of every row, so the cost does
  not grow with the table; these run on the gateway's hot path);
* ``$tables``, bound to ``fn:tables()``: the same rows as ``<tables><name><row .../>``,
  for anything the lookups above cannot express.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from harness.errors import CatalogError
from harness.paths import fixtures_dir
from harness.suggestions import did_you_mean
from harness.yamlfile import line_of, load_yaml


def _flatten(prefix: str, value: Any, into: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}_{key}" if prefix else str(key), inner, into)
    elif value is not None:
        into[prefix] = str(value)


@cache
def table_rows(reference_dir: Path | None = None) -> dict[str, list[dict[str, str]]]:
    """Every reference table as flattened rows, keyed by table name (cached; read only);
    :class:`CatalogError` for a row whose columns are not its table's (:func:`check_columns`)."""
    tables: dict[str, list[dict[str, str]]] = {}
    folder = reference_dir or fixtures_dir() / "reference"
    for path in sorted(folder.glob("*.yaml")):
        doc = load_yaml(path) or {}
        for name, rows in doc.items():
            if not isinstance(rows, list):
                continue
            check_columns(str(name), rows, path)
            flattened = tables.setdefault(str(name), [])
            for row in rows:
                attrs: dict[str, str] = {}
                _flatten("" if isinstance(row, dict) else "value", row, attrs)
                flattened.append(attrs)
    return tables


KEY_COLUMNS = ("code", "since")
"""The columns lookups find rows by: ``fn:in-table``'s default and ``fn:as-of``'s period."""


def check_columns(table: str, rows: list[Any], path: Path) -> None:
    """Refuse a row whose column is misspelt (``cod:`` where the other rows say ``code:``):
    ``fn:in-table`` would never find the row, and nothing else would say so. A column no
    other row has is refused when it is close to one they have, or when the row lacks one
    every other row has (a renamed column) or a key column they have."""
    mappings = [row for row in rows if isinstance(row, dict)]
    if len(mappings) < 2:
        return
    counts: dict[str, int] = {}
    for row in mappings:
        for key in row:
            counts[str(key)] = counts.get(str(key), 0) + 1
    found: list[tuple[str | None, CatalogError]] = []
    for row in mappings:
        others = {k: n - (k in row) for k, n in counts.items()}
        lacking = [k for k, n in others.items() if k not in row and n == len(mappings) - 1]
        extra = [str(k) for k in row if others[str(k)] == 0]
        error = _row_error(table, row, path, extra, lacking, [k for k, n in others.items() if n])
        found += [error] if error else []
    if found:  # of two rows that differ, the one calling a key column a misspelling is right
        raise next((e for column, e in found if column not in KEY_COLUMNS), found[0][1])


def _row_error(
    table: str,
    row: dict[str, Any],
    path: Path,
    extra: list[str],
    lacking: list[str],
    known: list[str],
) -> tuple[str | None, CatalogError] | None:
    """The column one row of :func:`check_columns` misspells (None: it lacks a key column)
    and the error saying so; None when the row is fine."""
    misspelt = next((c for c in extra if did_you_mean(c, lacking or known)), None)
    if misspelt is None and lacking and extra:
        misspelt = extra[0]
    if misspelt is None and not any(k in KEY_COLUMNS for k in lacking):
        return None
    said = [f"column {misspelt!r}, which no other row of the table has"] if misspelt else []
    said += [f"no {', '.join(map(repr, lacking))}, which every other row has"] if lacking else []
    guess = did_you_mean(misspelt, lacking or known) if misspelt else ""
    return misspelt, CatalogError(
        f"table {table!r}: a row with {' and '.join(said)}",
        path=str(path),
        line=line_of(row, misspelt),
        hint=f"{guess}name the columns as the table's other rows do ({', '.join(known)}); "
        "fn:in-table(table, value) finds a row by its code column, fn:as-of by since",
    )


@cache
def table_file(table: str, reference_dir: Path | None = None) -> Path | None:
    """The file under ``fixtures/reference/`` that defines ``table`` (None: none does)."""
    folder = reference_dir or fixtures_dir() / "reference"
    for path in sorted(folder.glob("*.yaml")):
        doc = load_yaml(path)
        if isinstance(doc, dict) and isinstance(doc.get(table), list):
            return path
    return None


def tables_document(reference_dir: Path | None = None) -> etree._Element:
    """Every reference table as one ``<tables>`` element."""
    root = etree.Element("tables")
    for name, rows in table_rows(reference_dir).items():
        table = etree.SubElement(root, name)
        for attrs in rows:
            etree.SubElement(table, "row", attrs)
    return root


_PERIOD = re.compile(r"^\s*([0-9]{1,2})/([0-9]{4})\s*$")


def period_number(text: str) -> int | None:
    """``yyyymm`` for an ``MM/yyyy`` period, None for anything else."""
    m = _PERIOD.match(text)
    return None if m is None else int(m[2]) * 100 + int(m[1])


_IN_FORCE_REMEMBERED = 4096
"""(table, column, period) answers :meth:`TableIndex.as_of` keeps before starting afresh."""


class TableIndex:
    """Hash and period indexes over the reference tables, built lazily, shared by threads.

    Rows are immutable after loading; each index is built once (a race builds it twice,
    harmlessly) and then only read.
    """

    def __init__(self, tables: Mapping[str, list[dict[str, str]]]) -> None:
        self._tables = tables
        self._values: dict[tuple[str, str], frozenset[str]] = {}
        self._periods: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self._in_force: dict[tuple[str, str, str], tuple[str | None]] = {}

    def rows(self, table: str) -> list[dict[str, str]]:
        """The rows of ``table``; an unknown table is a catalog bug, never an empty answer.

        A lookup in a table that does not exist would otherwise answer "not found" for every
        value, so every valid dossier would get a misleading business-rule finding.
        """
        rows = self._tables.get(table)
        if rows is None:
            known = ", ".join(sorted(self._tables)) or "none"
            raise CatalogError(
                f"a rule looks up reference table {table!r}, which fixtures/reference/ "
                "does not define",
                hint=f"fix the rule or add the table (known tables: {known}); "
                "`bhxh-harness catalog check` names the rule",
            )
        return rows

    def values(self, table: str, column: str = "code") -> frozenset[str]:
        """Every value of ``column`` in ``table``; :class:`CatalogError` for an unknown table."""
        key = (table, column)
        found = self._values.get(key)
        if found is None:
            found = frozenset(r[column] for r in self.rows(table) if column in r)
            self._values[key] = found
        return found

    def contains(self, table: str, value: str, column: str = "code") -> bool:
        """Whether some row of ``table`` has ``column`` equal to ``value``."""
        return value in self.values(table, column)

    def _dated(self, table: str) -> list[tuple[int, dict[str, str]]]:
        """The rows of ``table`` that have a ``since`` period, oldest first."""
        ordered = self._periods.get(table)
        if ordered is None:
            dated = [(period_number(r.get("since", "")), r) for r in self.rows(table)]
            ordered = sorted(((k, r) for k, r in dated if k is not None), key=lambda kr: kr[0])
            self._periods[table] = ordered
        return ordered

    def as_of(self, table: str, column: str, period: str) -> str | None:
        """``column`` of the last row of ``table`` whose ``since`` period is not after ``period``.

        None when the period is malformed, precedes every row, or the row lacks the column
        (a column may be computed from the dossier, such as ``regions_<MavungLTT>``);
        :class:`CatalogError` for an unknown table. Answers are remembered (a D02-TS asks
        twice per row, for the same TuThang), up to :data:`_IN_FORCE_REMEMBERED`.
        """
        key = (table, column, period)
        remembered = self._in_force.get(key)  # one lookup: another thread may clear()
        if remembered is not None:
            return remembered[0]
        if len(self._in_force) >= _IN_FORCE_REMEMBERED:
            self._in_force.clear()  # bounded whatever periods senders write
        found = self._row_in_force(table, column, period)
        self._in_force[key] = (found,)
        return found

    def _row_in_force(self, table: str, column: str, period: str) -> str | None:
        ordered = self._dated(table)
        wanted = period_number(period)
        if wanted is None:
            return None
        found: str | None = None
        for since, row in ordered:
            if since > wanted:
                break
            found = row.get(column)
        return found

    def check_period(self, table: str, period: str) -> None:
        """Refuse a ``period`` that is no ``MM/yyyy``: the rule passed the wrong element (a
        date, say), a catalog mistake that NaN would hide. A well-formed period before
        every row is the sender's (``TuThang`` 01/1990), so it stays NaN and the rule's own
        code answers it: a sender's data must never make the gateway answer 5xx."""
        if period_number(period) is None:
            raise CatalogError(
                f"fn:as-of({table!r}, ..., {period!r}): the period must be a month as MM/yyyy",
                hint="pass a month (string(TuThang)); for a dd/MM/yyyy date pass "
                "substring(string(X), 4), its MM/yyyy",
            )


def _file_named(table: str) -> str:
    """The reference file defining ``table``, as a hint names it."""
    path = table_file(table)
    return f"fixtures/reference/{path.name}" if path else "fixtures/reference/"


@cache
def table_index() -> TableIndex:
    """The index over ``fixtures/reference`` (one per process)."""
    return TableIndex(table_rows())


_local = threading.local()


def tables_for_xpath(_ctx: object = None) -> list[etree._Element]:
    """``fn:tables()``: the tables wrapped so rules can write ``$tables/tables/<name>/row``.

    Built once per thread (lxml trees must not be shared across threads) and handed to
    XSLT as a node-set, which is several times faster than ``document()`` on each run.
    """
    wrapper = getattr(_local, "wrapper", None)
    if wrapper is None:
        wrapper = etree.Element("doc")
        wrapper.append(tables_document())
        _local.wrapper = wrapper
    return [wrapper]
