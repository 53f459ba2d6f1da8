"""Whether stdout's reader left is asked of the stdout a command writes to, not remembered
from an earlier run in the process: a run whose reader left made every later in-process
`dossier build` to stdout fail "not written in full"."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator

import pytest

from harness.cli_exits import delivered, stdout_reader_may_leave


@pytest.fixture
def reader_gone() -> Iterator[io.TextIOWrapper]:
    """A stdout on a pipe whose reader has already left (`| head -0`); a test sets it
    itself, since pytest sets its capture after the fixtures."""
    read, write = os.pipe()
    os.close(read)
    stream = io.TextIOWrapper(io.FileIO(write, "w"), encoding="utf-8")
    yield stream
    stream.close()


def test_a_product_the_reader_left_before_reading_fails(
    reader_gone: io.TextIOWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdout", reader_gone)
    with stdout_reader_may_leave():
        sys.stdout.write("<Hoso/>")
        with pytest.raises(SystemExit) as info:
            delivered("the dossier")
    assert info.value.code == 1
    assert sys.stdout is reader_gone


def test_a_reader_that_left_an_earlier_run_does_not_fail_the_next(
    reader_gone: io.TextIOWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdout", reader_gone)
    with stdout_reader_may_leave(), pytest.raises(SystemExit):
        sys.stdout.write("<Hoso/>")
        delivered("the dossier")
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # the next run: a test's capture
    with stdout_reader_may_leave():
        sys.stdout.write("<Hoso/>")
        delivered("the dossier")  # read in full: no exit
    assert sys.stdout.getvalue() == "<Hoso/>"  # type: ignore[attr-defined]
