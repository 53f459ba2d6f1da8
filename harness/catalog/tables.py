"""Reference tables (wages, places, code sets) as one XML document for Schematron rules.

The tables are YAML under ``fixtures/reference/``; rules read them as ``$tables``, bound
to the extension function ``fn:tables()``. The mapping is generic: each top-level list becomes
``<tables><name><row attr=.../></name></tables>``, nested mappings flatten to
``parent_child`` attributes (``regions: {1: ...}`` becomes ``regions_1``).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from lxml import etree

from harness.catalog._yaml import load_yaml
from harness.paths import fixtures_dir


def _flatten(prefix: str, value: Any, into: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}_{key}" if prefix else str(key), inner, into)
    elif value is not None:
        into[prefix] = str(value)


def tables_document(reference_dir: Path | None = None) -> etree._Element:
    """Every reference table as one ``<tables>`` element."""
    root = etree.Element("tables")
    folder = reference_dir or fixtures_dir() / "reference"
    for path in sorted(folder.glob("*.yaml")):
        doc = load_yaml(path) or {}
        for name, rows in doc.items():
            if not isinstance(rows, list):
                continue
            table = etree.SubElement(root, str(name))
            for row in rows:
                attrs: dict[str, str] = {}
                _flatten("" if isinstance(row, dict) else "value", row, attrs)
                etree.SubElement(table, "row", attrs)
    return root


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
