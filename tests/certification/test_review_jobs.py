"""When the factory finds no dossier the gateway would accept, the error says what to try."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from harness.catalog import load_catalog
from harness.certification.jobs import JobBuilder
from harness.errors import FactoryError
from harness.signing import TestPKI


def test_no_valid_dossier_says_what_to_try(pki: TestPKI) -> None:
    catalog = load_catalog()
    builder = JobBuilder(catalog, pki)
    procedure = next(iter(catalog.procedures))
    dossier = SimpleNamespace(unit=SimpleNamespace(ma_don_vi="X"), envelope=b"<Hoso/>")

    def build(_procedure: str, _seed: int) -> Any:
        return dossier

    builder.factory.build = build  # type: ignore[method-assign]
    builder.checker.check = lambda _envelope: SimpleNamespace(accepted=False)  # type: ignore[method-assign,assignment]
    with pytest.raises(FactoryError, match=f"no valid {procedure} dossier in 40 seeds") as caught:
        builder.valid(procedure, "label")
    assert caught.value.hint is not None
    assert f"bhxh-harness catalog check {catalog.version}" in caught.value.hint
    assert "--seed" in caught.value.hint
