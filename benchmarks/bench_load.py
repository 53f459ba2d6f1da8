"""Load figures on this machine: the gateway's sustainable rate, and the generator's cost.

Run: ``python benchmarks/bench_load.py [--seconds 15] [--workers 0] [--skip-capacity]``.

1. Sustainable accepted dossiers/s under the month-end mix: constant-rate runs (the
   ``flat`` shape, open model) against a local gateway, doubling the rate until a
   service level (``fixtures/load/service-levels.yaml``) is missed, then bisecting. The
   highest rate whose run met every level is the figure. A run where a level could not
   be measured (no dossier reached its result, say) is reported as not measured, not as
   missed; the lifecycle levels need runs of at least twice a dossier's lifecycle at the
   local gateway's clock, so a shorter ``--seconds`` is refused for this step.
2. Locust's req/s per generator process with the real payload (a signed ~9 KB envelope
   from the pool) against a trivial one, both sent as fast as possible to a sink that
   answers 202 at once, so the figure is the generator's, not the gateway's. The ratio
   shows what the payload costs; signing per request (``bench_factory.py``) is shown for
   contrast, the reason dossiers come from a pre-signed pool.

Each figure is one process per role on loopback; compare ratios, not absolute numbers
across machines.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _cli import benchmark_parser

from harness.load import load_profile, run_load
from harness.load.gateway import free_port, stop_process
from harness.load.run_setup import LOCAL_CLOCK_SPEED
from mock_gateway.config import GatewayConfig

SINK_RECEIPT = [(b"x-ma-gdich", b"SINK0000000000000000"), (b"content-type", b"application/xml")]


async def sink_app(scope, receive, send):  # type: ignore[no-untyped-def]
    """A gateway stand-in that reads the body and answers 202 at once."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 202, "headers": SINK_RECEIPT})
    await send({"type": "http.response.body", "body": b"<BHXH/>"})


