"""The pure ``fn:*`` functions and ``fn:as-of`` remember answers per text: asked again,
they answer as the first time, whatever shape XPath hands the text in, and what they keep
stays bounded and holds no document."""

from __future__ import annotations

import unicodedata

import pytest
from lxml import etree

from harness.catalog import tables, xpath_functions
from harness.catalog.tables import TableIndex
from harness.catalog.xpath_functions import composes, date_key, is_nfc, valid_date, year_of

ROWS = {"wage": [{"since": "01/2019", "amount": "1"}, {"since": "07/2024", "amount": "2"}]}


def test_a_remembered_answer_is_the_same_for_a_string_and_a_node_set() -> None:
    row = etree.fromstring("<r><d>31/02/2024</d><d>29/02/2024</d></r>")
    for _ in range(2):  # the second time from memory
        assert valid_date(None, [row[0]]) is False and valid_date(None, "31/02/2024") is False
        assert valid_date(None, [row[1]]) is True and date_key(None, [row[1]]) == 20240229
    name = unicodedata.normalize("NFD", "Nguyễn Thị Ánh")
    for _ in range(2):
        assert is_nfc(None, name) is False and composes(None, name) is True
        assert is_nfc(None, unicodedata.normalize("NFC", name)) is True


def test_the_memory_keeps_plain_text_not_the_document_it_came_from() -> None:
    [smart] = etree.fromstring("<r><y>1985</y></r>").xpath("y/text()")
    assert smart.getparent() is not None  # lxml's text result holds its element
    assert type(xpath_functions._text(smart)) is str
    assert year_of(None, smart) == 1985.0


def test_remembered_functions_keep_their_xpath_signature() -> None:
    assert xpath_functions.ARITY["valid-date"] == (1, 1)
    assert valid_date.__doc__ and "calendar" in valid_date.__doc__


def test_as_of_answers_alike_from_memory_and_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tables, "_IN_FORCE_REMEMBERED", 5)
    index = TableIndex(ROWS)
    periods = [f"{m:02d}/{y}" for y in (2018, 2024) for m in range(1, 13)] + ["x", ""]
    first = [index.as_of("wage", "amount", p) for p in periods]
    again = [index.as_of("wage", "amount", p) for p in reversed(periods)]
    assert again == first[::-1]
    assert first[:12] == [None] * 12 and first[12:18] == ["1"] * 6 and first[18:24] == ["2"] * 6
    assert len(index._in_force) <= 5
