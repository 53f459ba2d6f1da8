"""Server memory over a long HTTP run: the issue's "memory flat over a 100,000-dossier run".

Starts the real server (``mock_gateway.cli --workers 2`` on a SQLite file in a temporary
folder), sends ``--dossiers`` accepted signed dossiers over HTTP in ``--checkpoints``
equal chunks with the same light client as ``bench_gateway.py``, and after each chunk
prints the resident memory (RSS) of every server process, the store's size on disk and
the chunk's rate. Memory is judged from the first checkpoint on (caches, SQLite's page
cache and the allocator's arenas fill during the first thousands of dossiers): the
growth from there to the end, in total and per 10,000 dossiers, is what "flat" means.

With ``--clock-speed 3600`` the lifecycle runs too (two signed messages per dossier, and
the feed's tables grow three times as fast); ``--database-url`` points the server at a
PostgreSQL database instead of the SQLite file::

    python benchmarks/bench_memory.py [--dossiers 100000] [--checkpoints 10] [--clients 16]
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import psutil
from _cli import benchmark_parser
from bench_gateway import (
    add_server_options,
    benchmark_factory,
    lifecycle_backlog,
    over_http,
    small_bodies,
)
from sqlalchemy import text

from mock_gateway.config import GatewayConfig
from mock_gateway.engine import open_engine
from mock_gateway.testing import ServerProcess

MiB = 2**20


def server_rss(root: psutil.Process) -> list[int]:
    """RSS of the supervisor and of each worker, supervisor first (multiprocessing's
    resource tracker, a small helper that holds no gateway state, is left out)."""
    sizes = []
    for member in [root, *root.children(recursive=True)]:
        try:
            if "resource_tracker" not in " ".join(member.cmdline()):
                sizes.append(member.memory_info().rss)
        except psutil.Error:  # a process that just exited
            continue
    return sizes


def store_size(database_url: str) -> int:
    """Bytes on disk of the store: the SQLite file with its WAL, or the PostgreSQL database."""
    engine = open_engine(database_url)
    try:
        if engine.dialect.name == "postgresql":
            with engine.connect() as db:
                return int(db.execute(text("SELECT pg_database_size(current_database())")).one()[0])
        database = Path(str(engine.url.database))
        return sum(p.stat().st_size for p in database.parent.glob(database.name + "*"))
    finally:
        engine.dispose()


def main() -> None:
    parser = benchmark_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=100_000, help="dossiers sent in all")
    parser.add_argument("--checkpoints", type=int, default=10, help="RSS samples (chunks)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients")
    parser.add_argument("--pool", type=int, default=200, help="distinct pre-signed dossiers")
    add_server_options(parser)
    args = parser.parse_args()
    chunk = max(1, args.dossiers // args.checkpoints)

    factory = benchmark_factory()
    procedure, bodies = small_bodies(factory, args.pool)
    token = GatewayConfig().ivan_tokens["IVAN01"]
    print(
        f"procedure {procedure}, {len(bodies[0])} B signed dossier; {args.dossiers} dossiers "
        f"over HTTP, 2 workers, {args.clients} clients, clock x{args.clock_speed:g}"
    )
    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("BHXH_HARNESS_PKI", str(factory.pki.directory))
        database = Path(folder) / "memory.sqlite3"
        with ServerProcess(
            database, workers=2, clock_speed=args.clock_speed, database_url=args.database_url
        ) as server:
            assert server.process is not None
            root = psutil.Process(server.process.pid)
            over_http(server.url, token, bodies, 200, 4)  # warm both workers
            heading = f"{'dossiers':>9} {'rate /s':>8} {'store MiB':>10}"
            print(f"\n{heading}  RSS MiB (supervisor, workers)")
            samples: list[tuple[int, list[int]]] = []
            sent = 0
            while sent < args.dossiers:
                count = min(chunk, args.dossiers - sent)
                start = time.perf_counter()
                over_http(server.url, token, bodies, count, args.clients)
                rate = count / (time.perf_counter() - start)
                sent += count
                sizes = server_rss(root)
                samples.append((sent, sizes))
                shown = ", ".join(f"{s / MiB:.1f}" for s in sizes)
                print(
                    f"{sent:9d} {rate:8.0f} {store_size(server.database_url) / MiB:10.0f}  {shown}"
                )
            backlog = lifecycle_backlog(server.database_url) if args.clock_speed > 0 else ""

    (first_count, first), (last_count, last) = samples[0], samples[-1]
    growth = (sum(last) - sum(first)) / MiB
    per_10k = growth / max(1, last_count - first_count) * 10_000
    print(
        f"\nserver RSS from {first_count} to {last_count} dossiers: "
        f"{sum(first) / MiB:.1f} -> {sum(last) / MiB:.1f} MiB, "
        f"growth {growth:+.1f} MiB ({per_10k:+.2f} MiB per 10,000 dossiers)"
    )
    if backlog:
        print(f"lifecycle at the end: {backlog}")


if __name__ == "__main__":
    main()
