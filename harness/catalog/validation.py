"""Compiled XSD + Schematron validators for the envelope and every form version.

Validation is the gateway's hot path, so schemas compile once per catalog version and
are reused; lxml does the work (xmlschema stays a diagnostics-only tool).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass, replace
from functools import cache, partial
from pathlib import Path

from lxml import etree, isoschematron

from harness.catalog import xpath_functions
from harness.catalog.model import Catalog
from harness.catalog.rule_faults import every_assert_failing, reason, rules_fault
from harness.catalog.rule_references import unknown_references
from harness.catalog.rule_roles import DEFAULT_ROLE
from harness.catalog.rule_syntax import xpath_syntax_error
from harness.catalog.xsd_findings import composed, xsd_findings
from harness.catalog.xsd_source import parse_xsd
from harness.error_codes import describe
from harness.errors import CatalogError, Finding

SCH_NS = "http://purl.oclc.org/dsdl/schematron"
SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
_SVRL = {"svrl": SVRL_NS}
_FAILED_ASSERT = f"{{{SVRL_NS}}}failed-assert"
_SVRL_OPTIONS = {"generate-fired-rule": "false"}
"""Only failed asserts are read from a report; a fired-rule entry per matched node cost
about 8% of a 200-row form's rule run."""
_KEYED_OPTIONS = {**_SVRL_OPTIONS, "select-contexts": "key"}
"""The ISO skeleton's option to select each pattern's contexts with ``xsl:key`` instead
of walking the whole document once per pattern."""
_XSL_NS = "http://www.w3.org/1999/XSL/Transform"


class CompiledRules:
    """One Schematron compiled to a bare XSLT transform; ``findings(doc)`` runs it.

    Two changes to what :class:`lxml.isoschematron.Schematron` would run. Measured: the
    rules of the gateway benchmark's 8 KB dossier (envelope and form) went from 0.19 to
    0.125 ms, those of a 200 KB form from 9.7 to 4.8 ms.

    * contexts are selected with keys (:data:`_KEYED_OPTIONS`); a file whose contexts
      cannot be key patterns (XSLT 1.0 forbids ``key()`` there) is compiled to the walk;
    * the skeleton's ``<xsl:apply-templates/>`` inside each ``svrl:active-pattern`` is
      removed: a second walk per pattern, in the default mode, whose only template strips
      text, so it writes nothing into the report.
    """

    def __init__(
        self, doc: etree._ElementTree, sources: Sequence[Path] = (), *, messages: bool = False
    ) -> None:
        self._transform = _transform(doc)
        self._subjects = _subjects(doc)
        self.sources = tuple(sources)
        self.messages = messages
        self._faults: dict[str, CatalogError] = {}  # located once per libxslt message

    def findings(self, doc: etree._Element | etree._ElementTree) -> list[Finding]:
        """The failed assertions of ``doc``, in document order; a :class:`CatalogError`
        naming the rule file and assert when a rule cannot be evaluated."""
        try:
            found = _svrl_findings(self._transform(doc))
        except (etree.XSLTApplyError, CatalogError) as exc:  # the latter: an fn: function
            why = reason(exc)
            if why not in self._faults:  # a gateway meets it again with every such dossier
                runs = partial(_fails_on, doc, messages=self.messages)
                self._faults[why] = rules_fault(self.sources, exc, runs, messages=self.messages)
            raise self._faults[why] from None
        if not self._subjects or not found:
            return found
        return [_on_subject(f, doc, self._subjects.get(f.context["rule"])) for f in found]


def _subjects(doc: etree._ElementTree) -> dict[str, str]:
    """Each assert's or report's ``subject`` (ISO Schematron 2016: the node a failure is
    about, relative to the rule's context), else its rule's, by the assert's ``id``: lxml's
    skeleton ignores the attribute, so :func:`_on_subject` applies it."""
    subjects: dict[str, str] = {}
    for rule in doc.getroot().iter(f"{{{SCH_NS}}}rule"):
        for check in rule.iterchildren(f"{{{SCH_NS}}}assert", f"{{{SCH_NS}}}report"):
            subject, check_id = check.get("subject") or rule.get("subject"), check.get("id")
            if subject and check_id:
                subjects[check_id] = subject
    return subjects


