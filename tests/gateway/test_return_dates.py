"""The 02/TB-TS promises a return date (NGAY_TRA) the procedure's processing time away.

SI Law 2014 art. 99: a first SI book in 20 days, a re-issued one in 15, an information
adjustment in 10; each procedure's ``days_to_result`` in ``catalog.yaml`` says which.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from harness.catalog import load_catalog
from harness.dossiers.factory import DossierFactory
from harness.errors import CatalogError
from mock_gateway import messages
from mock_gateway.testing import Answer, InProcessGateway
from tests.catalog_copies import refused_load


def promised_days(gw: InProcessGateway, factory: DossierFactory, procedure: str) -> int:
    """Days from the 02/TB-TS's own date (NGAY_GDICH is the receipt's) to its NGAY_TRA."""
    receipt = Answer.parse(gw.submit(factory.build(procedure, 5).envelope))
    assert receipt.ma_kqua == "0", receipt.findings()
    gw.advance(15 * 60)
    listing = etree.fromstring(gw.request("GET", "/api/v1/messages").body)
    [entry] = [m for m in listing.iter("THONGBAO") if m.findtext("MA_GDICH") == receipt.ma_gdich]
    slip = Answer.parse(base64.b64decode(entry.findtext("NOI_DUNG") or ""))
    assert slip.kind == messages.HANDOVER
    issued = gw.gateway.clock.now().astimezone(messages.VN_TIME).date()
    promised = datetime.strptime(slip.text("TTGDICH/NGAY_TRA"), "%d/%m/%Y").date()
    return (promised - issued).days


@pytest.mark.parametrize(("procedure", "days"), [("600", 20), ("607", 15), ("612", 10)])
def test_the_return_date_is_the_procedures_processing_time(
    gw: InProcessGateway, factory: DossierFactory, procedure: str, days: int
) -> None:
    assert load_catalog("2024.1").procedures[procedure].days_to_result == days
    assert promised_days(gw, factory, procedure) == days


def test_a_stored_dossier_from_before_keeps_the_default(
    gw: InProcessGateway, factory: DossierFactory
) -> None:
    """A summary written before catalogs carried the figure: 10 days, as then."""
    receipt = Answer.parse(gw.submit(factory.build("600", 6).envelope))
    with gw.gateway.store.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE dossiers SET summary = json_remove(summary, '$.days_to_result') "
            "WHERE ma_gdich = ?",
            (receipt.ma_gdich,),
        )
    gw.advance(15 * 60)
    listing = etree.fromstring(gw.request("GET", "/api/v1/messages").body)
    [entry] = listing.iter("THONGBAO")
    slip = Answer.parse(base64.b64decode(entry.findtext("NOI_DUNG") or ""))
    issued = gw.gateway.clock.now().astimezone(messages.VN_TIME).date()
    assert slip.text("TTGDICH/NGAY_TRA") == (issued + timedelta(days=10)).strftime("%d/%m/%Y")


@pytest.mark.parametrize("bad", ["0", "400", '"20"', "true"])
def test_a_days_to_result_that_is_no_day_count_is_refused(tmp_path: Path, bad: str) -> None:
    old = "    days_to_result: 20  #"
    error, _ = refused_load(
        tmp_path, "2024.1", "catalog.yaml", old, f"    days_to_result: {bad}  #"
    )
    assert isinstance(error, CatalogError)
    assert "days_to_result must be 1 to 366 days" in str(error)
