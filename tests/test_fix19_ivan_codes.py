"""An I-VAN code is what its envelopes carry in MaIVAN, so the catalog's envelope schema is
the one rule for it: a looser rule of its own (1-32 letters, digits, '-', '_') let the
gateway register ``ivan_1`` whose every dossier was then refused (ENV-001)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.credentials import ivan_code_problem, token_options
from harness.errors import ConfigError
from harness.paths import fixtures_dir
from harness.signing import TestPKI
from mock_gateway.config import GatewayConfig
from mock_gateway.testing import InProcessGateway
from tests.certification.plugin_vendor import run_vendor

UNFIT = ["ivan_1", "IVAN-LONG-NAME-12", "AB"]
"""Codes the old rule took and the shipped catalogs' MaIVAN ([A-Z0-9]{3,10}) refuses."""
SHIPPED_MA_IVAN = '<xs:pattern value="[A-Z0-9]{3,10}"/>'


@pytest.mark.parametrize("code", UNFIT)
def test_gateway_settings_refuse_a_code_no_envelope_can_carry(code: str) -> None:
    with pytest.raises(ConfigError) as refused:
        GatewayConfig(ivan_tokens={code: "tok-1"})
    message = str(refused.value)
    assert f"can name I-VAN {code}: " in message
    assert "pattern '[A-Z0-9]{3,10}'" in message  # what is wrong
    assert "give the I-VAN code as the gateway issued it" in message  # what to do


def test_an_in_process_gateway_refuses_the_code_at_start_not_at_every_dossier(
    pki: TestPKI,
) -> None:
    gateway = InProcessGateway(pki=pki, ivan_tokens={"ivan_1": "tok-1"})
    with pytest.raises(ConfigError, match="can name I-VAN ivan_1"):
        gateway.__enter__()


def test_a_code_the_envelope_schema_allows_is_served(pki: TestPKI) -> None:
    with InProcessGateway(pki=pki, ivan_tokens={"IVAN07": "tok-7"}) as gateway:
        assert gateway.token("IVAN07") == "tok-7"


@pytest.mark.parametrize("code", UNFIT)
def test_the_ivan_token_option_says_which_catalog_refuses_the_code(code: str) -> None:
    with pytest.raises(ConfigError) as refused:
        token_options([f"{code}=tok-1"])
    message = str(refused.value)
    assert message.startswith(f"--ivan-token {code}=...: no envelope of catalog ")
    assert "\nHint: give the I-VAN code" in message


def test_a_code_xml_cannot_carry_is_named_quoted_not_a_traceback() -> None:
    problem = ivan_code_problem("IVAN\x0101")
    assert problem is not None and "'IVAN\\x0101'" in problem and "XML cannot carry" in problem


def _home(tmp_path: Path, patterns: dict[str, str]) -> Path:
    """A copy of ``fixtures/`` whose catalog versions give MaIVAN the ``patterns`` given."""
    shutil.copytree(fixtures_dir(), tmp_path / "fixtures")
    for version, pattern in patterns.items():
        xsd = tmp_path / "fixtures" / "catalog" / version / "xsd" / "Hoso.xsd"
        text = xsd.read_text(encoding="utf-8")
        assert text.count(SHIPPED_MA_IVAN) == 1
        xsd.write_text(text.replace(SHIPPED_MA_IVAN, pattern), encoding="utf-8")
    return tmp_path


def _problems(home: Path, *calls: str) -> list[str]:
    """``repr(ivan_code_problem(...))`` of each call, in a process reading catalogs at
    ``home`` (``load_catalog`` caches per version, so not in this one)."""
    script = "from harness.credentials import ivan_code_problem as p\n" + "".join(
        f"print(repr(p({call})))\n" for call in calls
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "BHXH_HARNESS_HOME": str(home)},
        check=True,
    )
    return done.stdout.splitlines()


def test_the_rule_is_the_catalogs_own_and_each_served_catalog_is_asked(tmp_path: Path) -> None:
    """A catalog whose MaIVAN takes lower case accepts ``ivan_1``; one that takes only
    IVANnn refuses ``BHXH01``, which the old rule let through."""
    home = _home(
        tmp_path,
        {
            "2024.1": '<xs:pattern value="[a-z0-9_]{3,10}|[A-Z0-9]{3,10}"/>',
            "2026.1": '<xs:pattern value="IVAN[0-9]{2}"/>',
        },
    )
    wide, narrow, both, fits = _problems(
        home, "'ivan_1', ['2024.1']", "'BHXH01', ['2026.1']", "'ivan_1'", "'IVAN01'"
    )
    assert wide == "None"
    assert "catalog 2026.1 can name I-VAN BHXH01" in narrow and "'IVAN[0-9]{2}'" in narrow
    assert "catalog 2026.1" in both  # no versions given: every version on disk
    assert fits == "None"


def test_a_named_type_from_an_included_schema_is_resolved(tmp_path: Path) -> None:
    home = _home(tmp_path, {"2024.1": '<xs:pattern value="[A-Z0-9]{3,10}"/>'})
    xsd = home / "fixtures" / "catalog" / "2024.1" / "xsd"
    hoso = (xsd / "Hoso.xsd").read_text(encoding="utf-8")
    inline = (
        '<xs:element name="MaIVAN"><xs:simpleType><xs:restriction base="xs:string">'
        '<xs:pattern value="[A-Z0-9]{3,10}"/></xs:restriction></xs:simpleType></xs:element>'
    )
    assert hoso.count(inline) == 1
    (xsd / "Hoso.xsd").write_text(
        hoso.replace(inline, '<xs:element name="MaIVAN" type="MaIVANKieu"/>'), encoding="utf-8"
    )
    common = (xsd / "common.xsd").read_text(encoding="utf-8")
    named = (
        '<xs:simpleType name="MaIVANKieu"><xs:restriction base="xs:string">'
        '<xs:pattern value="V[0-9]{3}"/></xs:restriction></xs:simpleType>\n</xs:schema>'
    )
    (xsd / "common.xsd").write_text(common.replace("</xs:schema>", named), encoding="utf-8")
    refused, fits = _problems(home, "'IVAN01', ['2024.1']", "'V123', ['2024.1']")
    assert "'V[0-9]{3}'" in refused and fits == "None"


def test_the_pytest_plugin_refuses_the_code_before_reaching_the_gateway(tmp_path: Path) -> None:
    args = ["--bhxh-gateway", "http://127.0.0.1:9", "--bhxh-ivan", "ivan_1"]
    done = run_vendor(tmp_path, "def test_one(gateway):\n    pass\n", *args)
    text = done.stdout + done.stderr
    assert done.returncode == 4, text  # pytest.ExitCode.USAGE_ERROR
    assert "--bhxh-ivan 'ivan_1': no envelope of catalog" in text, text
    assert "pattern '[A-Z0-9]{3,10}'" in text and "connection was refused" not in text
