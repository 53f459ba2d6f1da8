"""Throughput of XMLDSig sign and verify on a ~5 KB D02-TS form.

Verification sits on the gateway's hot path (every dossier carries at least two
signatures), so this measures both operations in one run and prints their rates::

    python benchmarks/bench_signing.py [--seconds 2] [--pki DIR]
"""

from __future__ import annotations

from pathlib import Path

from _cli import benchmark_parser
from _timing import rate
from lxml import etree

from harness.signing import ensure_pki, sign, verify

ROW = (
    "<LaoDong><STT>{i}</STT><HoTen>Nguyễn Thị Ánh Tuyết {i}</HoTen>"
    "<ChucVu>Nhân viên kỹ thuật</ChucVu><TienLuong>5310000</TienLuong><PA>TM</PA>"
    "<TuThang>01/2026</TuThang><MavungLTT>01</MavungLTT></LaoDong>"
)


def make_form(target_bytes: int = 5_000) -> etree._Element:
    """A D02-TS form with as many rows as it takes to reach ``target_bytes`` of UTF-8."""
    rows: list[str] = []
    while len("".join(rows).encode()) < target_bytes - 60:
        rows.append(ROW.format(i=len(rows) + 1))
    return etree.fromstring(f"<D02-TS><NoiDung>{''.join(rows)}</NoiDung></D02-TS>".encode())


def main() -> None:
    parser = benchmark_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per operation")
    parser.add_argument(
        "--pki",
        type=Path,
        default=None,
        help="test PKI directory (default: $BHXH_HARNESS_PKI, else pki/ in the cache)",
    )
    args = parser.parse_args()

    pki = ensure_pki(args.pki)
    credential, trust = pki.credential("unit"), pki.trust_store()
    form = make_form()
    signed = sign(form, credential, signature_parent="Cky")
    size = len(etree.tostring(form, encoding="UTF-8"))
    signed_size = len(etree.tostring(signed, encoding="UTF-8"))

    signs = rate(lambda: sign(form, credential, signature_parent="Cky"), args.seconds)
    verifies = rate(lambda: verify(signed, signature_parent="Cky", trust=trust), args.seconds)
    print(f"document: {size} bytes unsigned, {signed_size} bytes signed (RSA-2048, SHA-256)")
    print(f"sign:   {signs:8.0f} /s  ({1e6 / signs:6.0f} µs each)")
    print(f"verify: {verifies:8.0f} /s  ({1e6 / verifies:6.0f} µs each)")


if __name__ == "__main__":
    main()
