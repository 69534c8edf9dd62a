"""Charts drawn on the server as SVG: one series over evenly spaced time buckets, as an area and a line.

Kept hand-drawn rather than vendoring a charting library: four small shapes per chart, no script needed to see
them, and the tooltips and keyboard focus below are a few attributes. The left margin is sized from the widest
axis label (measured with per-character advance widths of the axis font), so long labels are never clipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from markupsafe import Markup, escape

from ollama_gateway.storage.usage import UsageBucket

WIDTH, HEIGHT = 640, 200
RIGHT, TOP, BOTTOM = 14, 14, 28
AXIS_FONT_PX = 13
# Advance widths as a fraction of the font size for a system sans-serif (digits are tabular, ~0.56 em); a
# little generous so that no font in use renders wider than this estimate.
_ADVANCE = {",": 0.3, ".": 0.3, " ": 0.3, "%": 0.9, "m": 0.9, "s": 0.55}
_DEFAULT_ADVANCE = 0.62
MIN_LEFT = 28


@dataclass(frozen=True, slots=True)
class Series:
    """One chart's worth of data: a value per bucket start, in order."""

    key: str
    title: str
    unit: str
    points: Sequence[tuple[datetime, float]]

    @property
    def total(self) -> float:
        """The sum over every bucket."""
        return sum(v for _, v in self.points)


def bucket_starts(since: datetime, until: datetime, bucket_seconds: int) -> list[datetime]:
    """Every bucket start (aligned to the Unix epoch, as the store aligns them) from `since` up to `until`."""
    first = int(since.timestamp()) // bucket_seconds * bucket_seconds
    last = int(until.timestamp())
    return [datetime.fromtimestamp(t, UTC) for t in range(first, last, bucket_seconds)]


def series_from(
    buckets: Sequence[UsageBucket],
    starts: Sequence[datetime],
    key: str,
    title: str,
    unit: str,
    value: Callable[[UsageBucket], float],
) -> Series:
    """A series over `starts`, zero where the store had no bucket."""
    by_start = {b.start: value(b) for b in buckets}
    return Series(key, title, unit, [(s, by_start.get(s, 0.0)) for s in starts])


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _label(value: float, unit: str) -> str:
    text = f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:,.1f}"
    return f"{text} {unit}".strip()


def text_width(text: str, font_px: float = AXIS_FONT_PX) -> float:
    """The estimated rendered width of `text` in pixels at `font_px`."""
    return sum(_ADVANCE.get(c, _DEFAULT_ADVANCE) for c in text) * font_px


def left_margin(labels: Sequence[str]) -> int:
    """Room for the widest y-axis label, plus a gap before the plot."""
    return max(MIN_LEFT, int(max((text_width(t) for t in labels), default=0.0)) + 12)


def _tick(moment: datetime, span: timedelta) -> str:
    return moment.strftime("%H:%M") if span < timedelta(days=2) else moment.strftime("%m-%d")


def render_chart(series: Series, bucket_seconds: int) -> Markup:
    """The series as an accessible SVG (role img, a title, one hover title per bucket); all text escaped."""
    points = list(series.points)
    top = _nice_max(max((v for _, v in points), default=0.0))
    fractions = (0.0, 0.5, 1.0)
    axis_labels = [_label(top * f, series.unit) for f in fractions]
    left = left_margin(axis_labels)
    plot_w, plot_h = WIDTH - left - RIGHT, HEIGHT - TOP - BOTTOM
    count = max(len(points), 1)
    step = plot_w / max(count - 1, 1)

    def x(i: int) -> float:
        return left + (i * step if count > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h - (v / top) * plot_h

    coords = [(x(i), y(v)) for i, (_, v) in enumerate(points)]
    line = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
    base = TOP + plot_h
    area = f"M{coords[0][0]:.1f},{base:.1f} L" + " L".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords) if coords else ""
    if coords:
        area += f" L{coords[-1][0]:.1f},{base:.1f} Z"
    span = (points[-1][0] - points[0][0]) if points else timedelta(0)
    summary = f"{series.title}: {_label(series.total, series.unit)} in total" if series.unit != "ms" else series.title
    parts: list[str] = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="group" aria-label="{escape(summary)}" '
        f'data-series="{escape(series.key)}" data-total="{series.total:g}" data-left="{left}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(summary)}</title>",
    ]
    for fraction, text in zip(fractions, axis_labels, strict=True):
        gy = y(top * fraction)
        parts.append(f'<line class="grid" x1="{left}" x2="{WIDTH - RIGHT}" y1="{gy:.1f}" y2="{gy:.1f}"/>')
        parts.append(
            f'<text class="axis" x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end" aria-hidden="true">'
            f"{escape(text)}</text>"
        )
    if coords:
        parts.append(f'<path class="area" d="{area}"/>')
        parts.append(f'<polyline class="line" points="{line}"/>')
        last = len(points) - 1
        for index in sorted({0, last // 2, last}):
            anchor = "start" if index == 0 else "end" if index == last else "middle"
            parts.append(
                f'<text class="axis" x="{coords[index][0]:.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}" '
                f'aria-hidden="true">{escape(_tick(points[index][0], span))}</text>'
            )
        band = max(step, 2.0)
        for (cx, cy), (start, value) in zip(coords, points, strict=True):
            if value:
                parts.append(f'<circle class="dot" cx="{cx:.1f}" cy="{cy:.1f}" r="2.5"/>')
            tip = escape(f"{series.title}, {start:%Y-%m-%d %H:%M} UTC: {_label(value, series.unit)}")
            # Each bucket is focusable: its <title> is the hover tooltip, and admin.js shows the same text in the
            # chart's readout on hover and on keyboard focus.
            parts.append(
                f'<rect class="hit" x="{max(cx - band / 2, left):.1f}" y="{TOP}" width="{band:.1f}" '
                f'height="{plot_h}" tabindex="0" role="img" aria-label="{tip}" data-tip="{tip}">'
                f"<title>{tip}</title></rect>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built above from numbers and escaped text only
