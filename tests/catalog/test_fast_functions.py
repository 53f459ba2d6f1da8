"""The rule functions' fast paths answer as before, and each transform gets what it calls.

``fn:is-base64`` accepts well-formed base64 without decoding it and ``fn:composes`` scans
in C; both are compared with the code they replaced. The fn:* functions are handed to each
compiled rule file rather than registered for the whole process (lxml registered them
again on every XPath evaluation anywhere), only those the file names, and EXSLT's regular
expressions only to a file naming their namespace: rules that call them still run.
"""

from __future__ import annotations

import binascii
import itertools
import random
import re
import unicodedata
from pathlib import Path
from typing import Any

from lxml import etree

from harness.catalog import xpath_functions
from harness.catalog.validation import _compile_schematron
from harness.catalog.xpath_functions import composes, is_base64

_OLD_BASE64 = re.compile(r"^[A-Za-z0-9+/\s]*={0,2}\s*$")


def _reference_is_base64(text: str) -> bool:
    if not _OLD_BASE64.match(text):
        return False
    try:
        binascii.a2b_base64("".join(text.split()).encode("ascii"), strict_mode=True)
    except (binascii.Error, ValueError):
        return False
    return True


def test_is_base64_answers_as_decoding_did() -> None:
    pieces = ["Q", "k", "+", "/", "=", " ", "\n"]
    texts = ["".join(p) for n in range(8) for p in itertools.product(pieces, repeat=n)]
    rng = random.Random(3)
    alphabet = "QUJDRAk+/=  \n\t\r\x0b\x0c\x1c\u00a0\u2028é!-_"
    texts += ["".join(rng.choices(alphabet, k=rng.randint(0, 40))) for _ in range(20_000)]
    texts += ["QUJD" * 1000, "QUJD" * 999 + "QQ==", "QUJD" * 999 + "QUI=", "QUJD" * 999 + "Q==="]
    texts += ["QUJD\n" * 50 + "QQ==\n", "QQ= =", "=", "==", "QUJD=", "QUJDRA===", ""]
    for text in texts:
        assert is_base64(None, text) is _reference_is_base64(text), repr(text)
    assert is_base64(None, []) is _reference_is_base64("")  # an empty node-set


def _reference_composes(text: str) -> bool:
    return not any(unicodedata.combining(c) for c in unicodedata.normalize("NFC", text))


def test_composes_answers_as_before() -> None:
    rng = random.Random(5)
    names = [
        "Nguyễn Thị Ánh",
        unicodedata.normalize("NFD", "Nguyễn Thị Ánh"),
        "Nguye\u0303\u0302n",  # tilde before circumflex: does not compose
        "e\u0301\u0323",
        "\u1100\u1161\u11a8",  # Hangul jamo compose without marks
        "a\u0951b",
        "",
    ]
    pool = [chr(c) for c in range(0x20, 0x2000)] + ["\u0300", "\u0323", "\u20d7", "\U0001d165"]
    names += ["".join(rng.choices(pool, k=rng.randint(1, 12))) for _ in range(5000)]
    for name in names:
        assert composes(None, name) is _reference_composes(name), repr(name)


RULES = """<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt">
  <sch:ns prefix="fn" uri="urn:bhxh-harness:functions"/>
  <sch:ns prefix="h" uri="urn:bhxh-harness:functions"/>
  {namespaces}
  <sch:pattern id="p">
    <sch:rule context="Ten">
      <sch:assert id="a" role="RULE-101" test="{test}">bad '<sch:value-of select="."/>'</sch:assert>
    </sch:rule>
  </sch:pattern>
</sch:schema>
"""


def _failures(tmp_path: Path, test: str, document: str, namespaces: str = "") -> list[Any]:
    path = tmp_path / "rules.sch"
    path.write_text(RULES.format(test=test, namespaces=namespaces), encoding="utf-8")
    return _compile_schematron(path).findings(etree.fromstring(document))


def test_a_rule_calls_the_functions_under_any_prefix(tmp_path: Path) -> None:
    test = "h:composes(string(.)) and h:valid-date('29/02/2024')"
    assert _failures(tmp_path, test, "<r><Ten>Nguyễn</Ten></r>") == []
    (failed,) = _failures(tmp_path, test, "<r><Ten>Nguye\u0303\u0302n</Ten></r>")
    assert failed.code == "RULE-101" and failed.xpath == "/r/Ten"


def test_a_rule_may_still_use_exslt_regular_expressions(tmp_path: Path) -> None:
    namespaces = '<sch:ns prefix="regexp" uri="http://exslt.org/regular-expressions"/>'
    test = "regexp:test(string(.), '^[A-Z][a-z]+$')"
    assert _failures(tmp_path, test, "<r><Ten>Nam</Ten></r>", namespaces) == []
    (failed,) = _failures(tmp_path, test, "<r><Ten>nam</Ten></r>", namespaces)
    assert failed.message_vi == "bad 'nam'"


def test_register_still_makes_the_functions_global_for_ad_hoc_xpath() -> None:
    xpath_functions.register()
    found = etree.fromstring("<r>a\u0301</r>").xpath(
        "h:composes(string(.))", namespaces={"h": xpath_functions.NAMESPACE}
    )
    assert found is True
