"""Line charts as inline SVG, written by hand so a report needs no plotting library.

A report page must open anywhere, offline, years later (it is evidence), so charts are
plain ``<svg>`` text inside the page: axes with round-number ticks, one polyline per
series, a legend. Every label is escaped; nothing is fetched.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#7f7f7f")


@dataclass(frozen=True)
class Series:
    """One line: its name and ``(x, y)`` points; ``dashed`` for targets and thresholds."""

    name: str
    points: Sequence[tuple[float, float]]
    dashed: bool = False


def nice_ticks(high: float, count: int = 5) -> list[float]:
    """Round-number ticks from 0 to at least ``high`` (1, 2, 2.5 or 5 times a power of 10)."""
    if high <= 0 or not math.isfinite(high):
        return [0.0, 1.0]
    raw = high / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    ticks = [0.0]
    while ticks[-1] < high - 1e-12:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _label(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e5 else f"{value:.2g}"


def line_chart(
    title: str,
    series: Sequence[Series],
    *,
    x_label: str = "seconds",
    y_label: str = "",
    width: int = 760,
    height: int = 280,
) -> str:
    """An SVG line chart; an empty chart says "no data" rather than failing the report."""
    left, right, top, bottom = 64, 16, 34, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    drawn = [s for s in series if s.points]
    xs = [x for s in drawn for x, _ in s.points]
    ys = [y for s in drawn for _, y in s.points if math.isfinite(y)]
    x_ticks = nice_ticks(max(xs, default=1.0))
    y_ticks = nice_ticks(max(ys, default=1.0) * 1.05)
    x_max, y_max = x_ticks[-1] or 1.0, y_ticks[-1] or 1.0

    def px(x: float) -> float:
        return left + plot_w * x / x_max

    def py(y: float) -> float:
        return top + plot_h * (1 - min(y, y_max) / y_max)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        'font-family="system-ui, sans-serif" font-size="11">',
        f'<text x="{left}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for tick in y_ticks:
        y = py(tick)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e5e5e5"/>'
        )
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_label(tick)}</text>')
    for tick in x_ticks:
        x = px(tick)
        out.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{_label(tick)}</text>'
        )
    out.append(
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>'
    )
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">'
        f"{escape(x_label)}</text>"
    )
    out.append(
        f'<text x="14" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.1f})">{escape(y_label)}</text>'
    )
    if not drawn:
        out.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" '
            'text-anchor="middle" fill="#888">no data</text>'
        )
    for index, s in enumerate(drawn):
        color = PALETTE[index % len(PALETTE)]
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in s.points if math.isfinite(y))
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        out.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="1.8"{dash} points="{points}">'
            f"<title>{escape(s.name)}</title></polyline>"
        )
        lx = left + 8 + (index % 4) * (plot_w // 4)
        ly = top + 12 + (index // 4) * 14
        out.append(
            f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 16}" y2="{ly - 4}" stroke="{color}" '
            f'stroke-width="2"{dash}/><text x="{lx + 20}" y="{ly}">{escape(s.name)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


__all__ = ["Series", "line_chart", "nice_ticks"]
