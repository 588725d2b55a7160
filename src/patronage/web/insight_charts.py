"""More inline SVG charts for the dashboard: monthly series with gaps and confidence
bands, a treemap and horizontal bars. Each has a <title> and a <desc> that says what
it shows in words; the pages also show the numbers as tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from markupsafe import Markup, escape

from patronage.web.charts import HEIGHT, PAD_BOTTOM, PAD_LEFT, PAD_RIGHT, PAD_TOP, PALETTE, WIDTH

Format = Callable[[float], str]
T = TypeVar("T")
COLOURS = (*PALETTE, "#0f766e", "#9f1239", "#4338ca", "#374151", "#b45309", "#1e3a8a")


def _frame(label: str, desc: str, body: str, width: int = WIDTH, height: int = HEIGHT) -> Markup:
    title, text = escape(label), escape(desc)
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{title}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>'
        f"<desc>{text}</desc>{body}</svg>"
    )


@dataclass(frozen=True)
class Scale:
    """Values between ``low`` and ``high`` onto the plot's height."""

    low: float
    high: float

    def y(self, value: float) -> float:
        plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
        share = (min(max(value, self.low), self.high) - self.low) / (self.high - self.low)
        return HEIGHT - PAD_BOTTOM - plot_h * share


def _axes(scale: Scale, labels: Sequence[str], xs: Sequence[float], fmt: Format) -> str:
    parts = []
    for i in range(5):
        value = scale.low + (scale.high - scale.low) * i / 4
        y = scale.y(value)
        parts.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'class="grid"/><text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(fmt(value))}</text>"
        )
    step = max(1, -(-len(labels) // 6))
    parts.extend(
        f'<text x="{x:.1f}" y="{HEIGHT - PAD_BOTTOM + 18}" text-anchor="middle">'
        f"{escape(label)}</text>"
        for i, (label, x) in enumerate(zip(labels, xs, strict=True))
        if i % step == 0
    )
    return "".join(parts)


def _runs(points: Sequence[T | None]) -> list[list[T]]:
    """Consecutive known points: a month without data breaks the line."""
    runs: list[list[T]] = [[]]
    for point in points:
        if point is None:
            runs.append([])
        else:
            runs[-1].append(point)
    return [run for run in runs if run]


def _xs(count: int) -> list[float]:
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    return [PAD_LEFT + plot_w * (i + 0.5) / max(count, 1) for i in range(count)]


def _band(
    scale: Scale, xs: Sequence[float], lows: Sequence[float | None], highs: Sequence[float | None]
) -> str:
    """A shaded area from low to high, broken where the interval is unknown."""
    edges = [
        None if lo is None or hi is None else (x, lo, hi)
        for x, lo, hi in zip(xs, lows, highs, strict=True)
    ]
    parts = []
    for stretch in _runs(edges):
        upper = [f"{x:.1f},{scale.y(hi):.1f}" for x, _, hi in stretch]
        lower = [f"{x:.1f},{scale.y(lo):.1f}" for x, lo, _ in reversed(stretch)]
        parts.append(
            f'<polygon class="band" points="{" ".join(upper + lower)}" '
            f'fill="{PALETTE[0]}" fill-opacity="0.18" stroke="none"/>'
        )
    return "".join(parts)


def monthly_chart(
    label: str,
    desc: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    scale: Scale,
    fmt: Format,
    band: tuple[Sequence[float | None], Sequence[float | None]] | None = None,
) -> Markup:
    """Lines over months, with gaps where a value is None, and an optional shaded band
    (low, high) around the first series."""
    xs = _xs(len(labels))
    parts = [_axes(scale, labels, xs, fmt)]
    if band is not None:
        parts.append(_band(scale, xs, *band))
    for i, values in enumerate(series.values()):
        colour = PALETTE[i % len(PALETTE)]
        known = [None if v is None else (x, scale.y(v)) for x, v in zip(xs, values, strict=True)]
        for run in _runs(known):
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
                + "".join(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in run
                )
            )
    parts.extend(
        f'<rect x="{PAD_LEFT + i * 200}" y="{HEIGHT - 14}" width="10" height="10" '
        f'fill="{PALETTE[i % len(PALETTE)]}"/><text x="{PAD_LEFT + i * 200 + 14}" '
        f'y="{HEIGHT - 5}">{escape(name)}</text>'
        for i, name in enumerate(series)
    )
    return _frame(label, desc, "".join(parts))


def horizontal_bars(
    label: str, desc: str, bars: Sequence[tuple[str, float]], fmt: Format
) -> Markup:
    """One bar per row, longest first as given; names on the left, values at the end."""
    row_h, name_w, pad = 28, 180, 8
    height = pad * 2 + row_h * max(len(bars), 1)
    top = max((value for _, value in bars), default=0) or 1
    plot_w = WIDTH - name_w - 90
    parts = []
    for i, (name, value) in enumerate(bars):
        y = pad + i * row_h
        width = plot_w * max(value, 0) / top
        short = name if len(name) <= 24 else name[:23] + "…"
        parts.append(
            f'<text x="{name_w - 8}" y="{y + 18}" text-anchor="end">{escape(short)}</text>'
            f'<rect x="{name_w}" y="{y + 5}" width="{width:.1f}" height="{row_h - 10}" '
            f'fill="{PALETTE[0]}"><title>{escape(name)}: {escape(fmt(value))}</title></rect>'
            f'<text x="{name_w + width + 6:.1f}" y="{y + 18}">{escape(fmt(value))}</text>'
        )
    return _frame(label, desc, "".join(parts), WIDTH, height)


@dataclass(frozen=True)
class Box:
    name: str
    value: float
    x: float
    y: float
    w: float
    h: float


def _worst_ratio(row: Sequence[float], side: float) -> float:
    total = sum(row)
    return max(
        max(side * side * v / (total * total), total * total / (side * side * v)) for v in row
    )


def squarify(
    values: Sequence[float], x: float, y: float, w: float, h: float
) -> list[tuple[float, ...]]:
    """Rectangles whose areas are proportional to ``values`` (sorted largest first),
    laid out row by row along the shorter side (Bruls, Huizing and van Wijk, 2000)."""
    total = sum(values)
    areas = [v * w * h / total for v in values] if total > 0 else []
    boxes: list[tuple[float, ...]] = []
    row: list[float] = []
    rest = list(areas)
    while rest:
        side = min(w, h)
        candidate = [*row, rest[0]]
        if not row or _worst_ratio(candidate, side) <= _worst_ratio(row, side):
            row = candidate
            rest.pop(0)
            continue
        x, y, w, h = _place(row, x, y, w, h, boxes)
        row = []
    if row:
        _place(row, x, y, w, h, boxes)
    return boxes


def _place(
    row: list[float], x: float, y: float, w: float, h: float, boxes: list[tuple[float, ...]]
) -> tuple[float, float, float, float]:
    """Lay ``row`` along the shorter side; return the space left."""
    total = sum(row)
    if w >= h:  # a column on the left
        width = total / h
        offset = y
        for area in row:
            boxes.append((x, offset, width, area / width))
            offset += area / width
        return x + width, y, w - width, h
    height = total / w
    offset = x
    for area in row:
        boxes.append((offset, y, area / height, height))
        offset += area / height
    return x, y + height, w, h - height


def treemap(label: str, desc: str, items: Sequence[tuple[str, float]], fmt: Format) -> Markup:
    """Areas proportional to the values; an item keeps its colour by its position in
    ``items`` (so two treemaps of the same items match); empty items are left out."""
    width, height = WIDTH, 300
    coloured = [(n, v, COLOURS[i % len(COLOURS)]) for i, (n, v) in enumerate(items) if v > 0]
    shown = sorted(coloured, key=lambda item: -item[1])
    boxes = squarify([v for _, v, _ in shown], 0, 0, width, height)
    parts = []
    for (name, value, colour), (x, y, w, h) in zip(shown, boxes, strict=True):
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{colour}" '
            f'stroke="#fff" stroke-width="2"><title>{escape(name)}: {escape(fmt(value))}</title>'
            "</rect>"
        )
        if w > 70 and h > 34:
            left = x + 6
            parts.append(
                f'<text class="on-dark" x="{left:.1f}" y="{y + 18:.1f}">{escape(name)}</text>'
                f'<text class="on-dark" x="{left:.1f}" y="{y + 34:.1f}">{escape(fmt(value))}</text>'
            )
    return _frame(label, desc, "".join(parts), width, height)
