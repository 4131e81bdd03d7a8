"""A cumulative-PnL line chart as inline SVG text: no library, no script, nothing fetched.

Pure: values in, markup out. Every point of the series is drawn (no down-sampling) at
``x = left + i / (n - 1) · width`` (trading days evenly spaced) and
``y = top + (y_max - value) / (y_max - y_min) · height``; the ``<svg>`` carries ``data-y-min``,
``data-y-max`` and ``data-plot`` (left top width height) so a reader (or a test) can turn the drawn
points back into dollars.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Frame:
    """A chart's size and the margins around its plot area, in CSS pixels."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    x_ticks: int
    """How many dates the x axis labels (2: the first and the last)."""

    @property
    def plot_w(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> int:
        return self.height - self.top - self.bottom


LARGE = Frame(width=1160, height=380, left=84, right=18, top=14, bottom=40, x_ticks=7)
SMALL = Frame(width=372, height=150, left=58, right=10, top=8, bottom=24, x_ticks=2)


def nice_step(span: float, count: int = 4) -> float:
    """A round tick step (1, 2, 2.5 or 5 × 10ᵏ) giving about ``count`` intervals over ``span``."""
    raw = span / max(count, 1)
    power: float = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def y_range(values: Sequence[float]) -> tuple[float, float, float]:
    """``(y_min, y_max, step)``: round bounds that hold every value and zero."""
    lo, hi = min(0.0, *values), max(0.0, *values)
    if hi - lo < 1e-9:  # a flat series (all zero): a $1k span, so the ticks stay readable
        hi = lo + 1000.0
    step = nice_step(hi - lo)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step, step


def money(value: float) -> str:
    """Dollars, short: ``$1.25M``, ``-$350k``, ``$0``."""
    sign = "-" if value < 0 else ""
    v = abs(value)
    if v >= 1e9:
        text = f"{v / 1e9:.2f}".rstrip("0").rstrip(".") + "B"
    elif v >= 1e6:
        text = f"{v / 1e6:.2f}".rstrip("0").rstrip(".") + "M"
    elif v >= 1e3:
        text = f"{v / 1e3:.1f}".rstrip("0").rstrip(".") + "k"
    else:
        text = f"{v:.0f}"
    return f"{sign}${text}"


def _x(frame: Frame, i: int, n: int) -> float:
    return frame.left + (frame.plot_w * i / (n - 1) if n > 1 else frame.plot_w / 2)


def _y(frame: Frame, value: float, lo: float, hi: float) -> float:
    return frame.top + (hi - value) / (hi - lo) * frame.plot_h


def line_chart(
    dates: Sequence[str], values: Sequence[float], frame: Frame, *, title: str, candidate_id: str
) -> str:
    """An ``<svg>`` of the series (``dates`` and ``values`` of the same length, at least one point)."""
    n = len(values)
    lo, hi, step = y_range(values)
    pts = [(_x(frame, i, n), _y(frame, v, lo, hi)) for i, v in enumerate(values)]
    direction = "up" if values[-1] >= 0 else "down"
    right, bottom = frame.left + frame.plot_w, frame.top + frame.plot_h
    parts = [
        f'<svg class="chart" viewBox="0 0 {frame.width} {frame.height}" width="{frame.width}" '
        f'height="{frame.height}" role="img" aria-label="{escape(title)}" '
        f'data-candidate="{escape(candidate_id)}" data-y-min="{lo!r}" data-y-max="{hi!r}" '
        f'data-plot="{frame.left} {frame.top} {frame.plot_w} {frame.plot_h}" data-points="{n}">',
        f"<title>{escape(title)}</title>",
    ]
    ticks = round((hi - lo) / step)
    for k in range(ticks + 1):
        value = lo + k * step
        y = _y(frame, value, lo, hi)
        cls = "zero" if abs(value) < step / 1e6 else "grid"
        parts.append(f'<line class="{cls}" x1="{frame.left}" x2="{right}" y1="{y:.2f}" y2="{y:.2f}"/>')
        parts.append(
            f'<text class="tick" x="{frame.left - 6}" y="{y + 4:.2f}" text-anchor="end">{money(value)}</text>'
        )
    shown = sorted({round(k * (n - 1) / max(frame.x_ticks - 1, 1)) for k in range(frame.x_ticks)})
    for j, i in enumerate(shown):
        anchor = "start" if j == 0 and len(shown) > 1 else ("end" if j == len(shown) - 1 else "middle")
        x = _x(frame, i, n)
        parts.append(f'<line class="xtick" x1="{x:.2f}" x2="{x:.2f}" y1="{bottom}" y2="{bottom + 4}"/>')
        parts.append(
            f'<text class="tick" x="{x:.2f}" y="{bottom + 17}" text-anchor="{anchor}">'
            f"{escape(dates[i])}</text>"
        )
    points = " ".join(f"{x:.2f},{y:.2f}" for x, y in pts)
    if frame is LARGE and n > 1:
        base = _y(frame, 0.0, lo, hi)
        parts.append(
            f'<path class="area {direction}" d="M{pts[0][0]:.2f},{base:.2f} L{points.replace(" ", " L")} '
            f'L{pts[-1][0]:.2f},{base:.2f} Z"/>'
        )
    parts.append(f'<polyline class="pnl {direction}" points="{points}"/>')
    if n == 1:
        parts.append(f'<circle class="pnl {direction}" cx="{pts[0][0]:.2f}" cy="{pts[0][1]:.2f}" r="3"/>')
    parts.append(
        f'<rect class="frame" x="{frame.left}" y="{frame.top}" '
        f'width="{frame.plot_w}" height="{frame.plot_h}"/>'
    )
    parts.append("</svg>")
    return "".join(parts)
