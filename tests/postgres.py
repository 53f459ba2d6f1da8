"""A throwaway PostgreSQL server for the tests that need a real one.

Starts ``initdb`` + ``pg_ctl`` in a temporary folder on a free loopback port (as the
``postgres`` user when the tests run as root, since PostgreSQL refuses root), and yields
a SQLAlchemy URL. Where PostgreSQL or its driver is missing, tests skip with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield ``postgresql+psycopg://...`` for a fresh cluster; skip if impossible here."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (pip install -e '.[test]' adds it)")
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql)")
    prefix: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="bhxh-pg-"))
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL")
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres")
    data, port = folder / "data", _free_port()
    run = lambda *args: subprocess.run(  # noqa: E731
        [*prefix, *args], check=True, capture_output=True, timeout=60
    )
    try:
        run(initdb, "-D", str(data), "-U", "bhxh", "--auth=trust", "-E", "UTF8", "--locale=C")
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=on"
        run(pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        detail = getattr(exc, "stderr", b"") or b""
        pytest.skip(
            f"PostgreSQL could not start here: {exc} {detail.decode(errors='replace')[:300]}"
        )
    try:
        yield f"postgresql+psycopg://bhxh@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def fresh_database(server_url: str, prefix: str) -> Iterator[str]:
    """The URL of a new, empty database on the server of ``server_url``, dropped after."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def fresh_store_url(request: pytest.FixtureRequest, folder: Path, name: str) -> Iterator[str]:
    """A store URL for a fixture parametrised ``["sqlite", "postgresql"]``: a SQLite file
    ``<name>.sqlite3`` in ``folder``, or a new database on the session's PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{folder / f'{name}.sqlite3'}"
        return
    with fresh_database(request.getfixturevalue("postgres_url"), name) as url:
        yield url
