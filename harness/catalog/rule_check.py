"""Checks of Schematron rule files that compiling them with lxml does not make.

lxml compiles a rule that calls an unknown ``fn:*`` function, looks up a reference table
that does not exist or reports an undeclared error code; each then fails (or misjudges
every dossier) only when a dossier is checked. Catalog loading runs these checks instead,
naming the file, line and assert id of each problem. It also refuses what lxml would
fail on with a traceback (an XSLT 2 query binding) or accept wrongly (an assert without a
role, a message saved decomposed). Locating why lxml refuses a file (:mod:`.rule_syntax`,
:mod:`.rule_references`) and the scope of ``sch:let`` variables (:mod:`.rule_lets`) are
their own modules.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from itertools import chain
from pathlib import Path

from lxml import etree

from harness import error_codes
from harness.catalog import xpath_core, xpath_functions
from harness.catalog.rule_elements import ElementScope, unknown_elements
from harness.catalog.rule_lets import in_scope
from harness.catalog.rule_problem import SCH_NS, XPATH_ATTRIBUTES, Problem, where_of
from harness.catalog.rule_references import unknown_references
from harness.catalog.rule_roles import RESULT_FAMILIES, SCHEMATRON_FAMILIES
from harness.catalog.tables import table_rows
from harness.catalog.xpath_scan import (
    Call,
    Prefixed,
    function_calls,
    literal,
    prefixed_names,
    table_paths,
    unprefixed_calls,
    variables,
)
from harness.errors import CatalogError
from harness.suggestions import did_you_mean

_QUERY_BINDINGS = ("xslt", "xpath")
"""What lxml's ISO Schematron (an XSLT 1.0 skeleton) runs; no binding means ``xslt``."""
_CODE = re.compile(r"[A-Z]+-[0-9]{3}")
_LOOSE_CODE = re.compile(r"([A-Za-z]+)[-_ .]*([0-9]{1,3})")
BUILT_IN_PREFIXES = frozenset({"xml"})
"""Prefixes XPath knows without an ``sch:ns`` (``@xml:lang``)."""


def _unbound_message(name: Prefixed) -> str:
    what = f"{name.prefix}:{name.local}()" if name.call else f"{name.prefix}:{name.local}"
    return (
        f"namespace prefix {name.prefix!r} (in {what}) is not declared by any <sch:ns>, "
        "so the rule would fail when a dossier reaches it"
    )


