"""The vocabulary of mutations: what one is, what it is applied to, how families offer them.

A :class:`Mutation` breaks exactly one thing in an otherwise valid dossier and names the
codes a conforming gateway may answer. It is applied to a :class:`MutationContext`: the
valid dossier of one :class:`~harness.fuzz.pool.DossierSpec` plus the facts derived from
the catalog. Content is broken *before* signing (exactly what the factory's hooks would
do, see :meth:`MutationContext.edit`), so the only broken thing is the one the mutation
names; signature, encoding and hostile-XML mutations work on the signed bytes, because
that is where those faults live.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from hypothesis import strategies as st
from lxml import etree

from harness.catalog import validators_for
from harness.dossiers.factory import Dossier, Tweaks
from harness.envelope import EmbeddedFile
from harness.fuzz._docs import DocFacts, find_all, local, presence, schema_facts
from harness.fuzz.pool import DossierPool, DossierSpec
from harness.signing import Credential, sign
from harness.xmlsafe import DEFAULT_LIMITS, XMLLimits

DS = "http://www.w3.org/2000/09/xmldsig#"

ENVELOPE = "envelope"
"""The document key of the ``Hoso`` envelope; forms are keyed by their code."""

Draw = Callable[[st.SearchStrategy[Any]], Any]
"""hypothesis's ``draw`` inside a composite strategy."""


@dataclass(frozen=True)
class Mutation:
    """One named fault and the codes it must cause (none: the dossier must be accepted).

    ``name`` reads ``family:what[:where][=value]`` and carries every drawn parameter, so a
    failing example says exactly what was done. ``expected_warnings`` are codes an
    accepted dossier must carry (NFD names answer RULE-101).
    """

    name: str
    expected_codes: frozenset[str]
    apply: Callable[[MutationContext], bytes] = field(repr=False, compare=False)
    expected_warnings: frozenset[str] = frozenset()

    @property
    def family(self) -> str:
        return self.name.split(":", 1)[0]

    @property
    def kind(self) -> str:
        """The name without drawn values and occurrence indexes: what reports count."""
        return re.sub(r"\[\d+\]|@\d+", "", self.name.split("=", 1)[0])

    @property
    def must_accept(self) -> bool:
        return not self.expected_codes

    def __repr__(self) -> str:
        expect = ",".join(sorted(self.expected_codes)) or "accepted"
        return f"Mutation({self.name!r} -> {expect})"


@dataclass(frozen=True)
class MutationSettings:
    """What the mutations assume about the target and how far they go.

    ``limits`` are the target's XML limits (deep nesting must exceed ``max_depth``);
    ``expensive`` adds mutations whose bodies are megabytes (element-count and size
    limits), which are slow to build and parse and so stay out of CI budgets.
    """

    limits: XMLLimits = DEFAULT_LIMITS
    expensive: bool = False


DEFAULT_SETTINGS = MutationSettings()


