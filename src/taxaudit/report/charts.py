"""Inline SVG charts (bars, bars with an expected curve, lines) that need no script, font or network."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

PALETTE = ("#2f5d8a", "#c0692b", "#3f8f5b", "#8a4f9e", "#b3261e", "#6b7c8f", "#c9a227", "#1f8a8a", "#7a5230")
WIDTH, HEIGHT = 720, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 16, 16, 44


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10 if value >= 1 else 1.0
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _label(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.1f}%" if value < 0.1 else f"{value * 100:.0f}%"
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
    for i in range(5):
        value = top * i / 4
        y = MARGIN_TOP + plot_h - plot_h * i / 4
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


def _legend(names: Sequence[str], colors: Sequence[str]) -> list[str]:
    parts, x = [], MARGIN_LEFT
    for name, color in zip(names, colors, strict=True):
        parts.append(f'<rect x="{x}" y="{HEIGHT - 16}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{x + 14}" y="{HEIGHT - 7}" font-size="11" fill="#1d2733">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return parts


def bars_with_expected(labels: Sequence[str], observed: Sequence[float], expected: Sequence[float] | None, *,
                       title: str, percent: bool = False, observed_name: str = "observed",
                       expected_name: str = "expected", label_every: int = 1,
                       highlight: Sequence[bool] | None = None) -> str:
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
    if highlight and any(highlight):
        names.append("significant excess (Z > 1.96)")
        colors.append("#b3261e")
    parts.extend(_legend(names, colors))
    parts.append("</svg>")
    return "".join(parts)


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
    parts.extend(_legend([name for name, _ in series], colors))
    parts.append("</svg>")
    return "".join(parts)
