"""Run the gateway as a real HTTP server with uvicorn.

With one worker the app is built here and handed to uvicorn as an object. With several,
worker processes import :func:`mock_gateway.faulty_app.app_factory` by name, so the
settings travel in ``$BHXH_GATEWAY_CONFIG``. On Linux each worker listens on its own
``SO_REUSEPORT`` socket (:mod:`mock_gateway.workers`), elsewhere uvicorn's supervisor
shares one; their ``/metrics`` meet in a folder in /tmp (:mod:`mock_gateway.metrics_folders`).
Everything that can be wrong with the settings (database URL, catalog versions, PKI) is
checked here first, in the parent, so a bad option is one clear message instead of N
crashing workers.
"""

from __future__ import annotations

import copy
import importlib.util
import logging
import logging.config
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import uvicorn
import uvicorn.config
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from harness.catalog import load_catalog
from harness.catalog.model import period_key
from harness.errors import ConfigError, UsageError
from harness.served_catalogs import ServedCatalogs
from harness.signing import ensure_pki
from mock_gateway import schema, serve_lock
from mock_gateway import workers as workers_module
from mock_gateway.config import DEFAULT_DATABASE_URL, MAX_CLOCK_SPEED, GatewayConfig
from mock_gateway.core import Gateway
from mock_gateway.engine import memory_database
from mock_gateway.fault_profiles import build_plan, load_profiles
from mock_gateway.faulty_app import (
    ENV_FAULTS,
    ENV_FAULTS_SEED,
    FaultSpec,
    FaultyGateway,
    create_faulty_app,
    parse_spec,
    publish_plan,
)
from mock_gateway.http_head import CappedHeadProtocol
from mock_gateway.intake import CatalogSet
from mock_gateway.metrics_folders import metrics_folder, remove_stale_metrics_folders
from mock_gateway.store import Store
from mock_gateway.urls import redact_in, redact_url

log = logging.getLogger(__name__)


def _fastest(module: str, fallback: str) -> str:
    return module if importlib.util.find_spec(module) is not None else fallback


def build_config(
    *,
    database_url: str = DEFAULT_DATABASE_URL,
    catalog_versions: Sequence[str] = (),
    clock_speed: float = 1.0,
    ivan_tokens: Mapping[str, str] | None = None,
    admin_token: str | None = None,
    sqlite_synchronous: str = "FULL",
    base: GatewayConfig | None = None,
    workers: int = 1,
) -> GatewayConfig:
    """A :class:`GatewayConfig` from server options (``base`` supplies everything else)."""
    config = base or GatewayConfig()
    changes: dict[str, object] = {
        "database_url": database_url,
        "catalog_versions": tuple(catalog_versions),
        "clock_speed": clock_speed,
        "sqlite_synchronous": sqlite_synchronous,
        "workers": workers,
    }
    if ivan_tokens:
        changes["ivan_tokens"] = dict(ivan_tokens)
    if admin_token:
        changes["admin_token"] = admin_token
    return config.with_changes(**changes)


def preflight(
    config: GatewayConfig, faults: list[FaultSpec] | None = None, faults_seed: int = 0
) -> None:
    """Fail fast, with a :class:`ConfigError`, on anything a worker would trip over.

    Also publishes the starting fault plan (none by default) in the database, so a plan a
    previous run left there is replaced before any worker starts.
    """
    CatalogSet(config.catalog_versions)
    pki = ensure_pki(config.pki_path)
    pki.trust_store()  # a damaged file of the test PKI is refused here, before the banner
    for name in pki.names():
        pki.credential(name)
    build_plan(faults or [], load_profiles(), faults_seed, 0.0, pki)  # every value checked
    store = Store(config.database_url, synchronous=config.sqlite_synchronous)
    try:
        publish_plan(store, faults or [], faults_seed)
    except SQLAlchemyError as exc:  # a read-only file or folder, a read-only role
        cause = getattr(exc, "orig", None) or exc
        raise ConfigError(
            f"cannot write to database {redact_url(config.database_url)}: "
            f"{redact_in(cause, config.database_url)}",
            hint="the gateway stores every dossier: make the database writable by this user "
            "(for SQLite, the file and its folder, where it keeps -wal and -shm files "
            "beside it), or give another --database-url",
        ) from exc
    finally:
        store.close()


