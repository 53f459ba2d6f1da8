"""The dashboard after a big load run: page times over a store of N dossiers.

A 100,000-dossier load run leaves that many rows of 8 KB bodies behind, and the people
watching open ``/dashboard`` next. The rows are inserted straight into the store (same
schema and indexes as the intake writes, a real 8 KB body each) because pushing 100,000
signed dossiers through the pipeline would take minutes and measure the intake instead.
Each page is timed through ``Gateway.handle``; the ratio that matters is a page's time
against the first page of an empty store, measured in the same run::

    python benchmarks/bench_dashboard.py [--dossiers 100000]
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from pathlib import Path

from _cli import benchmark_parser
from sqlalchemy import insert

from mock_gateway import schema
from mock_gateway.testing import InProcessGateway

PAGES: list[dict[str, str]] = [
    {},
    {"ivan": "IVAN01"},
    {"procedure": "604"},
    {"ivan": "IVAN02", "procedure": "600"},
    {"page": "100"},
]


def fill(gw: InProcessGateway, count: int, seed: int = 1) -> None:
    """``count`` received dossiers of two I-VANs and three procedures, oldest first."""
    chooser = random.Random(seed)
    body = os.urandom(8_000)
    rows = [
        {
            "ma_gdich": f"20261126{index:016X}",
            "ivan": chooser.choice(["IVAN01", "IVAN02"]),
            "message_id": f"bench-{index}",
            "body_sha256": "0" * 64,
            "body": body,
            "procedure": chooser.choice(["600", "604", "612"]),
            "period": "11/2026",
            "unit": "TA12345",
            "status": "received",
            "received_at": f"2026-11-26T00:00:00.{index:06d}Z",
            "catalog_version": "2026.1",
            "so_hso": None,
            "next_due_at": None,
            "summary": json.dumps({}),
        }
        for index in range(count)
    ]
    with gw.gateway.store.engine.begin() as conn:
        for start in range(0, count, 5_000):
            conn.execute(insert(schema.dossiers), rows[start : start + 5_000])


def page_ms(gw: InProcessGateway, query: dict[str, str], repeat: int = 3) -> float:
    """The best of ``repeat`` timings of one dashboard page, in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        answer = gw.request("GET", "/dashboard", ivan="admin", query=query)
        best = min(best, time.perf_counter() - start)
        if answer.status != 200:
            raise SystemExit(f"dashboard {query} answered {answer.status}")
    return best * 1000


def main() -> None:
    parser = benchmark_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=100_000, help="rows in the store")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, InProcessGateway(directory=Path(folder)) as gw:
        empty = page_ms(gw, {})
        started = time.perf_counter()
        fill(gw, args.dossiers)
        print(f"{args.dossiers} dossiers inserted in {time.perf_counter() - started:.1f} s")
        print(f"{'page':40} {'ms':>8} {'x empty store':>14}")
        print(f"{'first page, empty store':40} {empty:8.1f} {1.0:14.1f}")
        for query in PAGES:
            spent = page_ms(gw, query)
            label = " ".join(f"{k}={v}" for k, v in query.items()) or "first page"
            print(f"{label:40} {spent:8.1f} {spent / empty:14.1f}")


if __name__ == "__main__":
    main()
