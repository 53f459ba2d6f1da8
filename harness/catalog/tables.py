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
from harness.yamlfile import load_yaml


def _flatten(prefix: str, value: Any, into: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}_{key}" if prefix else str(key), inner, into)
    elif value is not None:
        into[prefix] = str(value)


@cache
def table_rows(reference_dir: Path | None = None) -> dict[str, list[dict[str, str]]]:
    """Every reference table as flattened rows, keyed by table name (cached; read only)."""
    tables: dict[str, list[dict[str, str]]] = {}
    folder = reference_dir or fixtures_dir() / "reference"
    for path in sorted(folder.glob("*.yaml")):
        doc = load_yaml(path) or {}
        for name, rows in doc.items():
            if not isinstance(rows, list):
                continue
            flattened = tables.setdefault(str(name), [])
            for row in rows:
                attrs: dict[str, str] = {}
                _flatten("" if isinstance(row, dict) else "value", row, attrs)
                flattened.append(attrs)
    return tables


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


class TableIndex:
    """Hash and period indexes over the reference tables, built lazily, shared by threads.

    Rows are immutable after loading; each index is built once (a race builds it twice,
    harmlessly) and then only read.
    """

    def __init__(self, tables: Mapping[str, list[dict[str, str]]]) -> None:
        self._tables = tables
        self._values: dict[tuple[str, str], frozenset[str]] = {}
        self._periods: dict[str, list[tuple[int, dict[str, str]]]] = {}

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

    def as_of(self, table: str, column: str, period: str) -> str | None:
        """``column`` of the last row of ``table`` whose ``since`` period is not after ``period``.

        None when the period is malformed, precedes every row, or the row lacks the column
        (a column may be computed from the dossier, such as ``regions_<MavungLTT>``);
        :class:`CatalogError` for an unknown table.
        """
        ordered = self._periods.get(table)
        if ordered is None:
            dated = [(period_number(r.get("since", "")), r) for r in self.rows(table)]
            ordered = sorted(((k, r) for k, r in dated if k is not None), key=lambda kr: kr[0])
            self._periods[table] = ordered
        wanted = period_number(period)
        if wanted is None:
            return None
        found: str | None = None
        for since, row in ordered:
            if since > wanted:
                break
            found = row.get(column)
        return found


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
