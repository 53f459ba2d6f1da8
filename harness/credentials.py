"""What a bearer token and an I-VAN code may be: what an HTTP header and an envelope carry.

A token travels in ``Authorization: Bearer …``, which HTTP clients encode as Latin-1 or
refuse; ``mật-khẩu`` used to end every suite in a ``UnicodeEncodeError`` traceback and
made a served gateway that no client could reach. An I-VAN code is what its envelopes
name in ``MaIVAN``, so the catalog's envelope schema says which codes exist: a second,
looser rule here let ``ivan_1`` authenticate and then have every dossier refused. One
check serves the CLI, the gateway settings and the pytest plugin, so each says the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from copy import deepcopy
from functools import cache
from pathlib import Path

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from harness.errors import CatalogError, ConfigError

_TOKEN = re.compile(r"[\x21-\x7e]+")
_XS = "{http://www.w3.org/2001/XMLSchema}"
IVAN_FIELD = "MaIVAN"
"""The envelope element naming the sending I-VAN (:mod:`harness.envelope` writes it)."""
_LOCAL_ONLY = ("minOccurs", "maxOccurs", "form")  # attributes a top-level element may not have
IVAN_CODE_HINT = (
    f"give the I-VAN code as the gateway issued it and envelopes carry it ({IVAN_FIELD}), "
    "e.g. IVAN02"
)


def token_problem(token: str) -> str | None:
    """Why ``token`` cannot be sent as a bearer token, or None if it can."""
    if not token:
        return "it is empty"
    if _TOKEN.fullmatch(token) is None:
        return "a token is sent in an HTTP header, so it is visible ASCII: no spaces, no diacritics"
    return None


def ivan_code_problem(code: str, versions: Sequence[str] = ()) -> str | None:
    """Why no envelope of catalog ``versions`` (empty: every version on disk) can name I-VAN
    ``code`` in MaIVAN, or None if each can; a :class:`CatalogError` if one cannot load.

    Judged by the MaIVAN type each catalog's envelope schema declares, with lxml as the
    gateway judges envelopes, so the rule is the catalog's data, not a copy of it."""
    from harness.catalog import list_versions, load_catalog

    for version in versions or list_versions():
        detail = _refusal(_code_schema(load_catalog(version).envelope.xsd), code)
        if detail is not None:
            return f"no envelope of catalog {version} can name I-VAN {_shown(code)}: {detail}"
    return None


def _shown(code: str) -> str:
    """``code`` as typed, quoted where plain text would hide it (empty, spaces, controls)."""
    plain = code and code.isprintable() and code.strip() == code
    return code if plain else repr(code)


def _refusal(schema: etree.XMLSchema | None, code: str) -> str | None:
    """What ``schema`` (MaIVAN's declaration alone) says of ``code``, or None if it fits."""
    if schema is None:  # the envelope declares no MaIVAN: nothing here to judge a code by
        return None
    element = etree.Element(IVAN_FIELD)
    try:
        element.text = code
    except ValueError:
        return "it holds characters XML cannot carry (control characters, say)"
    if schema.validate(element):
        return None
    error = schema.error_log.last_error
    message = error.message if error is not None else "refused by its type"
    return message.removeprefix(f"Element '{IVAN_FIELD}': ").rstrip(".")


@cache
def _code_schema(xsd: Path) -> etree.XMLSchema | None:
    """The envelope schema ``xsd`` with MaIVAN's declaration as its only top-level element:
    includes and named types resolve as in the whole schema, and a code is judged alone."""
    try:
        from harness.catalog.xsd_source import parse_xsd  # at need: --help stays light

        doc = parse_xsd(xsd)  # composed, as the catalog reads it; includes resolve by its URL
        root = doc.getroot()
        declared = root.find(f".//{_XS}element[@name='{IVAN_FIELD}']")
        if declared is None:
            return None
        declaration = deepcopy(declared)
        for attribute in _LOCAL_ONLY:
            declaration.attrib.pop(attribute, None)
        for element in root.findall(f"{_XS}element"):
            root.remove(element)
        root.append(declaration)
        return etree.XMLSchema(doc)
    except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise CatalogError(f"cannot read the {IVAN_FIELD} type: {exc}", path=str(xsd)) from exc


def token_options(
    items: Sequence[str], option: str = "--ivan-token", catalogs: Sequence[str] = ()
) -> dict[str, str]:
    """``--ivan-token NAME=TOKEN`` given once per I-VAN, checked: the token is everything
    after the first '=' (',' included); NAME must be a code the envelopes of ``catalogs``
    (empty: every version on disk) can carry; an I-VAN named twice is refused."""
    tokens: dict[str, str] = {}
    for item in items:
        name, sep, token = item.partition("=")
        name, token = name.strip(), token.strip()
        hint = f"give one {option} NAME=TOKEN per I-VAN, e.g. IVAN01=secret"
        if not sep or not name or not token:
            raise ConfigError(f"{option} {item.split('=')[0]}=...: not NAME=TOKEN", hint=hint)
        if (problem := token_problem(token)) is not None:
            raise ConfigError(f"{option} {name}=...: {problem}", hint=hint)
        if (problem := ivan_code_problem(name, catalogs)) is not None:
            raise ConfigError(f"{option} {name}=...: {problem}", hint=IVAN_CODE_HINT)
        if name in tokens:
            raise ConfigError(
                f"{option} {name} is given twice", hint="give each I-VAN's token once"
            )
        tokens[name] = token
    return tokens


__all__ = ["IVAN_CODE_HINT", "IVAN_FIELD", "ivan_code_problem", "token_options", "token_problem"]