def serve_sink(port: int) -> None:
    import uvicorn

    uvicorn.run(sink_app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def lifecycle_seconds() -> float:
    """Real seconds from sending a dossier to the local gateway until its 03/TB-TS is due."""
    config = GatewayConfig()
    return (config.handover_delay + config.result_delay) / LOCAL_CLOCK_SPEED


def shortest_capacity_run() -> int:
    """Twice the lifecycle: at least half of a run's dossiers can reach their result, so the
    lifecycle levels rest on more than the first dossiers sent."""
    return math.ceil(2 * lifecycle_seconds())


def capacity(seconds: float, workers: int, out: Path) -> None:
    base = load_profile().base.rate
    print(f"1. sustainable accepted dossiers/s, month-end mix, {seconds:g} s per step")
    print(f"   {'target/s':>9} {'accepted/s':>10} {'submit p95 ms':>13}  verdict")

    def attempt(target: float) -> tuple[bool | None, str]:
        """Whether the run at ``target``/s met every level (None: it could not be judged),
        and why it could not be judged."""
        result = run_load("local", "flat", target / base, seconds, workers, out=out, model="open")
        submit = result.measurements.steps.get("submit")
        p95 = f"{submit.percentiles['p95']:.0f}" if submit else "-"
        accepted = result.measurements.accepted / seconds
        missed = [r.level.name for r in result.failed if r.measured is not None]
        unmeasured = [r for r in result.failed if r.measured is None]
        verdict: bool | None = None
        if result.error:
            shown, why = "not measured: the run failed", f"the run failed: {result.error}"
        elif missed:  # a level missed outright settles it, whatever else went unmeasured
            verdict, shown, why = False, "missed " + ", ".join(missed), ""
        elif unmeasured:
            shown = "not measured: " + ", ".join(r.level.name for r in unmeasured)
            # the load command's advice (its --duration, --clock-speed) is not this script's
            why = "; ".join(f"{r.level.name}: {r.detail.split(' (raise ')[0]}" for r in unmeasured)
        else:
            verdict, shown, why = True, "met every level", ""
        print(f"   {target:9.1f} {accepted:10.1f} {p95:>13}  {shown}")
        return verdict, why

    passed, ceiling = 0.0, 5000.0
    failed: float | None = None
    unjudged: tuple[float, str] | None = None
    rate = 10.0
    while rate <= ceiling:
        verdict, why = attempt(rate)
        if verdict is None:
            unjudged = (rate, why)
            break
        if not verdict:
            failed = rate
            break
        passed, rate = rate, rate * 2
    for _ in range(3):
        if failed is None or not passed or failed - passed < max(2.0, passed * 0.1):
            break
        middle = (passed + failed) / 2
        verdict, why = attempt(middle)
        if verdict is None:
            unjudged = (middle, why)
            break
        if verdict:
            passed = middle
        else:
            failed = middle
    if unjudged is not None:
        at, why = unjudged
        figure = f"at least {passed:.1f} accepted dossiers/s" if passed else "not measured"
        print(f"   sustainable: {figure} (the run at {at:.1f}/s could not be judged: {why})")
    elif failed is None:
        print(
            f"   sustainable: at least {passed:.1f} accepted dossiers/s (every level met; "
            f"the search stops at {ceiling:.0f}/s)"
        )
    elif not passed:
        print(
            f"   sustainable: below {failed:.1f} accepted dossiers/s (missed a level at "
            f"{failed:.1f}, the lowest rate tried)"
        )
    else:
        print(f"   sustainable: {passed:.1f} accepted dossiers/s (missed a level at {failed:.1f})")
    if passed:
        national = passed / base
        print(f"   = {national:.1f} x the 1x national rate ({base:.2f}/s), month-end peak is 6x")


def generator(seconds: float, users: int, repeat: int, out: Path) -> None:
    print(
        f"2. locust req/s per generator process ({users} users, no waiting, sink server, "
        f"best of {repeat} alternating runs)"
    )
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, __file__, "--sink", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.5)
        figures = {"trivial": 0.0, "real": 0.0}
        for payload in ("trivial", "real") * repeat:
            result = run_load(
                f"http://127.0.0.1:{port}",
                "flat",
                1.0,
                seconds,
                0,
                out=out,
                model="max",
                users_max=users,
                payload=payload,
                feed=False,
            )
            submit = result.measurements.steps.get("submit")
            rate = submit.requests / seconds if submit else 0.0
            figures[payload] = max(figures[payload], rate)
            print(f"   {payload:8} payload: {rate:8.0f} req/s")
        ratio = figures["real"] / figures["trivial"] if figures["trivial"] else 0.0
        print(
            f"   best: real {figures['real']:.0f} req/s, trivial {figures['trivial']:.0f} req/s, "
            f"real/trivial ratio: {ratio:.2f}"
        )
    finally:
        stop_process(sink)
    from harness.catalog import latest_version, load_catalog
    from harness.dossiers.factory import DossierFactory
    from harness.signing import ensure_pki

    factory = DossierFactory(load_catalog(latest_version()), ensure_pki())
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < 2.0:
        factory.build("600", count)
        count += 1
    signed = count / (time.perf_counter() - start)
    print(f"   for contrast, signing per request would cap a process at ~{signed:.0f} dossiers/s")


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument(
        "--seconds",
        type=float,
        default=15.0,
        help=f"duration of each run (step 1 needs at least {shortest_capacity_run()})",
    )
    parser.add_argument("--workers", type=int, default=0, help="locust workers for step 1")
    parser.add_argument("--users", type=int, default=32, help="users for step 2")
    parser.add_argument("--repeat", type=int, default=2, help="runs per payload in step 2")
    parser.add_argument(
        "--skip-capacity", action="store_true", help="skip step 1 and measure the generator only"
    )
    parser.add_argument("--sink", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        serve_sink(args.sink)
        return
    if not args.skip_capacity and args.seconds < shortest_capacity_run():
        parser.error(
            f"--seconds {args.seconds:g} is too short for the lifecycle levels of step 1: a "
            f"dossier's 03/TB-TS is due {lifecycle_seconds():g} s after it is sent (local clock "
            f"x{LOCAL_CLOCK_SPEED:g}), so give --seconds {shortest_capacity_run()} or more, "
            "or --skip-capacity"
        )
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        out = Path(tmp)
        if not args.skip_capacity:
            capacity(args.seconds, args.workers, out)
        generator(args.seconds, args.users, args.repeat, out)


if __name__ == "__main__":
    main()