@dataclass(eq=False)
class MutationContext:
    """A valid dossier and what may be broken in it; built once per spec and reused."""

    pool: DossierPool
    spec: DossierSpec
    settings: MutationSettings = DEFAULT_SETTINGS
    memo: dict[Any, Any] = field(default_factory=dict, repr=False)  # per-context caches

    @cached_property
    def base(self) -> Dossier:
        return self.pool.valid(self.spec)

    @property
    def catalog(self) -> Any:
        return self.pool.catalog

    @cached_property
    def docs(self) -> dict[str, DocFacts]:
        """The envelope and every embedded form, with schema facts and present elements."""
        catalog = self.pool.catalog
        validators = validators_for(catalog)
        envelope = etree.fromstring(self.base.envelope)
        docs = {
            ENVELOPE: DocFacts(
                ENVELOPE,
                catalog.envelope.xsd,
                validators.envelope.schema_code,
                catalog.envelope.signature_node,
                catalog.envelope.rules,
                schema_facts(catalog.envelope.xsd),
                presence(envelope),
            )
        }
        for built in self.base.forms:
            version = built.form
            validator = validators.form(version.form, version.version)
            assert validator is not None
            root = etree.fromstring(built.content)
            docs[version.form] = DocFacts(
                version.form,
                version.xsd,
                validator.schema_code,
                catalog.forms[version.form].signature_node,
                version.rules,
                schema_facts(version.xsd),
                presence(root),
            )
        return docs

    @property
    def forms(self) -> list[DocFacts]:
        return [d for key, d in self.docs.items() if key != ENVELOPE]

    def build(self, tweaks: Tweaks) -> bytes:
        """The spec's dossier rebuilt through the factory's hooks, signed."""
        return self.pool.build(self.spec, tweaks).envelope

    def edit(self, doc: str, change: Callable[[etree._Element], None]) -> bytes:
        """Change ``doc`` (the envelope or a form) before it is signed, then sign as usual.

        Same result as the factory's ``form_hook``/``envelope_hook`` (the unsigned
        document is the signed one without its ds:Signature), without re-running Faker
        and re-signing the forms that did not change: a third of the cost.
        """
        if doc == ENVELOPE:
            root = self.envelope_root()
            _unsign(root, self.catalog.envelope.signature_node)
            change(root)
            return self._sign_envelope(root)
        root = etree.fromstring(self.form_bytes(doc))
        node = self.catalog.forms[doc].signature_node
        _unsign(root, node)
        change(root)
        signed = sign(root, self._credential, signature_parent=node, signing_time=self._signed_at)
        return self._with_form(doc, serialize(signed))

    def edit_signed_form(self, doc: str, change: Callable[[bytes], bytes]) -> bytes:
        """Change a form's signed bytes; the envelope is then built and signed over them."""
        return self._with_form(doc, change(self.form_bytes(doc)))

    def envelope_root(self) -> etree._Element:
        """A fresh, editable parse of the valid signed envelope."""
        return etree.fromstring(self.base.envelope)

    def form_bytes(self, doc: str) -> bytes:
        """The signed bytes of one embedded form, as the envelope carries them."""
        for built in self.base.forms:
            if built.form.form == doc:
                return built.content
        raise KeyError(doc)

    @property
    def _signed_at(self) -> datetime:
        """The pool's pinned signing moment: a re-signed mutant stamped with the clock's time
        made the same seed send other bytes (and other evidence) on every run."""
        return self.pool.signed_at

    @property
    def _credential(self) -> Credential:
        return self.pool.pki.credential(self.pool.factory.signer)

    def _with_form(self, doc: str, content: bytes) -> bytes:
        """The envelope carrying ``content`` as form ``doc``, lengths updated, re-signed."""
        root = self.envelope_root()
        _unsign(root, self.catalog.envelope.signature_node)
        for index, built in enumerate(self.base.forms):
            if built.form.form == doc:
                encoded = EmbeddedFile.from_bytes(doc, "", built.form.file_name, content)
                find_all(root, f"{FILES}/NoiDungFile")[index].text = encoded.noi_dung
                find_all(root, f"{FILES}/DoDaiFile")[index].text = str(encoded.do_dai)
        return self._sign_envelope(root)

    def _sign_envelope(self, root: etree._Element) -> bytes:
        node = self.catalog.envelope.signature_node
        return serialize(
            sign(root, self._credential, signature_parent=node, signing_time=self._signed_at)
        )


FILES = "Hoso/NoiDung/ThongTinHoSo/ToKhais/FileToKhai"


def _unsign(root: etree._Element, node: str) -> None:
    """Remove the ds:Signature under ``node``, leaving the (empty) holder the signer fills."""
    for holder in find_all(root, f"{local(root)}/{node}"):
        for signature in holder.findall(f"{{{DS}}}Signature"):
            holder.remove(signature)


def serialize(root: etree._Element) -> bytes:
    """Bytes as the factory writes them (XML declaration, UTF-8)."""
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


Offer = Callable[[Draw], Mutation]
"""Draws one concrete mutation of a family for one context."""

Family = Callable[[MutationContext], Offer | None]
"""A family of mutations: what it can offer for a context, or None when nothing applies."""


__all__ = [
    "DEFAULT_SETTINGS",
    "DS",
    "ENVELOPE",
    "FILES",
    "Draw",
    "Family",
    "Mutation",
    "MutationContext",
    "MutationSettings",
    "Offer",
    "serialize",
]
