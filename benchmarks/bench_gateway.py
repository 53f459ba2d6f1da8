"""Gateway throughput, latency and memory, all measured in ONE run (issue 3, Performance).

Prints, for accepted signed dossiers (every answer is checked to be 202):

* ~5 KB dossiers/s in-process (``Gateway.handle`` on one core), p50/p99 latency;
* the same over HTTP against ``mock_gateway.cli --workers 2`` with many concurrent
  keep-alive clients, p50/p99 latency, and the HTTP / in-process ratio;
* ~200 KB dossiers/s in-process;
* RSS before and after a long in-process run (flat memory is the target);
* lxml XSD validations/s versus xmlschema on a 5 KB form (diagnostic only: xmlschema is
  not on the hot path).

Dossiers are built and signed before any clock starts (signing is the client's cost),
then sent again and again under fresh ``X-Message-Id`` values, so each one is a new
stored dossier. The clients are ``http.client`` connections in threads rather than
``requests`` sessions: on a small machine the client shares the CPU with the server,
and the lighter client disturbs the measurement less::

    python benchmarks/bench_gateway.py [--count 2000] [--http-count 4000] [--long 20000]
"""

from __future__ import annotations

import argparse
import http.client
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
from lxml import etree

from harness.catalog import load_catalog
from harness.dossiers.factory import Dossier, DossierFactory
from harness.signing import ensure_pki
from mock_gateway.config import GatewayConfig
from mock_gateway.testing import InProcessGateway, ServerProcess

PROCEDURE = "600"


def build(factory: DossierFactory, target: int, pool: int, seed: int = 1) -> list[Dossier]:
    """``pool`` dossiers of procedure 600 of about ``target`` bytes (rows grown to fit)."""
    rows = 1
    while len(factory.build(PROCEDURE, seed, rows=rows).envelope) < target:
        rows = rows * 2 if rows < 8 else rows + max(1, rows // 4)
    return [factory.build(PROCEDURE, seed + i, rows=rows) for i in range(pool)]


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


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


def over_http(
    url: str, token: str, bodies: Sequence[bytes], count: int, clients: int
) -> tuple[float, list[float]]:
    """Dossiers/s and latencies (s) with ``clients`` concurrent keep-alive connections."""
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = count // clients

    def client(index: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        mine: list[float] = []
        for i in range(per_client):
            body = bodies[(index * per_client + i) % len(bodies)]
            headers = {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/xml",
                "X-Message-Id": uuid.uuid4().hex,
            }
            t0 = time.perf_counter()
            conn.request("POST", "/api/v1/dossiers", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - t0)
            if response.status != 202:
                raise RuntimeError(f"not accepted over HTTP: {response.status}")
        conn.close()
        with lock:
            latencies.extend(mine)

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client, i) for i in range(clients)]:
            future.result()
    return len(latencies) / (time.perf_counter() - start), latencies


def rate(operation: Callable[[], object], seconds: float) -> float:
    for _ in range(10):
        operation()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        operation()
        count += 1
    return count / (time.perf_counter() - start)


def xsd_rates(dossier: Dossier, seconds: float) -> tuple[float, float, int]:
    """lxml and xmlschema validations/s of the dossier's D02-TS form, and its size."""
    import xmlschema

    form = next(f for f in dossier.forms if f.form.form == "D02-TS")
    content = form.content
    xsd = form.form.xsd
    lxml_schema = etree.XMLSchema(etree.parse(str(xsd)))
    doc = etree.fromstring(content)
    if not lxml_schema.validate(doc):
        raise SystemExit(f"the form is not schema-valid: {lxml_schema.error_log}")
    slow = xmlschema.XMLSchema(str(xsd))
    return (
        rate(lambda: lxml_schema.validate(doc), seconds),
        rate(lambda: slow.is_valid(content), seconds),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="in-process 5 KB submissions")
    parser.add_argument("--http-count", type=int, default=4000, help="HTTP submissions")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients")
    parser.add_argument("--big-count", type=int, default=100, help="200 KB submissions")
    parser.add_argument("--long", type=int, default=10_000, help="submissions in the RSS run")
    parser.add_argument("--pool", type=int, default=200, help="distinct pre-signed dossiers")
    parser.add_argument("--seconds", type=float, default=2.0, help="per XSD rate")
    args = parser.parse_args()

    configured = os.environ.get("BHXH_HARNESS_PKI")
    pki = ensure_pki(Path(configured) if configured else None)
    factory = DossierFactory(load_catalog("2024.1"), pki)
    small = build(factory, 5_000, args.pool)
    big = build(factory, 200_000, max(4, args.pool // 20), seed=10_000)
    small_bodies = [d.envelope for d in small]
    big_bodies = [d.envelope for d in big]
    print(
        f"cores: {os.cpu_count()}   5 KB dossier: {len(small_bodies[0])} B   "
        f"200 KB dossier: {len(big_bodies[0])} B"
    )

    with InProcessGateway(pki=pki) as gw:
        gw.gateway.warm_up()
        in_rate, in_lat = in_process(gw, small_bodies, args.count)
        big_rate, big_lat = in_process(gw, big_bodies, args.big_count)
    print(line("in-process 5 KB (Gateway.handle, 1 core)", in_rate, in_lat))
    print(f"   CPU per 5 KB dossier: {1000 / in_rate:.2f} ms")
    print(line("in-process 200 KB", big_rate, big_lat))

    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("BHXH_HARNESS_PKI", str(pki.directory))  # the server trusts it
        with ServerProcess(Path(folder) / "bench.sqlite3", workers=2) as server:
            ivan_token = GatewayConfig().ivan_tokens["IVAN01"]
            over_http(server.url, ivan_token, small_bodies, 200, 4)  # warm both workers
            http_rate, http_lat = over_http(
                server.url, ivan_token, small_bodies, args.http_count, args.clients
            )
    print(line(f"HTTP 5 KB, 2 workers, {args.clients} clients", http_rate, http_lat))
    print(f"   HTTP / in-process ratio: {http_rate / in_rate:.2f}")

    process = psutil.Process()
    with InProcessGateway(pki=pki) as gw:
        gw.gateway.warm_up()
        in_process(gw, small_bodies, min(1000, args.long))
        before = process.memory_info().rss
        long_rate, _ = in_process(gw, small_bodies, args.long)
        after = process.memory_info().rss
    print(line(f"long run ({args.long} in-process)", long_rate))
    print(
        f"   RSS before {before / 2**20:.1f} MiB, after {after / 2**20:.1f} MiB, "
        f"growth {(after - before) / 2**20:+.1f} MiB"
    )

    fast, slow, size = xsd_rates(small[0], args.seconds)
    print(line(f"XSD lxml ({size} B D02-TS form)", fast))
    print(line("XSD xmlschema (diagnostic only)", slow))


if __name__ == "__main__":
    main()
