"""The pytest plugin's command-line options, checked once before any test runs.

A wrong option (a gateway out of reach, an unknown catalog, a refused token) would
otherwise fail every test with the same long chained traceback; :func:`read_options`
turns it into one ``pytest.UsageError`` line with a hint instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from harness.credentials import IVAN_CODE_HINT, ivan_code_problem, token_problem
from harness.errors import UsageError
from harness.identities import DEFAULT_IVAN_CODE

XDIST_WORKER = "PYTEST_XDIST_WORKER"
"""Set by pytest-xdist in each worker process (``gw0``, ``gw1``...)."""


def add_options(parser: pytest.Parser) -> None:
    """Register the ``--bhxh-*`` options."""
    group = parser.getgroup("bhxh-harness", "BHXH I-VAN certification fixtures")
    group.addoption(
        "--bhxh-gateway",
        default=None,
        help="Use the gateway at this URL (reset at the start of every test!); "
        "default: start one on 127.0.0.1 per session (per xdist worker).",
    )
    group.addoption("--bhxh-catalog", default=None, help="Catalog version (default: latest).")
    group.addoption(
        "--bhxh-ivan",
        default=None,
        help=f"The I-VAN the fixtures act as (default {DEFAULT_IVAN_CODE}).",
    )
    group.addoption(
        "--bhxh-ivan-token",
        default=None,
        help="Bearer token of --bhxh-ivan at --bhxh-gateway (default: the mock's public one).",
    )
    group.addoption(
        "--bhxh-admin-token",
        default=None,
        help="Admin token of --bhxh-gateway (default: the mock's public one).",
    )


@dataclass(frozen=True)
class PluginOptions:
    """The checked ``--bhxh-*`` values; None means "the local gateway's default"."""

    gateway_url: str | None
    catalog: str | None
    ivan: str
    ivan_token: str | None
    admin_token: str | None


def read_options(config: pytest.Config) -> PluginOptions:
    """The options, or ``pytest.UsageError`` naming the wrong one and what to do."""
    url, given_ivan = config.getoption("bhxh_gateway"), config.getoption("bhxh_ivan")
    options = PluginOptions(
        gateway_url=url.rstrip("/") if url else None,
        catalog=config.getoption("bhxh_catalog"),
        ivan=given_ivan or DEFAULT_IVAN_CODE,
        ivan_token=config.getoption("bhxh_ivan_token"),
        admin_token=config.getoption("bhxh_admin_token"),
    )
    if options.catalog is not None:
        _check_catalog(options.catalog)
    versions = [options.catalog] if options.catalog is not None else []
    # only a code given: judging the default loads every catalog (0.17 s), in every pytest
    # session of an environment where the harness is installed, used or not
    problem = ivan_code_problem(options.ivan, versions) if given_ivan is not None else None
    if problem is not None:
        raise pytest.UsageError(f"--bhxh-ivan {options.ivan!r}: {problem}\nHint: {IVAN_CODE_HINT}")
    for name in ("ivan_token", "admin_token"):
        token = getattr(options, name)
        if token is not None and (problem := token_problem(token)) is not None:
            raise pytest.UsageError(f"--bhxh-{name.replace('_', '-')}: {problem}")
    if options.gateway_url is None:
        for name in ("ivan_token", "admin_token"):
            if getattr(options, name) is not None:
                flag = "--bhxh-" + name.replace("_", "-")
                raise pytest.UsageError(
                    f"{flag} is only for --bhxh-gateway URL: the local gateway uses the "
                    "mock's public tokens (gateway.token_for(ivan) gives them)"
                )
        return options
    if not options.gateway_url.startswith(("http://", "https://")):
        raise pytest.UsageError(
            f"--bhxh-gateway {url!r} must start with http:// or https://\n"
            "Hint: e.g. --bhxh-gateway http://127.0.0.1:8080, or leave it out to start one"
        )
    if _under_xdist(config):
        raise pytest.UsageError(
            "--bhxh-gateway cannot be shared by pytest-xdist workers: every test resets the "
            "gateway and sets its (gateway-wide) clock and fault plan, so workers would undo "
            "each other's tests\nHint: run with -p no:xdist (or -n 0), or leave --bhxh-gateway "
            "out: each worker then starts its own local gateway"
        )
    return options


def _under_xdist(config: pytest.Config) -> bool:
    """Whether tests run in pytest-xdist workers: in one, or in the controller that is
    about to start them (refusing there is one line; in each worker it is a traceback)."""
    if os.environ.get(XDIST_WORKER) or getattr(config, "workerinput", None) is not None:
        return True
    if config.getoption("collectonly"):  # xdist starts no worker just to collect
        return False
    # xdist's own test (its option values are final by pytest_configure); absent: no xdist
    return config.getoption("dist", "no") != "no" and bool(config.getoption("tx", None))


def _check_catalog(version: str) -> None:
    from harness.catalog.loader import list_versions

    known = list_versions()
    if version not in known:
        raise pytest.UsageError(
            f"--bhxh-catalog {version!r} is not a catalog version\n"
            f"Hint: known versions: {', '.join(known) or 'none'}"
        )


def usage_error(exc: UsageError, option: str) -> pytest.UsageError:
    """A harness ``UsageError`` (message and hint) as pytest's, naming the option."""
    return pytest.UsageError(f"{option}: {exc}")


__all__ = ["PluginOptions", "add_options", "read_options", "usage_error"]