def stored_versions(store: Store) -> dict[str, int]:
    """Dossiers in ``store`` by the catalog version they were accepted under (one scan of
    the table: 26 ms over 10,000 dossiers on SQLite, 224 ms over 100,000; once, at start)."""
    d = schema.dossiers
    query = select(d.c.catalog_version, func.count()).group_by(d.c.catalog_version)
    with store.read() as conn:
        return {str(version): int(n) for version, n in conn.execute(query).all()}


def _new_dossiers(version: str, served: ServedCatalogs) -> str:
    """What happens now to a new dossier of a period ``version`` governed."""
    try:
        start = load_catalog(version).effective_from
    except UsageError:  # no longer on disk: nothing to say of its periods
        return f"{version} is no longer on disk"
    oldest = served.catalogs[0]
    if period_key(start) < period_key(oldest.effective_from):
        return f"new dossiers for periods before {oldest.effective_from} are refused (ENV-009)"
    judge = served.for_period(start).version
    return f"new dossiers for {version}'s periods are checked under {judge}"


def note_unserved_catalogs(config: GatewayConfig) -> None:
    """Warn once, at start, when the store holds dossiers of catalog versions not served:
    a restart with another ``--catalog`` set was silent, though it changes what is refused."""
    store = Store(config.database_url, synchronous=config.sqlite_synchronous)
    try:
        stored = stored_versions(store)
    finally:
        store.close()
    served = ServedCatalogs(config.catalog_versions)
    unserved = sorted(set(stored) - set(served.versions))
    if not unserved:
        return
    held = ", ".join(f"{v} ({stored[v]} dossier{'' if stored[v] == 1 else 's'})" for v in unserved)
    log.warning(
        "the store holds dossiers of catalog versions not served now: %s (served: %s); "
        "their lifecycle (02/TB-TS, 03/TB-TS) continues under the version each was "
        "accepted under; %s; start with --catalog %s to accept them again",
        held,
        ", ".join(served.versions),
        "; ".join(dict.fromkeys(_new_dossiers(v, served) for v in unserved)),
        " --catalog ".join([*unserved, *served.versions]),
    )


PER_REQUEST_LOGGERS = ("mock_gateway.faults", "mock_gateway.http_head")
"""Loggers with an INFO line per request (each fault event, each unreadable request):
shown at ``--log-level debug`` only, as the traffic log keeps every request anyway."""


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging set-up with the gateway's own loggers on its handler at ``level``:
    without a handler their INFO lines (admin actions, say) went nowhere."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    level = level.upper()
    config["loggers"]["mock_gateway"] = {"handlers": ["default"], "level": level}
    for name in PER_REQUEST_LOGGERS:
        config["loggers"][name] = {"level": "DEBUG" if level == "DEBUG" else "WARNING"}
    return config


MAX_WORKERS = max(16, 4 * (os.cpu_count() or 1))
"""Worker processes a server may start: --workers 100000 ran the machine out of memory."""


def check_options(host: str, port: int, workers: int, database_url: str, speed: float) -> None:
    """Refuse, with a :class:`ConfigError` saying what to give instead, options that
    would start a server that misbehaves rather than fails."""
    if not host.strip():  # uvicorn would listen on every interface and print http://:PORT
        raise ConfigError(
            "--host is empty",
            hint="give 127.0.0.1 for this machine only, or 0.0.0.0 to listen on every "
            "interface on purpose",
        )
    if workers < 1:
        raise ConfigError(
            f"--workers {workers}: at least 1",
            hint="--workers 1 serves in this process; 2 or more start worker processes",
        )
    if workers > MAX_WORKERS:
        raise ConfigError(
            f"--workers {workers}: at most {MAX_WORKERS} on this machine",
            hint="more workers than cores only adds memory (each holds the catalogs and PKI)",
        )
    if not 0 < port < 65536:
        raise ConfigError(
            f"--port {port} is not a TCP port",
            hint="give a port from 1 to 65535 (8080, say); serve picks no free port itself",
        )
    if workers > 1 and memory_database(database_url):
        raise ConfigError(
            f"--workers {workers} with the in-memory database {database_url!r} would give "
            "each worker its own: a dossier stored by one would be unknown to the others, "
            "and a retried X-Message-Id could get a second receipt",
            hint="use a file (--database-url sqlite:///bhxh-gateway.sqlite3) or PostgreSQL, "
            "or --workers 1",
        )
    if speed > MAX_CLOCK_SPEED:
        raise ConfigError(
            f"--clock-speed {speed:g} is too fast: at most {MAX_CLOCK_SPEED:.0f} simulated "
            "seconds per real second",
            hint="a simulated year passes in 5 real minutes at the most; "
            "POST /admin/clock/advance jumps further at once",
        )


