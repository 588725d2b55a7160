"""Estimates with their 95% intervals as inline SVG (a "forest plot"): one row per
estimate, a dot at the estimate and a bar across its interval, and a dashed line at the
reference value (zero: no gap, no effect). Drawn on the server like ``charts``; each row
carries a <title> with the numbers, and the pages show the same numbers as tables."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
LABEL_W = 170
PAD_RIGHT = 24
ROW_H = 28
TOP = 8
AXIS_H = 30
INK, ACCENT, MUTED = "#1f5fa8", "#c2410c", "#6b7280"


@dataclass(frozen=True)
class IntervalRow:
    label: str
    value: float
    low: float | None = None  # no interval (one respondent): the dot alone
    high: float | None = None
    highlight: bool = False  # drawn in the accent colour (e.g. the reference period)


def _ticks(
    rows: Sequence[IntervalRow],
    reference: float | None,
    limits: tuple[float, float] | None = None,
) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) covering every
    estimate and interval with a little room; the first and last are the axis ends."""
    values = [r.value for r in rows]
    values += [v for r in rows for v in (r.low, r.high) if v is not None]
    if reference is not None:
        values.append(reference)
    low, high = min(values), max(values)
    pad = (high - low) * 0.04 or 1.0
    low, high = low - pad, high + pad
    if limits is not None:  # a score that cannot leave its scale (NPS, percentages)
        low, high = max(low, limits[0]), min(high, limits[1])
    magnitude = 10 ** math.floor(math.log10((high - low) / 4))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if (high - low) / (m * magnitude) <= 5)
    first, last = math.floor(low / step), math.ceil(high / step)
    return [round(i * step, 10) for i in range(first, last + 1)]


def interval_chart(
    label: str,
    rows: Sequence[IntervalRow],
    fmt: Callable[[float], str],
    reference: float | None = 0.0,
    limits: tuple[float, float] | None = None,
) -> Markup:
    """One row per estimate; an empty ``rows`` draws nothing (the page says why)."""
    if not rows:
        return Markup("")
    ticks = _ticks(rows, reference, limits)
    low, high = ticks[0], ticks[-1]
    plot_w = WIDTH - LABEL_W - PAD_RIGHT
    height = TOP + ROW_H * len(rows) + AXIS_H

    def x(value: float) -> float:
        return LABEL_W + plot_w * (value - low) / (high - low)

    parts = [_axis(ticks, x, fmt, height)]
    if reference is not None:
        rx = x(reference)
        parts.append(
            f'<line x1="{rx:.1f}" x2="{rx:.1f}" y1="{TOP}" y2="{height - AXIS_H}" '
            f'stroke="{MUTED}" stroke-dasharray="4 3"/>'
        )
    for i, row in enumerate(rows):
        parts.append(_row(row, TOP + ROW_H * i + ROW_H / 2, x, fmt))
    title = escape(label)
    return Markup(
        f'<svg class="chart intervals" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{title}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>'
        f"{''.join(parts)}</svg>"
    )


def _axis(
    ticks: Sequence[float], x: Callable[[float], float], fmt: Callable[[float], str], h: int
) -> str:
    base = h - AXIS_H
    return "".join(
        f'<line x1="{x(value):.1f}" x2="{x(value):.1f}" y1="{TOP}" y2="{base}" class="grid"/>'
        f'<text x="{x(value):.1f}" y="{base + 18}" text-anchor="middle">'
        f"{escape(fmt(value))}</text>"
        for value in ticks
    )


def _row(
    row: IntervalRow, y: float, x: Callable[[float], float], fmt: Callable[[float], str]
) -> str:
    colour = ACCENT if row.highlight else INK
    summary = f"{row.label}: {fmt(row.value)}"
    bar = ""
    if row.low is not None and row.high is not None:
        summary += f" ({fmt(row.low)} – {fmt(row.high)})"
        x1, x2 = x(row.low), x(row.high)
        bar = (
            f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}" '
            f'stroke-width="2"/><line x1="{x1:.1f}" x2="{x1:.1f}" y1="{y - 5:.1f}" '
            f'y2="{y + 5:.1f}" stroke="{colour}"/><line x1="{x2:.1f}" x2="{x2:.1f}" '
            f'y1="{y - 5:.1f}" y2="{y + 5:.1f}" stroke="{colour}"/>'
        )
    return (
        f"<g><title>{escape(summary)}</title>"
        f'<text x="{LABEL_W - 8}" y="{y + 4:.1f}" text-anchor="end">{escape(row.label)}</text>'
        f'{bar}<circle cx="{x(row.value):.1f}" cy="{y:.1f}" r="4.5" fill="{colour}"/></g>'
    )
