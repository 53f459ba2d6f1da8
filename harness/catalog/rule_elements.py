"""Element names a rule file's XPath reads that no schema of its forms declares.

A misspelt element name compiles and runs: ``string(MaSoBHXHGop) != string(MasoBHXH)``
compares an empty string and the rule never fires, a context ``NguoiGopp`` matches
nothing and the rule never applies. Catalog loading refuses such names, with the rule
file's line and the nearest declared name.

A context is a union of alternatives; one shared by forms may list elements of other
forms or versions (``LaoDong | NguoiKhai | NguoiHuong``), so an alternative naming
elements its forms lack is refused only when it looks misspelt (no XSD of the catalog
version declares it, and it is close to a name one does), and the context only when
none of its alternatives names elements of its own forms.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from harness.catalog.xpath_scan import alternatives, element_names
from harness.catalog.xsd_names import declared_elements, read_elements
from harness.suggestions import did_you_mean

_TABLE_NAMES = frozenset({"tables", "row"})
"""The elements of ``$tables`` besides each table's name (``$tables/tables/<name>/row``)."""
_MISSPELT = 0.85
"""How close (difflib's ratio) an undeclared context alternative must be to a declared
name to be taken for a misspelling of it: ``NguoiGopp`` for ``NguoiGop``."""
_WHAT_FOLLOWS = {
    "context": "the rule never applies",
    "test": "the assert does not test what it means to (it always passes or always fails)",
    "value": "the variable is always empty",
    "select": "the message always shows it empty",
    "path": "the message always shows it empty",
    "subject": "its findings point at the rule's context instead",
}


@dataclass(frozen=True)
class ElementScope:
    """What a rule file may name: its forms' schemas (``xsds``) and the reference tables
    (``tables``); ``catalog``: every schema of the catalog version, read for a context
    alternative its forms lack."""

    xsds: tuple[Path, ...]
    tables: frozenset[str]
    catalog: tuple[Path, ...]

    @cached_property
    def _read(self) -> tuple[frozenset[str], bool]:
        return read_elements(self.xsds)

    @cached_property
    def declared(self) -> frozenset[str]:
        return self._read[0] | _TABLE_NAMES | self.tables

    @property
    def readable(self) -> bool:
        """Whether every XSD could be read (compiling an unreadable one says what to fix)."""
        return self._read[1]

    @cached_property
    def in_catalog(self) -> frozenset[str]:
        return declared_elements(self.catalog)

    @property
    def forms(self) -> str:
        return ", ".join(dict.fromkeys(p.name for p in self.xsds))


def scopes(users: Iterable[tuple[Path, Path]], tables: Iterable[str]) -> dict[Path, ElementScope]:
    """Each rule file's scope, from ``(rule file, xsd of a form using it)`` pairs (the
    envelope's XSD for its rules): every pair of one catalog version."""
    pairs = list(users)
    catalog = tuple(dict.fromkeys(xsd for _rules, xsd in pairs))
    xsds: dict[Path, list[Path]] = {}
    for rules, xsd in pairs:
        xsds.setdefault(rules, []).append(xsd)
    names = frozenset(tables)
    return {path: ElementScope(tuple(x), names, catalog) for path, x in xsds.items()}


def unknown_elements(attribute: str, expression: str, scope: ElementScope) -> list[tuple[str, str]]:
    """(message, hint) for each element name of ``expression`` (the value of ``attribute``)
    that the scope does not declare."""
    if not scope.readable:
        return []
    if attribute != "context":
        return [_said(attribute, n, scope) for n in element_names(expression) if _unknown(n, scope)]
    dead = [[n for n in element_names(a) if _unknown(n, scope)] for a in alternatives(expression)]
    live = any(not unknown for unknown in dead)
    misspelt = [n for unknown in dead for n in unknown if _misspelt(n, scope)]
    problems = [_said(attribute, n, scope, live=live) for n in misspelt]
    if not problems and not live:
        problems.append(_said(attribute, dead[0][0], scope))
    return problems


def _misspelt(name: str, scope: ElementScope) -> bool:
    """An undeclared name close to one the catalog version declares (not one of another
    form's elements, which a shared context may list)."""
    known = scope.in_catalog
    return name not in known and bool(difflib.get_close_matches(name, known, 1, _MISSPELT))


def _unknown(name: str, scope: ElementScope) -> bool:
    return name not in scope.declared


def _said(attribute: str, name: str, scope: ElementScope, *, live: bool = False) -> tuple[str, str]:
    """The message and hint for element ``name`` read by ``attribute``; ``live``: another
    alternative of its context matches, so only this one never does."""
    follows = "that alternative never matches" if live else _WHAT_FOLLOWS[attribute]
    said = f"no XSD of the forms using this file declares ({scope.forms}): {follows}"
    ours = sorted(scope.declared - scope.tables - _TABLE_NAMES)
    guess = did_you_mean(name, ours) or did_you_mean(name, scope.in_catalog, cutoff=_MISSPELT)
    hint = f"{guess}element names are case-sensitive: name an element {scope.forms} declares"
    return f"{attribute} names element {name!r}, which {said}", hint


__all__ = ["ElementScope", "scopes", "unknown_elements"]
