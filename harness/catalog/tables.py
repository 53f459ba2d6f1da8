"""Reference tables (wages, places, code sets) as one XML document for Schematron rules.

The tables are YAML under ``fixtures/reference/``; rules read them as ``$tables`` through
XSLT ``document()``. The mapping is generic: each top-level list becomes
``<tables><name><row attr=.../></name></tables>``, nested mappings flatten to
``parent_child`` attributes (``regions: {1: ...}`` becomes ``regions_1``).
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from harness.catalog._yaml import load_yaml
from harness.paths import cache_dir, fixtures_dir


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


@cache
def tables_uri(reference_dir: Path | None = None) -> str:
    """A ``file://`` URI of the tables document, written once per content to the cache."""
    data = etree.tostring(tables_document(reference_dir), encoding="UTF-8", xml_declaration=True)
    digest = hashlib.sha256(data).hexdigest()[:16]
    target = cache_dir() / "tables" / f"tables-{digest}.xml"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return target.resolve().as_uri()