def serve(
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    database_url: str = DEFAULT_DATABASE_URL,
    catalog_versions: Sequence[str] = (),
    clock_speed: float = 1.0,
    *,
    ivan_tokens: Mapping[str, str] | None = None,
    admin_token: str | None = None,
    sqlite_synchronous: str = "FULL",
    log_level: str = "info",
    config: GatewayConfig | None = None,
    faults: str = "",
    faults_seed: int = 0,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve until interrupted; raises :class:`ConfigError` for unusable options.

    ``on_ready`` is called once every option is checked and the port is free, just
    before the server starts (the CLI announces itself there, not before a refusal).
    """
    check_options(host, port, workers, database_url, clock_speed)
    specs = parse_spec(faults)  # checked in full by preflight, before any worker starts
    cfg = build_config(
        database_url=database_url,
        catalog_versions=catalog_versions,
        clock_speed=clock_speed,
        ivan_tokens=ivan_tokens,
        admin_token=admin_token,
        sqlite_synchronous=sqlite_synchronous,
        base=config,
        workers=workers,
    )
    workers_module.check_port(host, port)  # one clear message, not one per worker
    with serve_lock.serving(cfg.database_url):  # a second server would change our settings
        preflight(cfg, specs, faults_seed)  # after the port check: it creates the database
        if on_ready is not None:
            on_ready()
        _run(host, port, workers, cfg, (specs, faults, faults_seed), log_level)


def _run(
    host: str,
    port: int,
    workers: int,
    cfg: GatewayConfig,
    plan: tuple[list[FaultSpec], str, int],
    log_level: str,
) -> None:
    """Serve with uvicorn, in this process or in ``workers`` worker processes; ``plan``
    is the starting fault plan, parsed, as given and its seed."""
    specs, faults, faults_seed = plan
    remove_stale_metrics_folders()  # what servers killed with SIGKILL left in /tmp
    logging_setup = log_config(log_level)
    logging.config.dictConfig(logging_setup)  # here too: the note below is the parent's
    note_unserved_catalogs(cfg)
    options: dict[str, object] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "log_config": logging_setup,  # every worker's gateway loggers too
        "loop": _fastest("uvloop", "asyncio"),
        "http": CappedHeadProtocol,  # httptools, with a cap on the request head
        "access_log": False,  # the traffic log is the access log, and it is much richer
        "timeout_keep_alive": 30,
    }
    # every answer goes through the fault layer, so a plan can also be set later
    if workers == 1:  # through PUT /admin/faults
        gateway = FaultyGateway(Gateway(cfg), specs, seed=faults_seed)
        uvicorn.run(create_faulty_app(gateway), **options)  # type: ignore[arg-type]
        return
    with metrics_folder() as shared:
        cfg.with_changes(metrics_dir=shared).to_env()  # /metrics sums every worker
        os.environ[ENV_FAULTS], os.environ[ENV_FAULTS_SEED] = faults, str(faults_seed)
        if workers_module.supported():  # a socket per worker: connections spread evenly
            workers_module.Workers(workers, host, port, options).run()
            return
        uvicorn.run(
            "mock_gateway.faulty_app:app_factory",
            factory=True,
            workers=workers,
            **options,  # type: ignore[arg-type]
        )