class _FileChecker:
    """Walks one rule file's XPath attributes and collects its problems."""

    def __init__(
        self,
        path: Path,
        tables: Mapping[str, list[dict[str, str]]],
        codes: Iterable[str],
        scope: ElementScope | None = None,
        families: tuple[str, ...] = SCHEMATRON_FAMILIES,
    ) -> None:
        self.path = path
        self.tables = tables
        self.scope = scope
        self.families = families
        self.codes = frozenset(codes)
        self.problems: list[Problem] = []
        self.prefixes: dict[str, str] = {}
        self.lets: dict[str, int | None] = {}  # every let of the file -> its line

    def add(self, node: etree._Element, message: str, hint: str) -> None:
        self.problems.append(Problem(self.path, node.sourceline, where_of(node), message, hint))

    def run(self) -> list[Problem]:
        try:
            parser = etree.XMLParser(resolve_entities=False, no_network=True)
            root = etree.parse(str(self.path), parser).getroot()
        except etree.XMLSyntaxError:
            return []  # compiling the rules reports it, with its line
        if not self.binding(root):
            return self.problems
        self.problems.extend(unknown_references(self.path, root))
        self.prefixes = {
            ns.get("prefix", ""): ns.get("uri", "") for ns in root.iter(f"{{{SCH_NS}}}ns")
        }
        ours = {p for p, uri in self.prefixes.items() if uri == xpath_functions.NAMESPACE}
        for let in root.iter(f"{{{SCH_NS}}}let"):
            self.lets.setdefault(let.get("name", ""), let.sourceline)
        for node in root.iter(f"{{{SCH_NS}}}*"):
            local = etree.QName(node).localname
            if local in ("assert", "report"):
                self.role(node)
            if local in ("assert", "report", "diagnostic"):
                self.composed(node)
            for attribute in XPATH_ATTRIBUTES:
                expression = node.get(attribute)
                if expression is None:
                    continue
                for call in function_calls(expression):
                    if call.prefix in ours:
                        self.call(node, call)
                for call in unprefixed_calls(expression):
                    if call.name not in xpath_core.NOT_CALLS:
                        self.core_call(node, call)
                for table in table_paths(expression):
                    self.table(node, table, "$tables/tables/")
                self.variables(node, expression)
                self.names(node, expression)
                if self.scope is not None:
                    for message, hint in unknown_elements(attribute, expression, self.scope):
                        self.add(node, message, hint)
        return self.problems

    def variables(self, node: etree._Element, expression: str) -> None:
        """Each ``$name`` must be a let in scope: lxml compiles an undeclared one and the
        rule fails with "Undefined variable" only when a dossier reaches it."""
        scope = in_scope(node, self.lets)
        for name in variables(expression):
            if name in scope:
                continue
            elsewhere = (
                f"${name} is declared on line {self.lets[name]}, where this expression cannot "
                "see it (a rule's lets count from where they stand, a pattern's only in it); "
                if name in self.lets
                else ""
            )
            self.add(
                node,
                f"${name} is not a declared variable here, so the rule would fail with "
                '"Undefined variable" when a dossier reaches it',
                f"{did_you_mean(name, scope)}{elsewhere}declare it with "
                f'<sch:let name="{name}" value="..."/> in the rule, its pattern or the schema',
            )

    def names(self, node: etree._Element, expression: str) -> None:
        """Each prefix must be bound by an ``sch:ns``: an unbound one fails only at run time."""
        reported: set[str] = set()
        for name in prefixed_names(expression):
            if name.prefix in self.prefixes or name.prefix in BUILT_IN_PREFIXES:
                continue
            if name.prefix not in reported:
                reported.add(name.prefix)
                self.add(node, _unbound_message(name), self._prefix_hint(name))

    def _prefix_hint(self, name: Prefixed) -> str:
        declare = f'declare the prefix with <sch:ns prefix="{name.prefix}" uri="..."/>'
        if not (name.call and name.local in xpath_functions.ARITY):
            return f"{did_you_mean(name.prefix, self.prefixes)}{declare}"
        ours = sorted(p for p, u in self.prefixes.items() if u == xpath_functions.NAMESPACE)
        if ours:
            return f"did you mean {ours[0]}:{name.local}()? (the harness's function) or {declare}"
        return (
            f"{name.local}() is the harness's function: declare "
            f'<sch:ns prefix="fn" uri="{xpath_functions.NAMESPACE}"/> and call '
            f"fn:{name.local}(), or {declare}"
        )

    def binding(self, root: etree._Element) -> bool:
        """Whether lxml can run the file: an XSLT 2 binding fails at the first dossier."""
        binding = root.get("queryBinding")
        if binding is None or binding in _QUERY_BINDINGS:
            return True
        self.problems.append(
            Problem(
                self.path,
                root.sourceline,
                f"<{etree.QName(root).localname}>",
                f"queryBinding {binding!r} is not supported: only XSLT 1.0 / XPath 1.0 rules are",
                'set queryBinding="xslt" and write the tests in XPath 1.0',
            )
        )
        return False

    def role(self, node: etree._Element) -> None:
        """The assert's error code: present, well-formed, of a Schematron family, declared."""
        code = node.get("role")
        families = " or ".join(f"{f}*" for f in self.families)
        if not code:
            self.add(
                node,
                "has no role, so its failure would be reported as the generic RULE-001",
                'give each assert a role naming its error code, e.g. role="RULE-112"',
            )
        elif not _CODE.fullmatch(code):
            loose = _LOOSE_CODE.fullmatch(code.strip())
            nearest = f"{loose[1].upper()}-{int(loose[2]):03d}" if loose else None
            self.add(
                node,
                f"role {code!r} is not an error code (FAMILY-NNN, e.g. RULE-112)",
                self._nearest_hint(nearest) if nearest else f"name a {families} code",
            )
        elif not code.startswith(self.families):
            self.add(
                node,
                f"role {code!r} is a code of another stage: rules raise {families} codes",
                did_you_mean(code, self._ours())
                + f"use a {families} code fixtures/error_codes.yaml declares, or declare a new "
                "one there",
            )
        elif code not in self.codes:
            self.add(
                node,
                f"role {code!r} is not a declared error code",
                "use a code fixtures/error_codes.yaml declares, or declare it there, e.g. "
                f'{code}: {{http: 400, vi: "...", en: "..."}}',
            )

    def _nearest_hint(self, nearest: str) -> str:
        if nearest in self.codes:
            return f"did you mean {nearest!r}?"
        return f"did you mean {nearest!r}? (not declared yet: add it to fixtures/error_codes.yaml)"

    def _ours(self) -> list[str]:
        return sorted(c for c in self.codes if c.startswith(self.families))

    def composed(self, node: etree._Element) -> None:
        """A message saved decomposed (NFD) would reach senders so: the gateway answers NFC."""
        text = "".join(node.itertext())
        if not unicodedata.is_normalized("NFC", text):
            self.add(
                node,
                "message text is decomposed Unicode (NFD), not NFC",
                "save the file as NFC (composed Vietnamese), as catalog.yaml names are read",
            )

    def call(self, node: etree._Element, call: Call) -> None:
        name = f"{call.prefix}:{call.name}"
        arity = xpath_functions.ARITY.get(call.name)
        if arity is None:
            known = ", ".join(f"fn:{n}" for n in sorted(xpath_functions.ARITY))
            self.add(
                node,
                f"unknown extension function {name}()",
                f"{did_you_mean(call.name, xpath_functions.ARITY)}the functions rules may call are "
                f"{known} (harness/catalog/xpath_functions.py)",
            )
            return
        fewest, most = arity
        if not fewest <= len(call.args) <= most:
            wanted = str(fewest) if fewest == most else f"{fewest} to {most}"
            self.add(
                node,
                f"{name}() takes {wanted} argument(s), given {len(call.args)}",
                "see the function's docstring in harness/catalog/xpath_functions.py",
            )
            return
        if call.name == "in-table":
            table = literal(call.args[0])
            column = literal(call.args[2]) if len(call.args) > 2 else "code"
            if table is not None and self.table(node, table, f"{name}()") and column:
                self.column(node, table, column, name)
        elif call.name == "as-of":
            table, column = literal(call.args[0]), literal(call.args[1])
            if table is not None and self.table(node, table, f"{name}()"):
                self.column(node, table, "since", name)
                if column is not None:
                    self.column(node, table, column, name)

    def core_call(self, node: etree._Element, call: Call) -> None:
        """An unprefixed call must be XPath's or XSLT's, with as many arguments as it takes:
        lxml compiles any other, and the rule fails only when a dossier reaches it."""
        arity = xpath_core.ARITY.get(call.name)
        if arity is None:
            self.add(
                node,
                f"{call.name}() is not an XPath 1.0 or XSLT 1.0 function, so the rule would "
                'fail with "Unregistered function" when a dossier reaches it',
                self._unknown_function_hint(call.name),
            )
        elif not arity[0] <= len(call.args) <= arity[1]:
            self.add(
                node,
                f"{call.name}() takes {xpath_core.arity_text(*arity)} argument(s), given "
                f'{len(call.args)}, so the rule would fail with "Invalid number of arguments" '
                "when a dossier reaches it",
                "see XPath 1.0, section 4 (https://www.w3.org/TR/xpath-10/#corelib)",
            )

    def _unknown_function_hint(self, name: str) -> str:
        if name in xpath_functions.ARITY:  # the harness's own, called without its prefix
            ours = sorted(p for p, u in self.prefixes.items() if u == xpath_functions.NAMESPACE)
            prefix = ours[0] if ours else "fn"
            declare = (
                ""
                if ours
                else f'declare <sch:ns prefix="fn" uri="{xpath_functions.NAMESPACE}"/> and '
            )
            return f"{name}() is the harness's function: {declare}call {prefix}:{name}()"
        return (
            f"{did_you_mean(name, xpath_core.ARITY)}rules may call XPath 1.0's functions, "
            "XSLT 1.0's and the harness's (prefixed, harness/catalog/xpath_functions.py)"
        )

    def table(self, node: etree._Element, table: str, how: str) -> bool:
        if table in self.tables:
            return True
        self.add(
            node,
            f"{how} names reference table {table!r}, which fixtures/reference/ does not define",
            f"{did_you_mean(table, self.tables)}known tables: {', '.join(sorted(self.tables))}",
        )
        return False

    def column(self, node: etree._Element, table: str, column: str, how: str) -> None:
        columns = {c for row in self.tables[table] for c in row}
        if column not in columns:
            self.add(
                node,
                f"{how}() names column {column!r}, which no row of table {table!r} has",
                did_you_mean(column, columns)
                + f"columns of {table!r}: {', '.join(sorted(columns))}",
            )


