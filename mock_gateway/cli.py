"""``bhxh-harness serve``: the mock gateway as a real HTTP server.

The lead mounts :data:`serve` in the ``bhxh-harness`` group; ``python -m mock_gateway.cli``
runs it alone. Every usage problem (bad token option, unknown catalog version,
unreachable database) is one paragraph on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import click

from harness.cli_exits import exits_on_errors
from harness.cli_types import NAME, NOT_NEGATIVE, TOKEN
from harness.credentials import token_options
from harness.errors import ConfigError, UsageError
from harness.paths import writable_folder
from mock_gateway.config import DEFAULT_DATABASE_URL

EXIT_CODES = (
    "Exit codes: 0 stopped by Ctrl-C or SIGTERM (a server's normal end); 2 usage error, "
    "nothing served (e.g. a port in use, an address this machine lacks, an unknown catalog "
    "version or release, an unwritable database), or a worker that could not start; 3 "
    "the server could not start after every check passed (its error is in the log above)."
)


@click.command("serve", epilog=EXIT_CODES)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="TCP port.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=int,
    help="Worker processes (on Linux each has its own SO_REUSEPORT socket).",
)
@click.option(
    "--database-url",
    default=DEFAULT_DATABASE_URL,
    show_default=True,
    help="sqlite:///file.sqlite3 or postgresql+psycopg://user:pass@host/db",
)
@click.option(
    "--catalog",
    "catalogs",
    multiple=True,
    type=NAME,
    help="Catalog version to serve (repeatable; default: every version on disk).",
)
@click.option(
    "--clock-speed",
    default=1.0,
    show_default=True,
    type=NOT_NEGATIVE,
    help="Simulated seconds per real second (0 freezes the clock; admin API advances it).",
)
@click.option(
    "--ivan-token",
    "ivan_tokens",
    multiple=True,
    metavar="NAME=TOKEN",
    help="I-VAN credential (repeatable); NAME is the code its envelopes carry (MaIVAN, as the "
    "served catalogs' envelope schema allows, e.g. IVAN03); default: the well-known test "
    "tokens of IVAN01/IVAN02.",
)
@click.option(
    "--admin-token", default=None, type=TOKEN, help="Admin credential (default: the test token)."
)
@click.option(
    "--sqlite-synchronous",
    default="FULL",
    show_default=True,
    type=click.Choice(["FULL", "NORMAL"], case_sensitive=False),
    help="FULL: a receipted dossier survives power loss; NORMAL: survives a killed process.",
)
@click.option(
    "--faults",
    default="",
    help="Fault plan from fixtures/faults, e.g. "
    '"burst-503:count=5,retry_after=2; latency:seconds=0.1" (or later: PUT /admin/faults).',
)
@click.option("--faults-seed", default=0, show_default=True, type=int, help="Seed of fault draws.")
@click.option(
    "--release",
    default=None,
    help="Serve a seeded faulty release from fixtures/releases/ (regression-suite practice).",
)
@click.option(
    "--threads",
    default=None,
    type=click.IntRange(0, 64),
    help="Threads running the gateway core in each worker [default: 0: on the event loop, "
    "the cheapest per request, committing the dossiers checked in one loop turn together; "
    "N: a pool that keeps accepting connections while a commit waits for the disk].",
)
@click.option(
    "--reports",
    "reports",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of suite runs listed at /dashboard/runs [default: the project's reports/].",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"], case_sensitive=False),
    help="Server log verbosity (requests are not logged: the traffic log keeps them; admin "
    "actions are, at info; each fault event and unreadable request at debug).",
)
def serve(
    host: str,
    port: int,
    workers: int,
    database_url: str,
    catalogs: tuple[str, ...],
    clock_speed: float,
    ivan_tokens: tuple[str, ...],
    admin_token: str | None,
    sqlite_synchronous: str,
    faults: str,
    faults_seed: int,
    release: str | None,
    threads: int | None,
    reports: Path | None,
    log_level: str,
) -> None:
    """Run the mock BHXH gateway (a TEST system: every answer says THU_NGHIEM)."""
    from mock_gateway.config import GatewayConfig
    from mock_gateway.releases import load_release
    from mock_gateway.server import serve as run
    from mock_gateway.urls import redact_url

    with exits_on_errors():  # "error: ..." and a hint, exit 2, as every other command
        _check_host(host)
        _reports_folder(reports, create=False)
        tokens = token_options(ivan_tokens, catalogs=catalogs)  # codes MaIVAN can carry
        load_release(release)  # an unknown name fails here, with the known ones listed

        def announce() -> None:
            _refuse_unservable_catalogs(catalogs)  # after the cheap checks, before the banner
            _reports_folder(reports, create=True)  # a refused start leaves no folder behind
            click.echo(
                f"mock BHXH gateway (TEST ENVIRONMENT) on http://{_host(host)}:{port} "
                f"with {workers} worker(s), database {redact_url(database_url)}",
                err=True,
            )

        with _stopped_quietly():
            run(
                host=host,
                port=port,
                workers=workers,
                database_url=database_url,
                catalog_versions=catalogs,
                clock_speed=clock_speed,
                ivan_tokens=tokens or None,
                admin_token=admin_token,
                sqlite_synchronous=sqlite_synchronous.upper(),
                log_level=log_level,
                config=GatewayConfig(
                    release=release,
                    reports_directory=str(reports.resolve()) if reports else None,
                    core_threads=GatewayConfig.core_threads if threads is None else threads,
                ),
                faults=faults,
                faults_seed=faults_seed,
                on_ready=announce,
            )


_HOST_HINT = "give 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or one of its addresses"


def _check_host(host: str) -> None:
    """Refuse a --host this machine does not have, or cannot resolve, with what to give
    instead (the port is checked later, by the server: another message)."""
    if not host.strip():
        return  # the server's own checks say what an empty --host would do
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, 0))
        except socket.gaierror:
            raise ConfigError(
                f"--host {host} is not an address or a host name this machine resolves",
                hint=_HOST_HINT,
            ) from None
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:
                raise ConfigError(
                    f"--host {host} is not an address of this machine", hint=_HOST_HINT
                ) from None


def _reports_folder(reports: Path | None, *, create: bool) -> None:
    """--reports as the dashboard will read it: checked first, made (and said so) once the
    server is about to start, as --out folders are made; a mistyped name then shows as
    made, not as an empty run list without a word."""
    if reports is None or reports.is_dir():
        return
    writable_folder(
        reports,
        "the suite runs' reports",
        hint="name with --reports the folder your suite runs write to (their --out; "
        "default reports/)",
        create=create,
    )
    if create:
        click.echo(f"created {reports} for --reports: no suite run in it yet", err=True)


class _Stop(BaseException):  # like KeyboardInterrupt: no `except Exception` stops it
    """SIGTERM, after uvicorn has shut the server down (it re-raises the signal)."""


def _stop(_signum: int, _frame: object) -> None:
    raise _Stop


@contextlib.contextmanager
def _stopped_quietly() -> Iterator[None]:
    """A server stopped with Ctrl-C or SIGTERM has finished its work: exit 0, as servers
    do (``docker stop`` and systemd read anything else as a failure), with one worker
    as with several."""
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        yield
    except (KeyboardInterrupt, _Stop):
        click.echo("mock BHXH gateway stopped", err=True)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _refuse_unservable_catalogs(catalogs: tuple[str, ...]) -> None:
    """Refuse a served catalog the gateway itself cannot serve: a rule that fails when run
    (every such dossier answered 500), a signature node its XSD does not allow (the smoke
    run of ``catalog check``; skipped for data and code run before). A fault of the dossier
    factory's data only warns: real I-VANs' dossiers do not come from it."""
    from harness.catalog import list_versions, load_catalog
    from harness.dossiers.smoke import check_smoke_once
    from harness.signing import ensure_pki

    pki = ensure_pki()
    for version in catalogs or list_versions():
        try:
            warning = check_smoke_once(load_catalog(version), pki)
        except UsageError as exc:
            raise UsageError(f"cannot serve catalog {version}: {exc}") from None
        if warning:
            click.echo(warning, err=True)


def _host(host: str) -> str:
    """``host`` as a URL writes it: an IPv6 address in brackets (http://[::1]:8080)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess
    serve()
