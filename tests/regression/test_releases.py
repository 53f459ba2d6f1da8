"""Release profiles: loaded from data, validated, inert by default, carried by the config."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from mock_gateway.config import GatewayConfig
from mock_gateway.releases import NO_RELEASE, list_releases, load_release


def test_every_bundled_release_loads_and_changes_something() -> None:
    for name in list_releases():
        profile = load_release(name)
        assert profile != NO_RELEASE and profile.name == name and profile.summary


def test_no_release_is_the_reference_gateway() -> None:
    assert load_release(None) is NO_RELEASE and load_release("") is NO_RELEASE
    assert NO_RELEASE.date_format("03/TB-TS") == "%d/%m/%Y"
    assert NO_RELEASE.renumber([]) == [] and not NO_RELEASE.idempotency_broken


def test_an_unknown_release_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown gateway release 'nope'") as info:
        load_release("nope")
    assert "pa-code-removed" in str(info.value)


def test_a_malformed_release_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "hooks:\n  forbidden_values: [{element: PA}]\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="invalid release profile"):
        load_release("bad", tmp_path)


def test_the_release_survives_the_trip_through_the_environment() -> None:
    config = GatewayConfig(release="slow-d02")
    assert GatewayConfig.from_json(config.to_json()).release == "slow-d02"
    assert GatewayConfig().release is None
