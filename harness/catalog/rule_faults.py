"""Which rule of which ``.sch`` file failed when run, for a rule set that compiled.

An XPath naming an undeclared ``$variable`` or an unbound prefix compiles, and libxslt
refuses it only when the rule runs, saying what but not where (its error log points
into the generated XSLT). Catalog data is at fault, not the dossier, so the error is a
:class:`CatalogError` naming the file, line and assert. Finding them means re-running
smaller copies of the rules on the same document: slow, but only once a run failed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from copy import deepcopy
from pathlib import Path

from lxml import etree

from harness.errors import CatalogError, UsageError

SCH_NS = "http://purl.oclc.org/dsdl/schematron"
_RULE = f"{{{SCH_NS}}}rule"
_LET = f"{{{SCH_NS}}}let"
_CHECKS = (f"{{{SCH_NS}}}assert", f"{{{SCH_NS}}}report")

Runs = Callable[[etree._ElementTree], bool]
"""Compiles a rule file (or a reduced copy) and runs it on the failed document: True when
that run fails too."""


def reason(exc: Exception) -> str:
    """What libxslt said, without its "runtime error, element 'choose'" lines (they name
    the generated XSLT, not the rule file); or what a harness function (``fn:as-of`` of a
    table that does not exist) raised."""
    if not isinstance(exc, etree.XSLTApplyError):
        return _without_hint(exc).strip().rstrip(".")
    said: list[str] = []
    for entry in exc.error_log:
        message = (entry.message or "").strip().rstrip(".")
        if message and not message.startswith("runtime error") and message not in said:
            said.append(message)
    return "; ".join(said) or str(exc)


def _without_hint(exc: Exception) -> str:
    """``exc``'s message without the ``Hint:`` line a :class:`UsageError` appends: the
    error built from it gives that hint once, on its own line."""
    if isinstance(exc, UsageError):
        return exc.problem
    return str(exc.args[0] if exc.args else exc)


def _hint(why: str) -> str:
    """What to change, for the usual causes."""
    if "prefix" in why:
        return (
            "call the harness's functions as fn:name(...) (or bind another prefix with "
            "sch:ns), then run `bhxh-harness catalog check`"
        )
    if "variable" in why.lower():
        return (
            "declare each $name with an sch:let of the rule (or of its pattern) before "
            "using it, or correct its spelling, then run `bhxh-harness catalog check`"
        )
    return "correct the XPath there, then run `bhxh-harness catalog check`"


def rules_fault(
    sources: Sequence[Path], exc: Exception, runs: Runs, *, messages: bool = False
) -> CatalogError:
    """The :class:`CatalogError` for rules compiled from ``sources`` that failed with ``exc``.

    ``messages``: every assert was made to fail, so its message and diagnostics ran.
    """
    why = reason(exc)
    hint = getattr(exc, "hint", None) or _hint(why)
    for path in sources:
        tree = etree.parse(str(path))
        if runs(tree):
            where, line, check = _in_file(tree, runs, why)
            if messages and check:
                where += " (its message or the diagnostic it names)"
            return CatalogError(
                f"{where} fails when run: {why}", path=str(path), line=line, hint=hint
            )
    files = ", ".join(str(p) for p in sources)
    return CatalogError(f"the rules of {files} fail when run: {why}", hint=hint)


_FAILED_LET = re.compile(r"expression of variable '([^']+)'")
"""How libxslt names a variable it could not evaluate (lets run lazily, when first used)."""


def _in_file(tree: etree._ElementTree, runs: Runs, why: str) -> tuple[str, int | None, bool]:
    """The failing rule, and within it the let or the assert (True) at fault, with its line."""
    for index, rule in enumerate(tree.iter(_RULE)):
        if not runs(_reduced(tree, index)):
            continue
        context = f"rule context {rule.get('context', '')!r}"
        parent = rule.getparent()
        lets = rule.findall(_LET) + (parent.findall(_LET) if parent is not None else [])
        for name in _FAILED_LET.findall(why):
            let = next((let for let in lets if let.get("name") == name), None)
            if let is not None:
                return f"{context}: let ${name}", let.sourceline, False
        checks = [c for c in rule if c.tag in _CHECKS]
        for position, check in enumerate(checks):
            if runs(_reduced(tree, index, checks=(position,))):
                kind = etree.QName(check).localname
                name = check.get("id") or f"test {check.get('test', '')!r}"
                return f"{context}: {kind} {name!r}", check.sourceline, True
        return context, rule.sourceline, False
    return "a pattern", None, False


def _reduced(
    tree: etree._ElementTree, rule_index: int, *, checks: Sequence[int] | None = None
) -> etree._ElementTree:
    """A copy of ``tree`` keeping one rule, and of it only ``checks`` (positions among its
    asserts and reports; all when None)."""
    copy = deepcopy(tree)
    rules = list(copy.iter(_RULE))
    for index, rule in enumerate(rules):
        parent = rule.getparent()
        if index != rule_index and parent is not None:
            parent.remove(rule)
    if checks is not None:
        kept = rules[rule_index]
        for position, check in enumerate([c for c in kept if c.tag in _CHECKS]):
            if position not in checks:
                kept.remove(check)
    return copy


def every_assert_failing(tree: etree._ElementTree) -> etree._ElementTree:
    """A copy of ``tree`` whose every assert fails and every report fires, so running it
    evaluates each message and diagnostic (a valid dossier evaluates none of them)."""
    copy = deepcopy(tree)
    for check in copy.iter(*_CHECKS):
        check.set("test", "false()" if check.tag == _CHECKS[0] else "true()")
    return copy


__all__ = ["Runs", "every_assert_failing", "reason", "rules_fault"]
