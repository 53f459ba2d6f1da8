"""Gateway throughput, latency and memory, all measured in ONE run (issue 3, Performance).

Prints, for accepted signed dossiers (every answer is checked to be 202):

* small dossiers/s in-process (``Gateway.handle`` on one core), p50/p99 latency. "Small"
  is the smallest signed dossier the catalog allows (the procedure is picked from the
  data): about 8 KB, not the issue's 5 KB, because DOMAIN.md's profile puts the signer's
  certificate in every signature and the signed form travels base64-encoded;
* the same over HTTP against ``mock_gateway.cli --workers 2`` at a few levels of
  concurrent keep-alive clients: dossiers/s, p50/p99 latency, the server's CPU per
  dossier and the load generator's (it shares the two cores), and the HTTP /
  in-process ratio;
* ~200 KB dossiers/s in-process and over HTTP with 2 workers (the procedure whose
  forms grow most per row), after the rounds;
* RSS before and after a long in-process run (flat memory is the target);
* lxml XSD validations/s versus xmlschema on the small dossier's form (diagnostic only: xmlschema is
  not on the hot path).

The in-process and HTTP figures are measured in ``--rounds`` interleaved rounds (default
3) and printed as the median with the range: identical runs on a shared machine differ
by up to 40%, and a noisy minute should widen a range, not move one figure. The ratio is
taken within each round.

Dossiers are built and signed before any clock starts (signing is the client's cost),
then sent again and again under fresh ``X-Message-Id`` values, so each one is a new
stored dossier. The clients are coroutines on one event loop sending pre-encoded requests
over kept-alive connections (:func:`over_http`): on a small machine the client shares the
CPU with the server, and the lighter the client, the less it disturbs the measurement.

The server's clock is frozen by default, so the HTTP figures are the intake alone; with
``--clock-speed 3600`` its processor issues every dossier's 02/TB-TS and 03/TB-TS within
seconds, as in a fast load test, and the run ends by printing how far it is behind. With
``--database-url postgresql+psycopg://...`` the HTTP server stores in PostgreSQL, and a
PostgreSQL server on this machine has its CPU per dossier printed too::

    python benchmarks/bench_gateway.py [--count 2000] [--http-count 4000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import math
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from _cli import benchmark_parser
from _timing import rate
from lxml import etree
from sqlalchemy import make_url, text

from harness.catalog import load_catalog
from harness.dossiers.factory import Dossier, DossierFactory
from harness.percentiles import nearest_rank
from harness.signing import ensure_pki
from mock_gateway.config import GatewayConfig
from mock_gateway.engine import open_engine
from mock_gateway.testing import InProcessGateway, ServerProcess

try:
    _uvloop: Any = importlib.import_module("uvloop")  # installed with uvicorn[standard]
except ImportError:
    _uvloop = None


BIG_CLIENTS = 4
"""Concurrent clients sending 200 KB dossiers: enough to keep both workers busy."""


def by_size(factory: DossierFactory) -> list[str]:
    """The catalog's procedures, smallest one-row signed dossier first (data, not codes)."""
    sizes = {
        code: len(factory.build(code, 1, rows=1).envelope) for code in factory.catalog.procedures
    }
    return sorted(sizes, key=lambda code: (sizes[code], code))


def per_row(factory: DossierFactory, procedure: str) -> float:
    """Bytes a dossier of ``procedure`` grows by per extra form row (0 for one-row forms)."""
    one = len(factory.build(procedure, 1, rows=1).envelope)
    return (len(factory.build(procedure, 1, rows=5).envelope) - one) / 4


def build(
    factory: DossierFactory, procedure: str, target: int, pool: int, seed: int = 1
) -> list[Dossier]:
    """``pool`` dossiers of ``procedure`` of at least ``target`` bytes.

    Rows are extrapolated from the growth per row, then corrected, so a big dossier costs
    a few builds rather than a long doubling walk.
    """
    base = len(factory.build(procedure, seed, rows=1).envelope)
    growth = per_row(factory, procedure) if base < target else 0.0
    rows = 1 if growth <= 0 else 1 + math.ceil((target - base) / growth)
    while growth > 0 and len(factory.build(procedure, seed, rows=rows).envelope) < target:
        rows = math.ceil(rows * 1.05) + 1
    return [factory.build(procedure, seed + i, rows=rows) for i in range(pool)]


def benchmark_factory() -> DossierFactory:
    """Catalog 2024.1's factory over the test PKI (``$BHXH_HARNESS_PKI`` if set)."""
    configured = os.environ.get("BHXH_HARNESS_PKI")
    pki = ensure_pki(Path(configured) if configured else None)
    return DossierFactory(load_catalog("2024.1"), pki)


