"""The declared period picks the catalog version; a later procedure is "not yet in force"."""

from __future__ import annotations

from harness.dossiers.defects import build_defective
from harness.dossiers.factory import DossierFactory
from mock_gateway.testing import Answer, InProcessGateway


def test_procedure_added_later_is_not_in_force_before_its_version(
    gw: InProcessGateway, valid2026: object
) -> None:
    factory: DossierFactory = valid2026.factory  # type: ignore[attr-defined]
    dossier = build_defective(factory, "630a", "procedure-not-in-force", seed=3)
    answer = Answer.parse(gw.submit(dossier.envelope))
    assert answer.codes == ["ENV-003"]


def test_same_dossier_in_its_own_period_is_accepted(
    gw: InProcessGateway, valid2026: object
) -> None:
    dossier = valid2026("630a")  # type: ignore[operator]
    response = gw.submit(dossier.envelope)
    assert response.status == 202, response.body[-600:]
