"""A pytest plugin for vendors: fixtures to write their own extra certification cases.

Loaded through the ``pytest11`` entry point (or ``-p harness.certification.plugin``)::

    def test_my_ivan_resubmits(gateway, ivan_client, dossier_factory):
        procedure = next(iter(dossier_factory.catalog.procedures))
        dossier = dossier_factory.build(procedure, seed=1)
        gateway.set_faults([{"name": "burst-503", "params": {"count": 2}}], seed=0)
        assert ivan_client.submit(dossier.envelope).accepted
        gateway.advance(2 * 3600)
        assert {m.kind for m in ivan_client.poll_and_ack()} == {"02/TB-TS", "03/TB-TS"}

* ``gateway``: the mock gateway with fault injection on 127.0.0.1, started once per
  session (per xdist worker), or ``--bhxh-gateway URL``; **reset** and without faults at
  the start of every test, whose ``traffic()`` and ``fault_events()`` start there too
  (:class:`~harness.certification.plugin_view.GatewayView`).
* ``inproc_gateway`` / ``responses_gateway``: a fresh in-process gateway per test, no
  socket: ``.session()`` for a client that takes a session, ``.httpx_transport()`` for an
  httpx one, or every ``requests`` call to ``.url`` under ``responses``
  (:mod:`harness.certification.plugin_inproc`). Every gateway fixture serves every
  catalog version, as ``bhxh-harness serve`` does.
* ``ivan_client``: the reference :class:`~harness.client.IvanClient` as ``--bhxh-ivan``
  on ``gateway``; its back-off advances the simulated clock instead of sleeping (with an
  in-process gateway, its ``.client()`` is that client).
* ``dossier_factory``: this test's own :class:`~harness.dossiers.factory.DossierFactory`
  (``--bhxh-catalog``, default the latest: it picks the factory's catalog only, not what
  the gateways serve); ``dossier_factory_for("IVAN02")`` builds for another I-VAN, whose
  token is ``gateway.token_for("IVAN02")`` (a code no envelope can carry, or one a local
  gateway has no token for, fails the test there, as ``dossier build --ivan`` refuses it).

Options are checked once, before any test (:mod:`harness.certification.plugin_options`).
Every pytest session of an environment with the harness installed loads this module, so
it imports what a fixture needs only when a test asks for that fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from harness.certification.plugin_options import PluginOptions, add_options, read_options
from harness.errors import ConfigError
from harness.identities import ivan_name

if TYPE_CHECKING:
    from harness.certification.gateway import CertGateway
    from harness.certification.plugin_inproc import SocketFreeGateway
    from harness.certification.plugin_view import GatewayView
    from harness.client import IvanClient
    from harness.dossiers.factory import DossierFactory

OPTIONS = pytest.StashKey[PluginOptions]()
ADMIN_HINT = "pass --bhxh-admin-token with the admin token the gateway was started with"
TOKEN_HINT = (
    "pass --bhxh-ivan-token with the token the gateway gave the I-VAN "
    "(and --bhxh-ivan with its code if it is not IVAN01)"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    """Check the options once, so a wrong one is one line, not one traceback per test."""
    options = read_options(config)
    if options.gateway_url is None:
        _public_tokens(options.ivan)
    else:
        _check_gateway(_remote(options), options.gateway_url)
    config.stash[OPTIONS] = options


def pytest_report_header(config: pytest.Config) -> str | None:
    options = config.stash.get(OPTIONS, None)
    if options is None or options.gateway_url is None:
        return None
    return f"bhxh-harness: gateway {options.gateway_url} is reset by every test using `gateway`"


def _public_tokens(ivan: str, what: str = "") -> dict[str, str]:
    """The mock's well-known I-VAN tokens (a local gateway uses them), or UsageError
    naming ``what`` gave the code (default ``--bhxh-ivan CODE``)."""
    from mock_gateway.config import DEFAULT_IVAN_TOKENS

    if ivan not in DEFAULT_IVAN_TOKENS:
        raise pytest.UsageError(
            f"{what or '--bhxh-ivan ' + repr(ivan)} is not an I-VAN of the local gateway\n"
            f"Hint: use one of {', '.join(DEFAULT_IVAN_TOKENS)}, or --bhxh-gateway URL"
        )
    return dict(DEFAULT_IVAN_TOKENS)


def _remote(options: PluginOptions) -> CertGateway:
    from harness.certification.gateway import DEFAULT_ADMIN_TOKEN, CertGateway
    from mock_gateway.config import DEFAULT_IVAN_TOKENS

    token = options.ivan_token or DEFAULT_IVAN_TOKENS.get(options.ivan, "")
    return CertGateway(
        options.gateway_url or "",
        ivan=(options.ivan, ivan_name(options.ivan), token),
        admin_token=options.admin_token or DEFAULT_ADMIN_TOKEN,
        tag="pytest",
    )


def _check_gateway(remote: CertGateway, url: str) -> None:
    """Reachable, and it takes both credentials; else one UsageError line and a hint."""
    steps: list[tuple[Callable[[], object], str]] = [
        (
            remote.check_is_gateway,
            "is it running? or leave --bhxh-gateway out to start a local one",
        ),
        (remote.check_ivan_token, TOKEN_HINT),
        (lambda: remote.traffic_lines(limit=1), ADMIN_HINT),
    ]
    try:
        for step, hint in steps:
            try:
                step()
            except ConfigError as exc:
                first = str(exc).splitlines()[0]
                tls = exc.hint if "TLS" in first else None
                raise pytest.UsageError(
                    f"--bhxh-gateway {url}: {first}\nHint: {tls or hint}"
                ) from None
    finally:
        remote.close()


@pytest.fixture(scope="session")
def bhxh_options(pytestconfig: pytest.Config) -> PluginOptions:
    options = pytestconfig.stash.get(OPTIONS, None)
    return options if options is not None else read_options(pytestconfig)


@pytest.fixture(scope="session")
def bhxh_catalog(bhxh_options: PluginOptions) -> Any:
    from harness.catalog import latest_version, load_catalog

    return load_catalog(bhxh_options.catalog or latest_version())


@pytest.fixture(scope="session")
def bhxh_pki() -> Any:
    from harness.signing import ensure_pki

    return ensure_pki()


@pytest.fixture(scope="session")
def bhxh_gateway(
    bhxh_options: PluginOptions, bhxh_pki: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayView]:
    """The session's gateway (not reset here: the ``gateway`` fixture does that); a local
    one serves every catalog version, as ``serve`` does (``--bhxh-catalog`` is the factory's)."""
    from harness.certification.gateway import DEFAULT_ADMIN_TOKEN, CertGateway, local_gateway
    from harness.certification.plugin_view import GatewayView
    from mock_gateway.config import DEFAULT_IVAN_TOKENS

    ivan = bhxh_options.ivan
    if bhxh_options.gateway_url:
        remote = _remote(bhxh_options)
        yield GatewayView(remote, DEFAULT_IVAN_TOKENS)
        remote.close()
        return
    folder = tmp_path_factory.mktemp("bhxh")
    with local_gateway(None, bhxh_pki, folder, tag="pytest") as local:
        if ivan == local.ivan:
            yield GatewayView(local, DEFAULT_IVAN_TOKENS)
            return
        other = (ivan, ivan_name(ivan), DEFAULT_IVAN_TOKENS[ivan])
        admin = DEFAULT_ADMIN_TOKEN
        handle = CertGateway(local.url, ivan=other, admin_token=admin, logs=local.logs, local=True)
        yield GatewayView(handle, DEFAULT_IVAN_TOKENS)
        handle.close()


@pytest.fixture
def gateway(bhxh_gateway: GatewayView) -> Iterator[GatewayView]:
    """The gateway, reset and without faults for this test; its logs start here."""
    yield bhxh_gateway.begin()
    bhxh_gateway.end()


@pytest.fixture
def inproc_gateway(bhxh_options: PluginOptions, bhxh_pki: Any) -> Iterator[SocketFreeGateway]:
    """A fresh in-process gateway with fault injection for this test; no socket. It serves
    every catalog version, as ``serve`` does: ``--bhxh-catalog`` picks the factory's."""
    from harness.certification.plugin_inproc import in_process_gateway

    with in_process_gateway(bhxh_pki, bhxh_options.ivan) as handle:
        yield handle


@pytest.fixture
def responses_gateway(
    request: pytest.FixtureRequest, inproc_gateway: SocketFreeGateway
) -> Iterator[SocketFreeGateway]:
    """``inproc_gateway`` behind an active ``responses.RequestsMock``: any ``requests``
    call to its :attr:`~harness.certification.plugin_inproc.SocketFreeGateway.url` reaches
    the gateway core, with no socket (held and reset answers act as over HTTP:
    ``register_responses`` applies them)."""
    from harness.certification.plugin_inproc import behind_responses

    with behind_responses(request, inproc_gateway) as handle:
        yield handle


IN_PROCESS = ("responses_gateway", "inproc_gateway")  # the first uses the second
CLIENT_CLASH = (
    "ivan_client talks to the `gateway` fixture's server, not to {name}: this test would "
    "check nothing in-process\nHint: use {name}.client() (the same reference client, "
    "in-process), or ask for `gateway` too if the test means to use both"
)


@pytest.fixture
def ivan_client(request: pytest.FixtureRequest) -> Iterator[IvanClient]:
    """The reference I-VAN client as ``--bhxh-ivan``; Retry-After and back-off waits move
    the simulated clock (``gateway.advance``) instead of sleeping. It belongs to
    ``gateway``: with an in-process gateway and not ``gateway``, a test fails at setup
    (that gateway's ``.client()`` is the in-process one)."""
    from harness.certification.plugin_inproc import sim_sleep
    from harness.client import IvanClient, RetryPolicy

    _refuse_in_process(request)
    gateway: GatewayView = request.getfixturevalue("gateway")
    retry = RetryPolicy(timeout=10, base_delay=0.05)
    client = IvanClient(gateway.url, gateway.token, retry=retry, sleep=sim_sleep(gateway))
    with client:
        yield client


def _refuse_in_process(request: pytest.FixtureRequest) -> None:
    """Fail before any server starts a test that pairs ``ivan_client`` with an in-process
    gateway without asking for ``gateway`` itself: it would pass without testing it.

    Asked for anywhere counts (its arguments, another fixture's, ``usefixtures``): called
    before ``ivan_client`` requests ``gateway``, the test's fixture names hold it only then."""
    if "gateway" in request.fixturenames:
        return
    for name in IN_PROCESS:
        if name in request.fixturenames:
            pytest.fail(CLIENT_CLASH.format(name=name), pytrace=False)


@pytest.fixture(scope="session")
def bhxh_dossier_factory(bhxh_catalog: Any, bhxh_pki: Any) -> DossierFactory:
    from harness.dossiers.factory import DossierFactory

    return DossierFactory(bhxh_catalog, bhxh_pki)


@pytest.fixture
def dossier_factory_for(
    bhxh_dossier_factory: DossierFactory, bhxh_options: PluginOptions
) -> Callable[[str], DossierFactory]:
    """``dossier_factory_for("IVAN02")``: a factory building for that I-VAN (a copy), or
    the test fails there, with a hint, for a code no envelope can carry (``ivan02``) or,
    on a local gateway, one it has no token for: every dossier would be refused."""

    def build_for(ivan: str) -> DossierFactory:
        return _checked_factory(bhxh_dossier_factory, ivan, local=not bhxh_options.gateway_url)

    return build_for


def _checked_factory(factory: DossierFactory, ivan: str, *, local: bool) -> DossierFactory:
    """``factory`` for ``ivan``, checked as ``dossier build --ivan`` checks a code; a
    refused one fails the test with the message and hint alone."""
    problem = _factory_problem(factory, ivan, local=local)
    if problem is not None:
        pytest.fail(problem, pytrace=False)  # outside `except`: no chained copy of it
    return factory.for_ivan(ivan)  # a copy even for the session's own: tests never share one


def _factory_problem(factory: DossierFactory, ivan: str, *, local: bool) -> str | None:
    """Why no dossier for ``ivan`` could be used (message and hint), or None."""
    from harness.conformance import factory_for_ivan
    from harness.errors import UsageError

    what = f"dossier_factory_for({ivan!r})"
    try:
        factory_for_ivan(factory, ivan, factory.pki.trust_store(), what=what)
        if local:
            _public_tokens(ivan, what)
    except (UsageError, pytest.UsageError) as exc:
        return str(exc)
    return None


@pytest.fixture
def dossier_factory(
    bhxh_options: PluginOptions, dossier_factory_for: Callable[[str], DossierFactory]
) -> DossierFactory:
    """Signed dossiers of any procedure of the catalog, for ``--bhxh-ivan``; this test's
    own copy, so changing it never leaks into another test."""
    return dossier_factory_for(bhxh_options.ivan)


__all__ = [
    "bhxh_gateway",
    "dossier_factory",
    "dossier_factory_for",
    "gateway",
    "inproc_gateway",
    "ivan_client",
    "responses_gateway",
]
