"""A gateway whose simulated clock ran past the test employer's certificate is refused
before any case: an I-VAN signs at the gateway's ``{now}``, so every dossier would be
SIG-005 and the run would blame the I-VAN for the gateway's clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from harness.certification.model import DEFAULT_SIGNER
from harness.certification.window import refuse_clock_outside
from harness.errors import ConfigError
from harness.signing import TestPKI


@dataclass
class _Clock:
    """The one thing the check asks a gateway: its simulated now."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment


def test_a_clock_inside_the_certificate_passes(pki: TestPKI) -> None:
    certificate = pki.credential(DEFAULT_SIGNER).certificate
    inside = certificate.not_valid_before_utc + timedelta(days=1)
    refuse_clock_outside(_Clock(inside), pki)  # type: ignore[arg-type]


@pytest.mark.parametrize("offset", [timedelta(days=365 * 3), timedelta(days=-3)])
def test_a_clock_outside_the_certificate_is_refused_with_a_hint(
    pki: TestPKI, offset: timedelta
) -> None:
    certificate = pki.credential(DEFAULT_SIGNER).certificate
    edge = (
        certificate.not_valid_after_utc
        if offset > timedelta(0)
        else certificate.not_valid_before_utc
    )
    with pytest.raises(ConfigError, match="outside the test employer's certificate") as info:
        refuse_clock_outside(_Clock(edge + offset), pki)  # type: ignore[arg-type]
    assert "SIG-005" in str(info.value) and "/admin/reset" in str(info.value.hint)


def test_a_clock_a_few_hours_before_expiry_is_refused(pki: TestPKI) -> None:
    """The cases advance the clock by up to 12 hours: a run must end inside the validity."""
    certificate = pki.credential(DEFAULT_SIGNER).certificate
    with pytest.raises(ConfigError):
        refuse_clock_outside(  # type: ignore[arg-type]
            _Clock(certificate.not_valid_after_utc - timedelta(hours=3)), pki
        )