def rule_problems(
    paths: Iterable[Path],
    scopes: Mapping[Path, ElementScope] | None = None,
    families: tuple[str, ...] = SCHEMATRON_FAMILIES,
) -> list[Problem]:
    """Every problem of the rule files ``paths`` (each file checked once); ``scopes``: the
    element names each file may read (not checked for a file without one); ``families``:
    the codes their asserts may raise (a result rule's are :data:`RESULT_FAMILIES`)."""
    tables = table_rows()
    codes = error_codes.load()
    problems: list[Problem] = []
    for path in dict.fromkeys(paths):
        scope = (scopes or {}).get(path)
        problems.extend(_FileChecker(path, tables, codes, scope, families).run())
    return problems


def check_rules(
    *groups: Iterable[Path],
    scopes: Mapping[Path, ElementScope] | None = None,
    results: Iterable[Path] = (),
) -> None:
    """Raise :class:`CatalogError` naming every problem of the rule files in ``groups``
    (the intake's) and ``results`` (result rules, which raise RES-* codes)."""
    problems = rule_problems(chain.from_iterable(groups), scopes)
    problems += rule_problems(results, scopes, RESULT_FAMILIES)
    if not problems:
        return
    first, rest = problems[0], problems[1:]
    message = f"{first.where}: {first.message}"
    if rest:
        # a hint the closing ``Hint:`` line gives already is not repeated under each one
        others = "\n".join(
            f"  {p}" + (f"\n    hint: {p.hint}" if p.hint != first.hint else "") for p in rest
        )
        message += f"\n{len(rest)} more problem(s) in rule files:\n{others}"
    raise CatalogError(message, path=str(first.path), line=first.line, hint=first.hint)
