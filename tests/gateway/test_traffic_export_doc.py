"""The traffic export says what it cannot see: another worker's rows not yet written.

With ``--workers 2`` an export writes only its own worker's pending rows, so the other
worker's exchanges of the last flush interval were missing without a word about it.
"""

from __future__ import annotations

from mock_gateway import admin
from mock_gateway.config import GatewayConfig
from mock_gateway.openapi import document


def test_the_openapi_description_of_the_export_names_the_lag_of_other_workers() -> None:
    description = document()["paths"]["/admin/traffic"]["get"]["description"]
    interval = f"{GatewayConfig.traffic_flush_interval:g} s"
    assert "several workers" in description and interval in description
    assert "traffic_flush_interval" in description


def test_the_export_handler_points_to_the_same_note() -> None:
    assert "EXPORT_LAG" in (admin.export_traffic.__doc__ or "")
    assert admin.EXPORT_LAG in document()["paths"]["/admin/traffic"]["get"]["description"]