def small_bodies(factory: DossierFactory, pool: int) -> tuple[str, list[bytes]]:
    """The smallest procedure and ``pool`` distinct signed envelopes of it (the issue's
    "5 KB" dossier; the catalog's smallest is about 8 KB)."""
    procedure = by_size(factory)[0]
    return procedure, [d.envelope for d in build(factory, procedure, 5_000, pool)]


def big_bodies(factory: DossierFactory, pool: int) -> tuple[str, list[bytes]]:
    """The procedure whose forms grow most per row and ``pool`` distinct signed envelopes
    of it of about 200 KB (the issue's big dossier)."""
    procedure = max(by_size(factory), key=lambda code: per_row(factory, code))
    return procedure, [d.envelope for d in build(factory, procedure, 200_000, pool, seed=10_000)]


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank, as every figure of the harness (``q`` from 0 to 1)."""
    return nearest_rank(values, q * 100.0) or 0.0


def in_process(
    gw: InProcessGateway, bodies: Sequence[bytes], count: int
) -> tuple[float, list[float]]:
    """Dossiers/s and latencies (s) of ``count`` submissions through ``Gateway.handle``."""
    latencies: list[float] = []
    start = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        answer = gw.submit(bodies[i % len(bodies)])
        latencies.append(time.perf_counter() - t0)
        if answer.status != 202:
            raise SystemExit(f"dossier {i} was not accepted: {answer.status} {answer.outcome}")
    return count / (time.perf_counter() - start), latencies


def post(host: str, token: str, body: bytes) -> bytes:
    """``POST /api/v1/dossiers`` with a fresh ``X-Message-Id``, as bytes on the wire."""
    head = (
        f"POST /api/v1/dossiers HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/xml\r\n"
        f"X-Message-Id: {uuid.uuid4().hex}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """Send one request on a kept-alive connection; the status once the body has arrived."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for header in head.split(b"\r\n")[1:]:
        name, _, value = header.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(head.split(b" ", 2)[1])


