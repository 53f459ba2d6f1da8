"""What the lifecycle costs: CPU per 02/TB-TS and 03/TB-TS message, against the intake.

With a running clock every accepted dossier later gets two signed messages from the
background processor, so a load test's gateway spends CPU on them too. This runs N
dossiers through ``Gateway.handle`` in-process, then fast-forwards the clock past the
hand-over and the result delays and charges the processor's thread CPU per message.
The ratio to the intake's CPU per dossier, measured in the same run, is what matters::

    python benchmarks/bench_lifecycle.py [--count 2000]
"""

from __future__ import annotations

import time

from _cli import benchmark_parser
from bench_gateway import benchmark_factory, in_process, small_bodies

from mock_gateway.processor import ISSUE_BATCH
from mock_gateway.testing import InProcessGateway


def cpu_ms_per(count: int, start: float) -> float:
    return (time.thread_time() - start) / max(count, 1) * 1000


def main() -> None:
    parser = benchmark_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="dossiers, then 2x messages")
    parser.add_argument("--pool", type=int, default=100, help="distinct pre-signed dossiers")
    args = parser.parse_args()

    factory = benchmark_factory()
    pki = factory.pki
    procedure, bodies = small_bodies(factory, args.pool)

    with InProcessGateway(pki=pki) as gw:
        gw.gateway.warm_up()
        in_process(gw, bodies, 100)
        gw.advance(2 * 3600)  # the warm-up dossiers' messages, not counted
        started = time.thread_time()
        in_process(gw, bodies, args.count)
        intake = cpu_ms_per(args.count, started)
        delays = gw.gateway.config
        started = time.thread_time()
        handovers = gw.advance(delays.handover_delay + 1)
        handover = cpu_ms_per(handovers, started)
        started = time.thread_time()
        results = gw.advance(delays.result_delay + 1)
        result = cpu_ms_per(results, started)

    print(f"procedure {procedure}, {len(bodies[0])} B dossier, {ISSUE_BATCH} steps a transaction")
    print(f"{'intake (receipt)':28} {intake:6.2f} ms CPU per dossier ({args.count})")
    print(f"{'02/TB-TS hand-over':28} {handover:6.2f} ms CPU per message ({handovers})")
    print(f"{'03/TB-TS result':28} {result:6.2f} ms CPU per message ({results})")
    whole = intake + handover + result
    print(f"a dossier's whole life: {whole:.2f} ms, {whole / intake:.2f}x the intake alone")


if __name__ == "__main__":
    main()
