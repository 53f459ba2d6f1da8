"""A finding on one of the factory's valid dossiers as a :class:`Refusal` naming the data
most likely at fault (``fields.yaml``, the XSD, a rule, ``signature_node``) and what to
change; a signature node the XSD does not allow is the gateway's own fault."""

from __future__ import annotations

import re

from harness.catalog import Catalog, FormVersion
from harness.catalog.rule_lookup import assert_at
from harness.dossiers.refusal import Refusal
from harness.dossiers.refusal_report import ROW
from harness.errors import Finding

_STEP = re.compile(r"\[\d+\]$")
_QUOTED = re.compile(r"'[^']*'")
NODE_HINT = "catalog.yaml gives"
"""How the hint of a signature node the XSD does not allow starts (a gateway fault)."""


def finding_refusal(
    catalog: Catalog, procedure: str, found: Finding, seed: int | None = None
) -> Refusal:
    """A finding on a valid dossier of ``procedure`` (built at ``seed``, named when given:
    seed 0 passed), with the data most likely at fault."""
    file_name, _, xpath = found.xpath.rpartition(":")
    version = catalog.form_version(file_name) if file_name else None
    where = f"form {version.form} version {version.version}" if version else "envelope"
    element = _STEP.sub("", xpath.rstrip("/").rsplit("/", 1)[-1]).lstrip("@") or "/"
    rule = rule_named(catalog, version, found.context.get("rule", ""))
    said = f"{found.code}{rule} {found.message_en}"
    dossier = "valid dossier" if seed is None else f"valid dossier of seed {seed}"
    problem = f"the factory's {dossier} is refused: {said} at {xpath}"
    hint = _fix(catalog, found.code, element, version)
    same = f"{found.code}{rule} at {ROW.sub('[*]', xpath)}"
    if not rule:  # a schema's message quotes the value, which differs from row to row
        same += " " + _QUOTED.sub("'…'", found.message_en)
    # a signature_node the XSD does not allow refuses every signed dossier, a real I-VAN's too
    gateway = hint.startswith(NODE_HINT)
    return Refusal(procedure, where, problem, hint, gateway=gateway, same=same)


def rule_named(catalog: Catalog, version: FormVersion | None, assert_id: str) -> str:
    """`` [rule=<id> at <file>:<line>]`` for a finding of a rule's assert, "" for the XSD's."""
    if not assert_id:
        return ""
    paths = version.rules if version else catalog.envelope.rules
    at = assert_at(paths, assert_id)
    return f" [rule={assert_id} at {at}]" if at else f" [rule={assert_id}]"


def _fix(catalog: Catalog, code: str, element: str, version: FormVersion | None) -> str:
    """What to change for a finding of ``code`` at ``element``."""
    schema = (version.xsd if version else catalog.envelope.xsd).name
    form = catalog.forms[version.form] if version else None
    node = form.signature_node if form else catalog.envelope.signature_node
    if code in ("XSD-001", "ENV-001") and element == node.rsplit("/", 1)[-1]:
        owner = f"form {version.form}" if version else "envelope"
        return (
            f"{NODE_HINT} the {owner} signature_node {node!r}, an element {schema} "
            "does not allow there: name the XSD's signature element (e.g. Cky)"
        )
    if code.startswith("SIG-") or element.endswith("Signature"):
        nodes = {f.code: f.signature_node for f in catalog.forms.values()}
        return (
            "check signature_node in catalog.yaml (envelope: "
            f"{catalog.envelope.signature_node!r}, forms: {nodes}) against the XSD's element "
            "names, and the test PKI (bhxh-harness pki init)"
        )
    if version is None and code == "ENV-001":  # the envelope's values are not fields.yaml's
        return (
            f"the envelope builder (build_envelope in harness/envelope.py) writes a fixed "
            f"list of elements: one of them {schema} renames, moves or retypes (here at "
            f"{element}) needs a change there, not data; only an element {schema} adds "
            "takes a source in fields.yaml (fixtures/catalog/README.md, 'Changing the "
            "envelope')"
        )
    if code in ("XSD-001", "ENV-001"):
        return f"fix fields.yaml's source for {element} or its type in {schema}"
    return (
        f"fix the rule raising {code} or fields.yaml's source for {element} "
        f"(a valid dossier must pass {schema}'s rules)"
    )


__all__ = ["NODE_HINT", "finding_refusal", "rule_named"]
