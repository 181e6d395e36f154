"""Inline SVG charts (bars, bars with an expected curve, lines) that need no script, font or network."""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape

PALETTE = ("#2f5d8a", "#c0692b", "#3f8f5b", "#8a4f9e", "#b3261e", "#6b7c8f", "#c9a227", "#1f8a8a", "#7a5230")
WIDTH, HEIGHT = 960, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 16, 16, 44


def _nice_max(value: float) -> float:
    """Return a round axis maximum at or above ``value`` (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of 10)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= step * magnitude * (1 + 1e-9):
            return step * magnitude
    return 10 * magnitude


def _ticks(top: float) -> int:
    """Return how many grid intervals divide ``top`` into round steps (a 5 % axis gets 1 % steps, not 1.25 %)."""
    mantissa = round(top / 10 ** math.floor(math.log10(top)), 6)
    for count in (4, 5, 6, 3):
        step = round(mantissa / count, 6)
        if any(abs(step * 10 ** k - round(step * 10 ** k)) < 1e-6 and round(step * 10 ** k) in (1, 2, 3, 5)
               for k in range(0, 4)):
            return count
    return 4


def _label(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.1f}%" if value < 0.1 else f"{value * 100:.0f}%"
    if 0 < value < 10 and value != int(value):
        return f"{value:.1f}"
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f} M"
    if value >= 10_000:
        return f"{value / 1_000:.0f} k"
    return f"{value:,.0f}"


def _frame(top: float, percent: bool, labels: Sequence[str], label_every: int, title: str) -> list[str]:
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
             f'aria-label="{escape(title)}" style="max-width:{WIDTH}px;font-family:DejaVu Sans,Arial,sans-serif">']
    ticks = _ticks(top)
    for i in range(ticks + 1):
        value = top * i / ticks
        y = MARGIN_TOP + plot_h - plot_h * i / ticks
        parts.append(f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#d8dee6" stroke-width="1"/>')
        parts.append(f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
                     f'fill="#5b6877">{_label(value, percent)}</text>')
    step = plot_w / max(1, len(labels))
    for i, text in enumerate(labels):
        if i % label_every:
            continue
        x = MARGIN_LEFT + step * (i + 0.5)
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 16}" font-size="11" text-anchor="middle" '
                     f'fill="#1d2733">{escape(text)}</text>')
    return parts


def _legend(names: Sequence[str], colors: Sequence[str]) -> tuple[list[str], int]:
    """Return the legend's SVG parts, wrapped into rows under the plot, and the number of rows."""
    parts, x, row = [], MARGIN_LEFT, 0
    for name, color in zip(names, colors, strict=True):
        width = 24 + int(6.5 * len(name))
        if x + width > WIDTH - MARGIN_RIGHT and x > MARGIN_LEFT:
            x, row = MARGIN_LEFT, row + 1
        y = HEIGHT - 16 + 16 * row
        parts.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{x + 14}" y="{y + 9}" font-size="11" fill="#1d2733">{escape(name)}</text>')
        x += width
    return parts, row + 1


def _close(parts: list[str], legend_rows: int) -> str:
    height = HEIGHT + 16 * (legend_rows - 1)
    parts[0] = parts[0].replace(f'viewBox="0 0 {WIDTH} {HEIGHT}"', f'viewBox="0 0 {WIDTH} {height}"')
    parts.append("</svg>")
    return "".join(parts)


def bars_with_expected(labels: Sequence[str], observed: Sequence[float], expected: Sequence[float] | None, *,
                       title: str, percent: bool = False, observed_name: str = "observed",
                       expected_name: str = "expected", label_every: int = 1,
                       highlight: Sequence[bool] | None = None,
                       highlight_name: str = "significant excess (Z > 1.96)") -> str:
    """Return an SVG bar chart of ``observed`` with ``expected`` drawn as a line with points (e.g. Benford)."""
    top = _nice_max(max([*observed, *(expected or [])], default=0) * 1.05)
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    step = plot_w / max(1, len(labels))
    parts = _frame(top, percent, labels, label_every, title)
    for i, value in enumerate(observed):
        height = plot_h * value / top
        color = "#b3261e" if highlight and highlight[i] else PALETTE[0]
        parts.append(f'<rect x="{MARGIN_LEFT + step * i + step * 0.15:.1f}" y="{MARGIN_TOP + plot_h - height:.1f}" '
                     f'width="{step * 0.7:.1f}" height="{height:.1f}" fill="{color}">'
                     f'<title>{escape(labels[i])}: {_label(value, percent)}</title></rect>')
    names, colors = [observed_name], [PALETTE[0]]
    if expected:
        points = " ".join(f"{MARGIN_LEFT + step * (i + 0.5):.1f},{MARGIN_TOP + plot_h - plot_h * v / top:.1f}"
                          for i, v in enumerate(expected))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{PALETTE[1]}" stroke-width="2"/>')
        if len(expected) <= 30:
            for i, v in enumerate(expected):
                parts.append(f'<circle cx="{MARGIN_LEFT + step * (i + 0.5):.1f}" '
                             f'cy="{MARGIN_TOP + plot_h - plot_h * v / top:.1f}" r="3" fill="{PALETTE[1]}"/>')
        names.append(expected_name)
        colors.append(PALETTE[1])
    if highlight and any(highlight[i] and observed[i] for i in range(len(observed))):
        names.append(highlight_name)
        colors.append("#b3261e")
    legend, rows = _legend(names, colors)
    parts.extend(legend)
    return _close(parts, rows)


def lines(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *, title: str) -> str:
    """Return an SVG line chart with one line per named series over the shared ``labels``."""
    top = _nice_max(max((v for _, values in series for v in values), default=0) * 1.05)
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    step = plot_w / max(1, len(labels))
    parts = _frame(top, False, labels, 1, title)
    colors = [PALETTE[i % len(PALETTE)] for i in range(len(series))]
    for (name, values), color in zip(series, colors, strict=True):
        points = " ".join(f"{MARGIN_LEFT + step * (i + 0.5):.1f},{MARGIN_TOP + plot_h - plot_h * v / top:.1f}"
                          for i, v in enumerate(values))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2">'
                     f'<title>{escape(name)}</title></polyline>')
    legend, rows = _legend([name for name, _ in series], colors)
    parts.extend(legend)
    return _close(parts, rows)
