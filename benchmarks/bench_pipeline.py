"""Where an accepted dossier's server CPU goes, stage by stage, inside the real pipeline.

Runs ``Gateway.handle`` in-process on the same smallest signed dossier as
``bench_gateway.py`` and charges the thread CPU time of every call to its stage: the
pipeline's own functions are wrapped for the run, each stage's time excludes the stages
it calls, and what no stage claims (routing, authentication, limits, Python glue) is
printed as the rest. Stages are timed where they really run, with the caches the rest of
the pipeline leaves behind, not in a tight loop of their own, which flatters them.

The same run also times a few primitives on their own (an RSA-2048 signature and
verification, a C14N of the envelope, a SQLite commit), the irreducible part of some
stages, and prints what the total means on this machine: dossiers/s per core and the CPU
per dossier the issue's 1,000 /s over HTTP with two workers would leave. ``--big`` runs the
200 KB dossier instead, whose time goes to the business rules of its big forms::

    python benchmarks/bench_pipeline.py [--count 3000]
    python benchmarks/bench_pipeline.py --big --count 300 --pool 6
"""

from __future__ import annotations

import functools
import inspect
import os
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from _cli import benchmark_parser
from bench_gateway import benchmark_factory, big_bodies, in_process, small_bodies
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

import harness.conformance
from harness.catalog.validation import CompiledRules, DocumentValidator
from mock_gateway import messages
from mock_gateway.answer_signer import MessageSigner
from mock_gateway.core import Gateway
from mock_gateway.store import Store
from mock_gateway.testing import InProcessGateway

STAGES: list[tuple[str, Any, str]] = [
    ("parse XML (envelope and forms)", harness.conformance, "parse_xml"),
    ("read envelope", harness.conformance, "read_envelope"),
    ("decode embedded forms (base64)", harness.conformance.DossierChecker, "_decode_forms"),
    ("XSD", DocumentValidator, "validate"),
    ("Schematron", CompiledRules, "findings"),
    ("verify signatures (envelope and forms)", harness.conformance, "verify"),
    ("receipt XML", messages, "document_text"),
    ("receipt signature", MessageSigner, "sign_answer"),
    ("durable store (lookup, inserts, commit)", Store, "save_many"),
    ("traffic log and metrics", Gateway, "_observe"),
]
"""(label, owner, attribute): the functions charged to each stage. Where one calls another
(XSD's ``validate`` runs the Schematron), the inner one's time is its own stage's."""


class StageClock:
    """Exclusive thread-CPU time per stage: a stage's time excludes the stages it calls."""

    def __init__(self) -> None:
        self.spent: Counter[str] = Counter()
        self._nested: list[int] = []  # per open stage: CPU spent in stages it called

    def wrap(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._nested.append(0)
            start = time.thread_time_ns()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.thread_time_ns() - start
                self.spent[label] += elapsed - self._nested.pop()
                if self._nested:
                    self._nested[-1] += elapsed

        return timed

    @contextmanager
    def installed(self) -> Iterator[StageClock]:
        """Every stage of :data:`STAGES` wrapped, for the duration of the block."""
        with ExitStack() as stack:
            for label, owner, attribute in STAGES:
                found = inspect.getattr_static(owner, attribute)
                if isinstance(found, staticmethod | classmethod):  # keep the descriptor
                    timed: Any = type(found)(self.wrap(label, found.__func__))
                else:
                    timed = self.wrap(label, found)
                stack.enter_context(mock.patch.object(owner, attribute, timed))
            yield self


def per_call_us(operation: Callable[[], object], count: int) -> float:
    """Thread CPU microseconds per call of ``operation`` (after a few untimed calls)."""
    for _ in range(20):
        operation()
    start = time.thread_time_ns()
    for _ in range(count):
        operation()
    return (time.thread_time_ns() - start) / count / 1000


def sqlite_commit_us(folder: Path, count: int) -> float:
    """CPU of one small insert and a durable commit (``synchronous=FULL``, WAL), raw sqlite3."""
    db = sqlite3.connect(folder / "floor.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
    body = os.urandom(8_000)

    def commit() -> None:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t (body) VALUES (?)", (body,))
        db.execute("COMMIT")

    try:
        return per_call_us(commit, count)
    finally:
        db.close()


def measure(
    gw: InProcessGateway, bodies: list[bytes], count: int
) -> tuple[dict[str, float], float]:
    """CPU microseconds per accepted dossier of each stage, and of the whole ``handle``."""
    clock = StageClock()
    with clock.installed():
        start = time.thread_time_ns()
        in_process(gw, bodies, count)
        total = (time.thread_time_ns() - start) / count / 1000
    return {label: clock.spent[label] / count / 1000 for label, _, _ in STAGES}, total


def main() -> None:
    parser = benchmark_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=3000, help="dossiers through the pipeline")
    parser.add_argument("--pool", type=int, default=200, help="distinct pre-signed dossiers")
    parser.add_argument(
        "--big",
        action="store_true",
        help="the 200 KB dossier of bench_gateway.py instead of the smallest (try --count 300 "
        "--pool 6: each costs about 100 times the small one to build)",
    )
    args = parser.parse_args()

    factory = benchmark_factory()
    pki = factory.pki
    choose = big_bodies if args.big else small_bodies
    procedure, bodies = choose(factory, args.pool)
    print(f"procedure {procedure}, {len(bodies[0])} B signed dossier, {args.count} submissions")

    with InProcessGateway(pki=pki) as gw:
        gw.gateway.warm_up()
        in_process(gw, bodies, min(300, args.count))  # warm caches, not counted
        stages, total = measure(gw, bodies, args.count)
        key = gw.gateway.signer.credential.private_key

    print(f"\n{'stage':44} {'CPU us/dossier':>14} {'share':>6}")
    for label, spent in stages.items():
        print(f"{label:44} {spent:14.0f} {spent / total:6.0%}")
    rest = total - sum(stages.values())
    print(f"{'rest (routing, auth, limits, glue)':44} {rest:14.0f} {rest / total:6.0%}")
    print(f"{'total (Gateway.handle)':44} {total:14.0f}")

    envelope = etree.fromstring(bodies[0])
    message = os.urandom(32)
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    public = key.public_key()
    with tempfile.TemporaryDirectory() as folder:
        floors = [
            (
                "RSA-2048 signature (the receipt's)",
                per_call_us(lambda: key.sign(message, padding.PKCS1v15(), hashes.SHA256()), 500),
            ),
            (
                "RSA-2048 verification (x2 per dossier)",
                per_call_us(
                    lambda: public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256()),
                    2000,
                ),
            ),
            (
                "C14N of the whole envelope",
                per_call_us(lambda: etree.tostring(envelope, method="c14n"), 2000),
            ),
            ("SQLite insert + durable commit, raw", sqlite_commit_us(Path(folder), 300)),
        ]
    print("\nprimitives alone, same run (CPU us per call)")
    for label, spent in floors:
        print(f"  {label:42} {spent:14.0f}")

    print(
        f"\none core: {1e6 / total:.0f} accepted dossiers/s in-process; "
        f"two cores: {2e6 / total:.0f} /s before any HTTP or load-generator cost"
    )
    target, budget = (40, 50_000) if args.big else (1000, 2_000)
    print(
        f"{target:,} /s over HTTP on two cores leaves {budget:,} us of CPU per dossier for the "
        f"server, HTTP and the client together; this pipeline alone takes {total:.0f} us"
    )


if __name__ == "__main__":
    main()
