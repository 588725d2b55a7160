"""Charts as inline SVG drawn on the server: no script, no CDN, readable by screen readers
(each chart has a title and a text summary; the pages also show the numbers as tables)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 260
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 64, 16, 16, 40
PALETTE = ("#1f5fa8", "#c2410c", "#6b7280", "#15803d", "#7e22ce")


def _frame(label: str, body: str, width: int = WIDTH, height: int = HEIGHT) -> Markup:
    title = escape(label)
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{title}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>'
        f"{body}</svg>"
    )


def _y_axis(top: float, fmt: Callable[[float], str]) -> str:
    parts = []
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    for i in range(5):
        value = top * i / 4
        y = HEIGHT - PAD_BOTTOM - plot_h * i / 4
        parts.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'class="grid"/><text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(fmt(value))}</text>"
        )
    return "".join(parts)


def _x_labels(labels: Sequence[str], xs: Sequence[float]) -> str:
    step = max(1, -(-len(labels) // 6))  # at most six labels, so they never overlap
    return "".join(
        f'<text x="{x:.1f}" y="{HEIGHT - PAD_BOTTOM + 18}" text-anchor="middle">'
        f"{escape(label)}</text>"
        for i, (label, x) in enumerate(zip(labels, xs, strict=True))
        if i % step == 0
    )


def _legend(names: Sequence[str]) -> str:
    return "".join(
        f'<rect x="{PAD_LEFT + i * 150}" y="{HEIGHT - 14}" width="10" height="10" '
        f'fill="{PALETTE[i % len(PALETTE)]}"/><text x="{PAD_LEFT + i * 150 + 14}" '
        f'y="{HEIGHT - 5}">{escape(name)}</text>'
        for i, name in enumerate(names)
    )


def line_chart(
    label: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    fmt: Callable[[float], str],
) -> Markup:
    """One line per series over shared x labels (months)."""
    top = max((max(values, default=0) for values in series.values()), default=0) or 1
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    count = max(len(labels), 1)
    xs = [PAD_LEFT + plot_w * (i + 0.5) / count for i in range(len(labels))]
    lines = []
    for i, values in enumerate(series.values()):
        points = " ".join(
            f"{x:.1f},{HEIGHT - PAD_BOTTOM - plot_h * max(v, 0) / top:.1f}"
            for x, v in zip(xs, values, strict=True)
        )
        colour = PALETTE[i % len(PALETTE)]
        lines.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
        )
    body = _y_axis(top, fmt) + _x_labels(labels, xs) + "".join(lines) + _legend(list(series))
    return _frame(label, body)


def bar_chart(label: str, bars: Sequence[tuple[str, float]], fmt: Callable[[float], str]) -> Markup:
    top = max((value for _, value in bars), default=0) or 1
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    width = plot_w / max(len(bars), 1)
    parts = []
    for i, (name, value) in enumerate(bars):
        h = plot_h * value / top
        x = PAD_LEFT + i * width + width * 0.15
        y = HEIGHT - PAD_BOTTOM - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width * 0.7:.1f}" height="{h:.1f}" '
            f'fill="{PALETTE[0]}"><title>{escape(name)}: {escape(fmt(value))}</title></rect>'
            f'<text x="{x + width * 0.35:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
            f"{escape(fmt(value))}</text>"
        )
    xs = [PAD_LEFT + width * (i + 0.5) for i in range(len(bars))]
    return _frame(label, _y_axis(top, fmt) + "".join(parts) + _x_labels([b[0] for b in bars], xs))


def lorenz_chart(label: str, points: Sequence[dict[str, float]], legend: Sequence[str]) -> Markup:
    """Cumulative share of revenue against share of customers, with the line of equality."""
    size = 240
    pad = 36

    def xy(c: float, r: float) -> str:
        return f"{pad + c * size:.1f},{pad / 2 + size - r * size:.1f}"

    curve = " ".join(xy(p["customer_share"], p["revenue_share"]) for p in points)
    body = (
        f'<rect x="{pad}" y="{pad / 2}" width="{size}" height="{size}" class="frame"/>'
        f'<polyline points="{xy(0, 0)} {xy(1, 1)}" stroke="{PALETTE[2]}" stroke-dasharray="4 3" '
        f'fill="none"/><polyline points="{curve}" stroke="{PALETTE[0]}" stroke-width="2" '
        f'fill="none"/><text x="{pad + size / 2}" y="{size + pad / 2 + 24}" text-anchor="middle">'
        f'{escape(legend[0])}</text><text x="12" y="{pad / 2 + size / 2}" '
        f'transform="rotate(-90 12 {pad / 2 + size / 2})" text-anchor="middle">'
        f"{escape(legend[1])}</text>"
    )
    return _frame(label, body, size + pad + 16, size + pad + 8)


def heat_colour(share: float) -> str:
    """White to deep blue; dark cells get white text (see heat_text)."""
    share = min(max(share, 0.0), 1.0)
    r, g, b = (int(255 - (255 - c) * share) for c in (23, 64, 139))
    return f"rgb({r},{g},{b})"


def heat_text(share: float) -> str:
    return "#fff" if share > 0.45 else "#111"
