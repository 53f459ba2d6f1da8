"""Envelope elements ``Hoso.xsd`` declares that :func:`harness.envelope.build_envelope`
does not write, filled from ``fields.yaml`` like a form's and put where the XSD orders
them: a required element a new catalog version adds to the envelope is then data."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from copy import deepcopy

from lxml import etree

from harness.catalog import load_catalog
from harness.dossiers.form_model import ElementSpec, form_model
from harness.errors import FactoryError


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


def added_values(bare: etree._Element, spec: ElementSpec, built: etree._Element) -> dict[str, str]:
    """Element name -> text in ``built`` of each element :func:`fill_declared` would add
    to ``bare`` (the same envelope as the builder writes it): what whoever builds ``bare``
    again (an I-VAN from a job) must add to send what ``built`` holds. Empty when the
    builder writes every element the XSD requires."""
    marker = f"added-{uuid.uuid4().hex}"
    copy = deepcopy(bare)
    fill_declared(copy, spec, lambda _child: marker)
    tree = copy.getroottree()
    added = [node for node in copy.iter() if node.text == marker]
    found: dict[str, str] = {}
    for node in added:
        same = built.getroottree().xpath(tree.getpath(node))
        text = same[0].text if isinstance(same, list) and same else None
        found[str(node.tag)] = str(text or "")
    return found


def fill_from(root: etree._Element, catalog_version: str, values: Mapping[str, str]) -> None:
    """:func:`fill_declared` for catalog ``catalog_version``'s envelope, each added
    element's text taken from ``values`` (by element name, as :func:`added_values` gives
    them); nothing to do, and no catalog read, when ``values`` is empty."""
    if not values:
        return

    def value(child: ElementSpec) -> str:
        if child.name not in values:
            raise FactoryError(
                f"the envelope's XSD requires {child.name} and no value was given for it",
                hint=f"give {child.name} in the job's envelope_fields",
            )
        return values[child.name]

    fill_declared(root, form_model(load_catalog(catalog_version).envelope.xsd), value)


__all__ = ["added_values", "fill_declared", "fill_from"]