def _on_subject(
    found: Finding, doc: etree._Element | etree._ElementTree, subject: str | None
) -> Finding:
    """``found`` pointing at its assert's ``subject`` (``LaoDong[1]/TienLuong`` rather than
    the row): a sender fixes a field, not a row. Kept at the context when the subject
    selects no element or attribute there."""
    if subject is None:
        return found
    tree = doc.getroottree() if isinstance(doc, etree._Element) else doc
    try:
        context = tree.xpath(found.xpath)
        nodes = context[0].xpath(subject) if isinstance(context, list) and context else []
    except (etree.XPathError, IndexError, AttributeError):
        return found
    node = nodes[0] if isinstance(nodes, list) and nodes else None
    if isinstance(node, etree._Element):
        return replace(found, xpath=tree.getpath(node))
    if isinstance(node, str) and getattr(node, "is_attribute", False):
        owner = node.getparent()  # type: ignore[attr-defined]
        return replace(found, xpath=f"{tree.getpath(owner)}/@{node.attrname}")  # type: ignore[attr-defined]
    return found


def _transform(doc: etree._ElementTree) -> etree.XSLT:
    """The Schematron ``doc`` compiled as :class:`CompiledRules` describes."""
    try:
        compiled = isoschematron.Schematron(doc, store_xslt=True, compile_params=_KEYED_OPTIONS)
    except (etree.SchematronParseError, etree.XSLTParseError):
        compiled = isoschematron.Schematron(doc, store_xslt=True, compile_params=_SVRL_OPTIONS)
    xslt = etree.ElementTree(compiled.validator_xslt.getroot())
    for pattern in xslt.getroot().iter(f"{{{SVRL_NS}}}active-pattern"):
        for walk in pattern.findall(f"{{{_XSL_NS}}}apply-templates"):
            if walk.get("mode") is None and walk.get("select") is None:
                pattern.remove(walk)
    # the fn:* functions go to the transforms alone, not process-wide: lxml registers
    # global ones again on every XPath evaluation anywhere (2 us each: parsing, signature
    # checks); and only those its text names, EXSLT's regexps only if it names their
    # namespace (a superset of what it calls): registering all cost each run 4 us
    text = etree.tostring(xslt, encoding="unicode")
    functions = {k: f for k, f in xpath_functions.EXTENSIONS.items() if k[1] in text}
    regexp = "http://exslt.org/regular-expressions" in text
    return etree.XSLT(xslt, extensions=functions, regexp=regexp)


def _fails_on(
    doc: etree._Element | etree._ElementTree, rules: etree._ElementTree, *, messages: bool
) -> bool:
    """Whether ``rules`` (a rule file or a reduced copy, left as it is) fail when run on
    ``doc``; a copy that no longer compiles does not count."""
    rules = every_assert_failing(rules) if messages else deepcopy(rules)
    _bind_tables(rules.getroot())
    try:
        transform = _transform(rules)
    except (etree.SchematronParseError, etree.XSLTParseError):
        return False
    try:
        transform(doc)
    except (etree.XSLTApplyError, CatalogError):
        return True
    return False


def _compile_xsd(path: Path) -> etree.XMLSchema:
    try:
        doc = parse_xsd(path)  # composed: an NFD enumeration must accept typed (NFC) text
        _refuse_namespace(doc, path)
        return etree.XMLSchema(doc)
    except etree.XMLSyntaxError as exc:
        raise CatalogError(
            f"XSD is not well-formed: {exc.msg}", path=str(path), line=exc.lineno
        ) from exc
    except etree.XMLSchemaParseError as exc:
        entry = exc.error_log.last_error
        line = entry.line if entry is not None else None
        raise CatalogError(f"invalid XSD: {exc}", path=str(path), line=line) from exc


def _refuse_namespace(doc: etree._ElementTree, path: Path) -> None:
    """A schema with a target namespace compiles, then refuses every dossier: BHXH's
    envelopes and forms are in no namespace, and the factory, the rules and the gateway
    all name their elements so."""
    namespace = doc.getroot().get("targetNamespace")
    if namespace is not None:
        raise CatalogError(
            f"the XSD declares targetNamespace={namespace!r}, but BHXH envelopes and forms "
            "have no namespace",
            path=str(path),
            line=doc.getroot().sourceline,
            hint="remove targetNamespace (and an xmlns= bound to the same URI) from xs:schema",
        )


def _parse_rules(path: Path) -> etree._ElementTree:
    try:
        return etree.parse(str(path))
    except etree.XMLSyntaxError as exc:
        raise CatalogError(
            f"rules file is not well-formed: {exc.msg}", path=str(path), line=exc.lineno
        ) from exc


def _bind_tables(root: etree._Element) -> None:
    """Declare ``$tables`` (the reference tables, ``fn:tables()``) after the namespaces."""
    let = etree.Element(f"{{{SCH_NS}}}let", name="tables", value="fn:tables()")
    namespaces = root.findall(f"{{{SCH_NS}}}ns")
    index = root.index(namespaces[-1]) + 1 if namespaces else 0
    root.insert(index, let)