async def _clients(
    host: str, port: int, requests: Sequence[bytes], clients: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = iter(requests)  # shared: a connection the server serves faster takes more

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        for request in queue:
            t0 = time.perf_counter()
            status = await _exchange(reader, writer, request)
            latencies.append(time.perf_counter() - t0)
            if status != 202:
                raise RuntimeError(f"not accepted over HTTP: {status}")
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return len(latencies) / (time.perf_counter() - start), latencies


def over_http(
    url: str, token: str, bodies: Sequence[bytes], count: int, clients: int
) -> tuple[float, list[float]]:
    """Dossiers/s and latencies (s) with ``clients`` concurrent keep-alive connections.

    The clients are coroutines on one event loop sending pre-encoded requests: the load
    generator shares two cores with the server, so every microsecond it spends is taken
    from the server under test, and threads (``http.client``) cost far more per request
    in GIL hand-offs than the server's own work. The connections draw from one queue of
    requests: the kernel may hand 10 connections to one worker and 6 to the other, and a
    fixed share per connection would leave the lighter worker idle at the end.
    """
    host, port = url.removeprefix("http://").split(":")
    requests = [post(host, token, bodies[i % len(bodies)]) for i in range(count)]
    runner = asyncio.new_event_loop() if _uvloop is None else _uvloop.new_event_loop()
    try:
        return runner.run_until_complete(_clients(host, int(port), requests, clients))
    finally:
        runner.close()


def cpu_seconds(process: psutil.Process) -> float:
    """User + system CPU of ``process`` and its children (the server's workers) so far.

    CPU per request is the figure to compare between runs: throughput on a shared
    machine swings by half between identical runs, CPU time far less.
    """
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
        except psutil.Error:  # a worker that just exited
            continue
        total += times.user + times.system
    return total


def xsd_rates(dossier: Dossier, seconds: float) -> tuple[float, float, int]:
    """lxml and xmlschema validations/s of the dossier's first form, and its size."""
    import xmlschema

    form = dossier.forms[0]
    content = form.content
    xsd = form.form.xsd
    lxml_schema = etree.XMLSchema(etree.parse(str(xsd)))
    doc = etree.fromstring(content)
    if not lxml_schema.validate(doc):
        raise SystemExit(f"the form is not schema-valid: {lxml_schema.error_log}")
    slow = xmlschema.XMLSchema(str(xsd))
    return (
        rate(lambda: lxml_schema.validate(doc), seconds, warm_up=10),
        rate(lambda: slow.is_valid(content), seconds, warm_up=10),
        len(content),
    )


def line(label: str, per_second: float, latencies: Sequence[float] | None = None) -> str:
    out = f"{label:<44} {per_second:9.1f} /s"
    if latencies:
        out += (
            f"   p50 {percentile(latencies, 0.50) * 1000:6.2f} ms"
            f"   p99 {percentile(latencies, 0.99) * 1000:6.2f} ms"
        )
    return out


@dataclass
class Round:
    """One round's figures: in-process, then each client level over HTTP."""

    in_rate: float
    in_latencies: list[float]
    http: dict[int, tuple[float, list[float], float, float, float | None]] = field(
        default_factory=dict
    )
    """clients -> (dossiers/s, latencies, server, client and local database server CPU ms
    per dossier; None: no local database server)"""


def local_database_server(database_url: str | None) -> psutil.Process | None:
    """The PostgreSQL postmaster serving ``database_url`` on this machine, whose backends
    spend CPU on the same cores as the server (None for SQLite or a remote database)."""
    if database_url is None or not database_url.startswith("postgresql"):
        return None
    if make_url(database_url).host not in ("127.0.0.1", "localhost", "::1", None):
        return None
    for process in psutil.process_iter(["name", "ppid"]):
        with contextlib.suppress(psutil.Error):
            if process.info["name"] == "postgres":
                parent = psutil.Process(process.info["ppid"])
                if parent.name() != "postgres":
                    return process
    return None


def one_round(
    gw: InProcessGateway,
    url: str,
    token: str,
    trees: tuple[psutil.Process, psutil.Process | None],
    bodies: Sequence[bytes],
    args: argparse.Namespace,
) -> Round:
    """``trees``: the server's process and the local database server's, if any."""
    server, database = trees
    in_rate, in_lat = in_process(gw, bodies, args.count)
    result = Round(in_rate, in_lat)
    for clients in args.clients:
        spent, client = cpu_seconds(server), time.process_time()
        database_spent = cpu_seconds(database) if database is not None else 0.0
        http_rate, http_lat = over_http(url, token, bodies, args.http_count, clients)
        per_request = (cpu_seconds(server) - spent) / len(http_lat) * 1000
        client_per_request = (time.process_time() - client) / len(http_lat) * 1000
        database_per_request = (
            (cpu_seconds(database) - database_spent) / len(http_lat) * 1000
            if database is not None
            else None
        )
        result.http[clients] = (
            http_rate,
            http_lat,
            per_request,
            client_per_request,
            database_per_request,
        )
    return result


def lifecycle_backlog(database_url: str) -> str:
    """Dossiers per lifecycle status in the server's store: with a running clock, how far
    the processor is behind the intake (``received`` ones wait for their 02/TB-TS)."""
    engine = open_engine(database_url)
    try:
        with engine.connect() as db:
            sql = "SELECT status, count(*) FROM dossiers GROUP BY status ORDER BY 1"
            rows = db.execute(text(sql)).all()
    finally:
        engine.dispose()
    return ", ".join(f"{count} {status}" for status, count in rows)


def spread(values: Sequence[float], unit: str, digits: int = 0) -> str:
    """``median (min-max) unit`` over the rounds."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f} {unit}".rstrip()
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:.{digits}f} ({low:.{digits}f}-{high:.{digits}f}) {unit}".rstrip()


def report(rounds: Sequence[Round], levels: Sequence[int]) -> None:
    """Each figure as the median of the rounds with its range, and the HTTP / in-process
    ratio of each round (both measured within the same minute)."""
    print(f"{len(rounds)} round(s); median (min-max) over rounds")
    print(
        f"{'in-process small (Gateway.handle, 1 core)':<44} "
        f"{spread([r.in_rate for r in rounds], '/s')}   "
        f"p50 {spread([percentile(r.in_latencies, 0.50) * 1000 for r in rounds], 'ms', 1)}   "
        f"p99 {spread([percentile(r.in_latencies, 0.99) * 1000 for r in rounds], 'ms', 1)}"
    )
    for clients in levels:
        figures = [r.http[clients] for r in rounds]
        print(
            f"{f'HTTP small, 2 workers, {clients} clients':<44} "
            f"{spread([f[0] for f in figures], '/s')}   "
            f"p50 {spread([percentile(f[1], 0.50) * 1000 for f in figures], 'ms', 1)}   "
            f"p99 {spread([percentile(f[1], 0.99) * 1000 for f in figures], 'ms', 1)}"
        )
        print(
            f"   server CPU per dossier: {spread([f[2] for f in figures], 'ms', 2)}   "
            f"load generator's: {spread([f[3] for f in figures], 'ms', 2)}"
        )
        database = [f[4] for f in figures if f[4] is not None]
        if database:
            print(f"   the PostgreSQL server's CPU per dossier: {spread(database, 'ms', 2)}")
    ratios = [max(f[0] for f in r.http.values()) / r.in_rate for r in rounds]
    print(f"   HTTP (best level) / in-process ratio, per round: {spread(ratios, '', 2)}")


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """``--clock-speed`` and ``--database-url`` of the HTTP server a benchmark starts."""
    parser.add_argument(
        "--clock-speed",
        type=float,
        default=0.0,
        help="the HTTP server's simulated s per real s (0: frozen, intake alone; 3600: every "
        "dossier's 02/TB-TS and 03/TB-TS fall due within seconds, as in a fast load test)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="the HTTP server's store, e.g. postgresql+psycopg://user@host/db (default: a "
        "SQLite file in a temporary folder; in-process runs always use SQLite)",
    )


def main() -> None:
    parser = benchmark_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="in-process small submissions")
    parser.add_argument("--http-count", type=int, default=4000, help="HTTP submissions")
    parser.add_argument(
        "--clients",
        type=lambda text: [int(n) for n in text.split(",")],
        default="4,16",
        help="concurrent HTTP clients, comma-separated levels",
    )
    parser.add_argument("--big-count", type=int, default=100, help="200 KB submissions")
    parser.add_argument("--long", type=int, default=10_000, help="submissions in the RSS run")
    parser.add_argument("--pool", type=int, default=200, help="distinct pre-signed dossiers")
    parser.add_argument("--seconds", type=float, default=2.0, help="per XSD rate")
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds of the in-process and HTTP runs"
    )
    add_server_options(parser)
    args = parser.parse_args()

    factory = benchmark_factory()
    pki = factory.pki
    procedure = by_size(factory)[0]
    small = build(factory, procedure, 5_000, args.pool)
    big_procedure, big = big_bodies(factory, max(4, args.pool // 20))
    small_envelopes = [d.envelope for d in small]
    print(
        f"cores: {os.cpu_count()}   small dossier: procedure {procedure}, "
        f"{len(small_envelopes[0])} B   big dossier: procedure {big_procedure}, "
        f"{len(big[0])} B"
    )

    rounds: list[Round] = []
    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("BHXH_HARNESS_PKI", str(pki.directory))  # the server trusts it
        with (
            InProcessGateway(pki=pki) as gw,
            ServerProcess(
                Path(folder) / "bench.sqlite3",
                workers=2,
                clock_speed=args.clock_speed,
                database_url=args.database_url,
            ) as server,
        ):
            gw.gateway.warm_up()
            in_process(gw, small_envelopes, 200)
            ivan_token = GatewayConfig().ivan_tokens["IVAN01"]
            over_http(server.url, ivan_token, small_envelopes, 200, 4)  # warm both workers
            assert server.process is not None
            trees = (
                psutil.Process(server.process.pid),
                local_database_server(args.database_url),
            )
            for _ in range(args.rounds):  # interleaved: a noisy minute hits every figure
                rounds.append(one_round(gw, server.url, ivan_token, trees, small_envelopes, args))
            backlog = lifecycle_backlog(server.database_url)  # the small rounds' alone
            big_rate, big_lat = in_process(gw, big, args.big_count)
            big_http = over_http(server.url, ivan_token, big, args.big_count, BIG_CLIENTS)
    report(rounds, args.clients)
    if args.database_url:
        print("   the HTTP server stored in --database-url (the in-process runs in SQLite)")
    if args.clock_speed > 0:
        print(f"   lifecycle when the HTTP rounds ended (clock x{args.clock_speed:g}): {backlog}")
    print(line("in-process 200 KB (Gateway.handle, 1 core)", big_rate, big_lat))
    print(line(f"HTTP 200 KB, 2 workers, {BIG_CLIENTS} clients", *big_http))

    process = psutil.Process()
    with InProcessGateway(pki=pki) as gw:
        gw.gateway.warm_up()
        in_process(gw, small_envelopes, min(1000, args.long))
        before = process.memory_info().rss
        long_rate, _ = in_process(gw, small_envelopes, args.long)
        after = process.memory_info().rss
    print(line(f"long run ({args.long} in-process)", long_rate))
    print(
        f"   RSS before {before / 2**20:.1f} MiB, after {after / 2**20:.1f} MiB, "
        f"growth {(after - before) / 2**20:+.1f} MiB"
    )

    fast, slow, size = xsd_rates(small[0], args.seconds)
    print(line(f"XSD lxml ({size} B {small[0].forms[0].form.form} form)", fast))
    print(line("XSD xmlschema (diagnostic only)", slow))


if __name__ == "__main__":
    main()
