"""Envelope elements ``Hoso.xsd`` declares that :func:`harness.envelope.build_envelope`
does not write, filled from ``fields.yaml`` like a form's and put where the XSD orders
them: a required element a new catalog version adds to the envelope is then data."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from harness.dossiers.form_model import ElementSpec


def fill_declared(
    node: etree._Element, spec: ElementSpec, value: Callable[[ElementSpec], str]
) -> None:
    """Add to ``node`` (as built, matching ``spec``) each required element ``spec``
    declares that it lacks, at the XSD's position, its text from ``value``; an envelope
    the builder wrote completely is left as it is, drawing nothing."""
    children = spec.children or ()
    for index, child in enumerate(children):
        present = [n for n in node if n.tag == child.name]
        if present:
            for found in present if child.is_complex else ():
                fill_declared(found, child, value)
            continue
        if child.min_occurs == 0:
            continue
        added = etree.Element(child.name)
        if child.is_complex:
            fill_declared(added, child, value)
        else:
            added.text = value(child)
        before = {c.name for c in children[:index]}
        at = max((i + 1 for i, n in enumerate(node) if n.tag in before), default=0)
        node.insert(at, added)


__all__ = ["fill_declared"]