def _schematron(doc: etree._ElementTree, path: Path, messages: bool) -> CompiledRules:
    try:
        return CompiledRules(doc, (path,), messages=messages)
    except (etree.SchematronParseError, etree.XSLTParseError) as exc:
        located = xpath_syntax_error(path, doc.getroot()) or next(
            iter(unknown_references(path, doc.getroot())), None
        )
        if located is not None:
            raise CatalogError(
                f"invalid Schematron: {located.where}: {located.message}",
                path=str(path),
                line=located.line,
                hint=located.hint,
            ) from exc
        grammar = _GRAMMAR_ERROR.search(str(exc))
        if grammar is not None:  # the first error: the others follow from it
            raise CatalogError(
                f"invalid Schematron: {grammar[2]}",
                path=str(path),
                line=int(grammar[1]) or None,  # 0: libxml2 checks references after reading
                hint="ISO Schematron's grammar does not allow this element or attribute here "
                "(e.g. <sch:name/> may stand in an assert's message, not in a diagnostic)",
            ) from exc
        raise CatalogError(f"invalid Schematron: {exc}", path=str(path), line=None) from exc


_GRAMMAR_ERROR = re.compile(r"<string>:(\d+):\d+:ERROR:RELAXNGV:\w+: ([^\n]+)")
"""lxml's grammar check of a Schematron file: the line and message of one error."""


def _compile_schematron(path: Path, messages: bool = False) -> CompiledRules:
    """Compile one rule file with ``$tables`` bound to the reference tables (``fn:tables()``)."""
    doc = _parse_rules(path)
    if messages:
        doc = every_assert_failing(doc)
    _bind_tables(doc.getroot())
    return _schematron(doc, path, messages)


_MERGEABLE = {f"{{{SCH_NS}}}{name}" for name in ("ns", "pattern", "diagnostics")}


def _merged(paths: Sequence[Path]) -> etree._ElementTree | None:
    """One schema holding every pattern of ``paths`` in order, or None if unsafe to merge.

    Each Schematron run is an XSLT transform plus an SVRL report to walk, so one merged
    run per form version costs less than one per file. Patterns are independent in
    Schematron (a node is matched by at most one rule *per pattern*), so concatenating
    the files' patterns fires exactly the asserts the separate runs fired, in the same
    order. Files with anything else at top level (phases, schema-level lets, titles),
    clashing ids or namespace prefixes bound differently are compiled separately.
    """
    roots = [_parse_rules(path).getroot() for path in paths]
    if any(
        child.tag not in _MERGEABLE
        for root in roots
        for child in root
        if isinstance(child.tag, str)
    ):
        return None
    prefixes: dict[str, str] = {}
    ids: set[str] = set()
    merged = etree.Element(
        f"{{{SCH_NS}}}schema", nsmap={"sch": SCH_NS}, attrib=dict(roots[0].attrib)
    )
    patterns: list[etree._Element] = []
    diagnostics = etree.Element(f"{{{SCH_NS}}}diagnostics")
    for root in roots:
        if dict(root.attrib) != dict(roots[0].attrib):
            return None
        for node in root.iter(
            f"{{{SCH_NS}}}pattern",
            f"{{{SCH_NS}}}assert",
            f"{{{SCH_NS}}}report",
            f"{{{SCH_NS}}}diagnostic",
        ):
            node_id = node.get("id")
            if node_id is not None:
                if node_id in ids:
                    return None
                ids.add(node_id)
        for ns in root.iterchildren(f"{{{SCH_NS}}}ns"):
            prefix, uri = ns.get("prefix", ""), ns.get("uri", "")
            if prefixes.setdefault(prefix, uri) != uri:
                return None
        patterns.extend(root.iterchildren(f"{{{SCH_NS}}}pattern"))
        for block in root.iterchildren(f"{{{SCH_NS}}}diagnostics"):
            diagnostics.extend(list(block))
    for prefix, uri in prefixes.items():
        etree.SubElement(merged, f"{{{SCH_NS}}}ns", prefix=prefix, uri=uri)
    merged.extend(patterns)
    if len(diagnostics):
        merged.append(diagnostics)
    return etree.ElementTree(merged)


