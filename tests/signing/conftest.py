"""Fixtures for the signing tests; the session's test PKI (``pki``) comes from tests/conftest.py."""

from __future__ import annotations

import pytest
from lxml import etree

from harness.signing import TestPKI, TrustStore

FORM = """<?xml version="1.0" encoding="UTF-8"?>
<D02-TS>
  <NoiDung>
    <LaoDong>
      <STT>1</STT>
      <HoTen>Nguyễn Thị Ánh Tuyết</HoTen>
      <ChucVu>Kế toán trưởng</ChucVu>
      <NoiLamViec>Phường Bến Nghé, TP Hồ Chí Minh</NoiLamViec>
      <TienLuong>5310000</TienLuong>
      <PA>TM</PA>
    </LaoDong>
  </NoiDung>
</D02-TS>
"""


@pytest.fixture(scope="session")
def trust(pki: TestPKI) -> TrustStore:
    return pki.trust_store()


@pytest.fixture
def form() -> etree._Element:
    return etree.fromstring(FORM.encode())
