"""Charts as inline SVG drawn on the server: nothing to download, so they render offline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

WIDTH, HEIGHT, PAD = 520, 180, 36
COLOURS = ("#1264a3", "#2eb67d", "#e01e5a", "#ecb22e")


def line_chart(
    title: str,
    series: Sequence[tuple[str, Sequence[tuple[date, float | None]]]],
    *,
    percent: bool = False,
) -> str:
    """Named series over the same days; gaps (None) break a line. A <figure> with an <svg>."""
    days = [d for d, _ in series[0][1]] if series else []
    values = [v for _, points in series for _, v in points if v is not None]
    top = 1.0 if percent else max(values, default=0.0) or 1.0
    step = (WIDTH - 2 * PAD) / max(len(days) - 1, 1)
    parts = [_axes(days, top, percent)]
    for index, (name, points) in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        for run in _runs(points):
            coords = " ".join(f"{PAD + i * step:.1f},{_y(v, top):.1f}" for i, v in run)
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}">'
                f"<title>{escape(name)}</title></polyline>"
            )
            # A day alone between gaps is a dot; a run's points are marked too.
            parts += [
                f'<circle cx="{PAD + i * step:.1f}" cy="{_y(v, top):.1f}" r="2.5" fill="{colour}">'
                f"<title>{escape(name)} {days[i].isoformat()}: {v:.3g}</title></circle>"
                for i, v in run
            ]
        legend_x = PAD + index * 110
        parts.append(
            f'<text x="{legend_x}" y="12" fill="{colour}" font-size="11">{escape(name)}</text>'
        )
    return _figure(title, "".join(parts))


def bar_chart(title: str, bars: Sequence[tuple[str, int]]) -> str:
    """Horizontal bars, e.g. reject reasons by count."""
    if not bars:
        return _figure(title, '<text x="10" y="30" font-size="12">nothing in this window</text>')
    top = max(n for _, n in bars) or 1
    height = 24 * len(bars) + 10
    rows = []
    for i, (label, n) in enumerate(bars):
        width = (WIDTH - 200) * n / top
        y = 8 + i * 24
        rows.append(
            f'<text x="4" y="{y + 13}" font-size="11">{escape(label[:32])}</text>'
            f'<rect x="190" y="{y}" width="{width:.1f}" height="16" fill="{COLOURS[2]}"/>'
            f'<text x="{194 + width:.1f}" y="{y + 13}" font-size="11">{n}</text>'
        )
    return _figure(title, "".join(rows), height)


def _runs(points: Sequence[tuple[date, float | None]]) -> list[list[tuple[int, float]]]:
    runs: list[list[tuple[int, float]]] = [[]]
    for i, (_day, value) in enumerate(points):
        if value is None:
            runs.append([])
        else:
            runs[-1].append((i, value))
    return [run for run in runs if run]


def _y(value: float, top: float) -> float:
    return HEIGHT - PAD - (HEIGHT - 2 * PAD) * value / top


def _axes(days: Sequence[date], top: float, percent: bool) -> str:
    label = f"{top:.0%}" if percent else f"{top:.3g}"
    first = days[0].isoformat() if days else ""
    last = days[-1].isoformat() if days else ""
    bottom = HEIGHT - PAD
    return (
        f'<line x1="{PAD}" y1="{bottom}" x2="{WIDTH - PAD}" y2="{bottom}" stroke="#999"/>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{bottom}" stroke="#999"/>'
        f'<text x="2" y="{PAD + 4}" font-size="10">{escape(label)}</text>'
        f'<text x="{PAD}" y="{HEIGHT - 18}" font-size="10">{escape(first)}</text>'
        f'<text x="{WIDTH - PAD - 60}" y="{HEIGHT - 18}" font-size="10">{escape(last)}</text>'
    )


def _figure(title: str, inner: str, height: int = HEIGHT) -> str:
    return (
        f'<figure class="chart"><figcaption>{escape(title)}</figcaption>'
        f'<svg role="img" aria-label="{escape(title)}" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">{inner}</svg></figure>'
    )