def _compile_rules(paths: Sequence[Path], messages: bool = False) -> list[CompiledRules]:
    """The compiled rules of one document type: one merged Schematron when possible.

    ``messages``: every assert made to fail (:func:`every_assert_failing`), to run them all.
    """
    if len(paths) > 1:
        for path in paths:  # report a broken file by its own name, as before
            _parse_rules(path)
        doc = _merged(paths)
        if doc is not None:
            if messages:
                doc = every_assert_failing(doc)
            _bind_tables(doc.getroot())
            try:
                return [CompiledRules(doc, paths, messages=messages)]
            except (etree.SchematronParseError, etree.XSLTParseError):
                pass  # fall through: compiling each file names the broken one
    return [_compile_schematron(path, messages) for path in paths]


def _svrl_findings(report: etree._XSLTResultTree) -> list[Finding]:
    """The failed asserts, their texts in NFC: a message quoting a name the sender wrote
    decomposed (RULE-101's) is reported composed, as every other text is."""
    findings = []
    # iterchildren, not iterfind("svrl:failed-assert"): the same children without a
    # Python path lookup on every report, most of them empty (7 us in the gateway)
    for failed in report.getroot().iterchildren(_FAILED_ASSERT):
        vi = _one_line(failed.findtext("svrl:text", "", _SVRL))
        en_node = failed.find("svrl:diagnostic-reference", _SVRL)
        en = _one_line(en_node.text or "") if en_node is not None else vi
        code = failed.get("role") or DEFAULT_ROLE
        findings.append(
            Finding(
                code=code,
                severity=describe(code).severity,
                xpath=failed.get("location", "/"),
                message_vi=vi,
                message_en=en,
                context={"rule": failed.get("id", "")},
            )
        )
    return findings


def _one_line(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(text.split()))


@dataclass
class DocumentValidator:
    """XSD then Schematron for one document type; thread-safe (lxml objects are per-thread).

    ``result_rules`` are not the intake's: :meth:`defects` runs them on a document the
    intake accepted, for BHXH's processing result (03/TB-TS).
    """

    xsd: Path
    rules: Sequence[Path]
    schema_code: str = "XSD-001"
    result_rules: Sequence[Path] = ()

    def __post_init__(self) -> None:
        self._local = threading.local()
        self._compiled()  # fail fast on a broken catalog, in the loading thread

    def _compiled(self) -> tuple[etree.XMLSchema, list[CompiledRules], list[CompiledRules]]:
        compiled = getattr(self._local, "compiled", None)
        if compiled is None:
            rules, results = _compile_rules(self.rules), _compile_rules(self.result_rules)
            compiled = (_compile_xsd(self.xsd), rules, results)
            self._local.compiled = compiled
        return compiled

    def validate(self, doc: etree._Element | etree._ElementTree) -> list[Finding]:
        """Schema findings; business rules run only on schema-valid documents."""
        schema, rules, _results = self._compiled()
        if not schema.validate(doc):
            composed_doc = composed(doc)
            if composed_doc is None or not schema.validate(composed_doc):
                return xsd_findings(schema, self.schema_code, self.xsd)
        findings: list[Finding] = []
        for rule in rules:
            findings.extend(rule.findings(doc))
        return findings

    def run_every_message(self, doc: etree._Element | etree._ElementTree) -> None:
        """Evaluate every assert's message and diagnostic on ``doc`` (each assert made to
        fail): a message whose XPath cannot run would otherwise surface only when a
        sender's dossier breaks that rule. Raises :class:`CatalogError`; compiles anew."""
        for rule in _compile_rules(self.rules, messages=True):
            rule.findings(doc)
        for rule in _compile_rules(self.result_rules, messages=True):
            rule.findings(doc)

    def defects(self, doc: etree._Element | etree._ElementTree) -> list[Finding]:
        """The failed asserts of the result rules on ``doc``, which :meth:`validate`
        accepted: the rows BHXH's processing finds defective (none without such rules)."""
        findings: list[Finding] = []
        for rule in self._compiled()[2]:
            findings.extend(rule.findings(doc))
        return findings


@dataclass
class CatalogValidators:
    """Every validator of one catalog version, keyed by ``(form, version)``."""

    catalog: Catalog
    envelope: DocumentValidator
    forms: dict[tuple[str, str], DocumentValidator]

    def form(self, form: str, version: str) -> DocumentValidator | None:
        return self.forms.get((form, version))


@cache
def validators_for(catalog: Catalog) -> CatalogValidators:
    """Compile (once per process) the validators of a catalog version."""
    envelope = DocumentValidator(catalog.envelope.xsd, catalog.envelope.rules, "ENV-001")
    forms = {
        (form.code, v.version): DocumentValidator(v.xsd, v.rules, result_rules=v.result_rules)
        for form in catalog.forms.values()
        for v in form.versions
    }
    return CatalogValidators(catalog, envelope, forms)
