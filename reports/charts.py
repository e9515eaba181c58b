"""Inline SVG charts, drawn in Python (no JavaScript: the HTML must open anywhere and print).

Every text placed in a chart is escaped; runs of equal buckets become one rectangle, so a
month of 5-minute buckets stays a small drawing.
"""

from __future__ import annotations

from html import escape

from provdc.reports.compute import Bucket

COLOURS = {"up": "#2e9d5b", "down": "#d64541", "gap": "#b8b8b8", "mw": "#4a78c2"}


def _state(b: Bucket, step: float, maintenance: list[tuple[float, float]]) -> str:
    if any(s < b.end and b.end - step < e for s, e in maintenance):
        return "mw"
    if b.success is None or b.count == 0:
        return "gap"
    return "up" if b.success >= 1 - 1e-9 else "down"


def timeline(buckets: list[Bucket], step: float, start: float, end: float,
             maintenance: list[tuple[float, float]], label: str, width: int = 640, height: int = 18) -> str:
    """One horizontal bar: green up, red failed probes, grey not measured, blue maintenance."""
    span = max(end - start, 1.0)
    rects, run_state, run_start = [], None, start
    for b in sorted(buckets, key=lambda b: b.end):
        state = _state(b, step, maintenance)
        if state != run_state:
            if run_state is not None:
                rects.append((run_state, run_start, b.end - step))
            run_state, run_start = state, b.end - step
    if run_state is not None:
        rects.append((run_state, run_start, end))
    body = "".join(
        f'<rect x="{(s - start) / span * width:.2f}" y="0" width="{max((e - s) / span * width, 0.5):.2f}" '
        f'height="{height}" fill="{COLOURS[state]}" data-state="{state}"/>' for state, s, e in rects)
    return (f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
            f'<rect width="{width}" height="{height}" fill="{COLOURS["gap"]}"/>{body}</svg>')


def thin(points: list[tuple[float, float]], start: float, per_second: float) -> list[tuple[float, float]]:
    """The points a polyline needs at this scale: in each pixel column, the first, lowest,
    highest and last point in time order (a month of 5-minute samples is 14 per pixel of a
    640-pixel chart; the line drawn, its peaks and troughs, are the same)."""
    cols = [int((t - start) * per_second) for t, _ in points]
    edges = [0] + [i for i in range(1, len(cols)) if cols[i] != cols[i - 1]] + [len(cols)]
    out: list[tuple[float, float]] = []
    for a, b in zip(edges, edges[1:]):
        if b - a <= 4:
            out += points[a:b]
            continue
        group = points[a:b]
        low, high = min(group, key=_value), max(group, key=_value)     # the first lowest, the first highest
        out += sorted({group[0], low, high, group[-1]})
    return out


def _value(p: tuple[float, float]) -> float:
    return p[1]


def utilisation(series: dict[str, list[tuple[float, float]]], start: float, end: float, label: str,
                names: dict[str, str], width: int = 640, height: int = 160, limit: float = 0.9) -> str:
    """Utilisation against contract per direction, with the 90 % line of Circular 06/2026."""
    top = max([1.0] + [v for points in series.values() for _, v in points]) * 1.05
    span = max(end - start, 1.0)
    pad = 30

    def xy(t: float, v: float) -> str:
        return f"{pad + (t - start) / span * (width - pad):.1f},{height - v / top * (height - 10):.1f}"

    colours = {"a_to_b": "#1f6fb2", "b_to_a": "#e08a1e"}
    column = (width - pad) / span                     # pixels per second
    lines = "".join(
        f'<polyline fill="none" stroke="{colours.get(d, "#555")}" stroke-width="1.5" '
        f'points="{" ".join(xy(t, v) for t, v in thin(pts, start, column))}" '
        f'data-direction="{escape(d)}"/>' for d, pts in series.items() if pts)
    y90 = height - limit / top * (height - 10)
    y100 = height - 1.0 / top * (height - 10)
    legend = "".join(f'<text x="{pad + 10 + 120 * i}" y="12" font-size="11" fill="{colours.get(d, "#555")}">{escape(names.get(d, d))}</text>'
                     for i, d in enumerate(series))
    return (f'<svg class="utilisation" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
            f'<rect x="{pad}" y="0" width="{width - pad}" height="{height}" fill="#fafafa" stroke="#ddd"/>'
            f'<line x1="{pad}" x2="{width}" y1="{y100:.1f}" y2="{y100:.1f}" stroke="#999" stroke-width="0.5"/>'
            f'<line class="limit" x1="{pad}" x2="{width}" y1="{y90:.1f}" y2="{y90:.1f}" stroke="#d64541" stroke-dasharray="4 3"/>'
            f'<text x="2" y="{y90 + 4:.1f}" font-size="10" fill="#d64541">90%</text>'
            f'<text x="2" y="{y100 + 4:.1f}" font-size="10" fill="#999">100%</text>{lines}{legend}</svg>')
