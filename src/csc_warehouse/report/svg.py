"""Static SVG charts for the improvement report: pure functions, text in, text out.

No JavaScript, no fonts to fetch: the charts are inline ``<svg>`` elements that use the
page's system font. Each chart is an image with a text alternative (``role="img"``,
``<title>`` and ``<desc>`` referenced by ``aria-labelledby``) and names its unit and period
on its axes. A value of ``None`` is *no figure* (not available, or nothing to measure): a
trend line has a gap there and a bar chart says so in words; it is never drawn as 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

#: approximate advance of one character of the system sans font, in em
CHAR_EM = 0.56
FONT_PX = 11
INK = "#1b1b1b"
MUTED = "#505a5f"
GRID = "#d8dcde"
SERIES = "#1d70b8"
ENGLAND = "#6f2c91"
TARGET = "#00703c"


@dataclass(frozen=True)
class Point:
    """One period of a trend: its axis label and value (None: no figure for the period)."""

    label: str
    value: float | None
    #: shown in the point's tooltip, e.g. "12 of 40"
    note: str = ""


@dataclass(frozen=True)
class RefLine:
    """A horizontal reference: the England figure or a local target."""

    label: str
    value: float
    kind: str  # "england" | "target"

    @property
    def style(self) -> tuple[str, str]:
        """(colour, dash pattern): England dashed purple, a target dotted green."""
        return (ENGLAND, "6 4") if self.kind == "england" else (TARGET, "2 3")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    #: words shown instead of a bar when value is None (e.g. "suppressed: fewer than 5")
    note: str = ""


def text_width(text: str, px: float = FONT_PX) -> float:
    """Estimated rendered width of ``text`` (system sans, ``px`` font size)."""
    return len(text) * px * CHAR_EM


def nice_axis(values: Sequence[float | None], *, cap: float | None = None,
              count: int = 5, whole: bool = False) -> tuple[float, float]:
    """A round axis (top, step) from 0 covering every value, with at most ``count`` steps
    of 1, 2, 2.5 or 5 times a power of 10; never above ``cap`` when every value fits under
    it (e.g. 100% for a rate). ``whole``: counts, so steps are whole numbers (1, 2, 5, ...;
    never 0.2 or 2.5, whose ticks would read "0 0 0 1 1 1")."""
    top = max([v for v in values if v is not None and math.isfinite(v)] + [0.0])
    if top <= 0:
        top = cap if cap else 1.0
    raw = top / count
    exp = math.floor(math.log10(raw))
    step = 10.0 ** (exp + 1)
    for m in (1, 2, 2.5, 5, 10):
        if m * 10.0**exp * count >= top - 1e-12:
            step = m * 10.0**exp
            break
    if whole:
        step = 1.0 if step < 1 else (3.0 if step == 2.5 else step)
    n = math.ceil(top / step - 1e-9)
    axis_top = n * step
    if cap is not None and top <= cap + 1e-12 and axis_top > cap:
        axis_top = cap
    return axis_top, step


def ticks(top: float, step: float) -> list[float]:
    """0, step, 2 step ... up to ``top`` (the top itself always included)."""
    out = []
    k = 0
    while k * step < top - 1e-9:
        out.append(k * step)
        k += 1
    out.append(top)
    return out


def visible_labels(xs: Sequence[float], widths: Sequence[float], lo: float, hi: float,
                   gap: float = 8.0) -> list[int]:
    """Indices of the x labels to draw so that none overlaps another: the last is always
    kept, then every k-th one going left (k from the median label width), and any that
    would still touch its neighbour is dropped. Labels are centred, clamped to [lo, hi]."""
    n = len(xs)
    if n == 0:
        return []
    median = sorted(widths)[n // 2]
    spacing = (xs[-1] - xs[0]) / (n - 1) if n > 1 else hi - lo
    k = next((k for k in (1, 2, 3, 4, 6, 12, 24) if spacing * k >= median + gap), n)
    kept: list[int] = []
    right_edge = math.inf
    for i in range(n - 1, -1, -k):
        left = max(lo, min(xs[i] - widths[i] / 2, hi - widths[i]))
        if left + widths[i] + gap <= right_edge:
            kept.append(i)
            right_edge = left
    return sorted(kept)


def _ids(chart_id: str) -> tuple[str, str]:
    return f"{chart_id}-title", f"{chart_id}-desc"


def _open_svg(chart_id: str, width: int, height: int, title: str, desc: str) -> list[str]:
    tid, did = _ids(chart_id)
    return [
        f'<svg id="{escape(chart_id)}" class="chart" role="img" aria-labelledby="{tid} {did}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="inherit" font-size="{FONT_PX}">',
        f'<title id="{tid}">{escape(title)}</title>',
        f'<desc id="{did}">{escape(desc)}</desc>',
    ]


def _place_labels(wanted: list[float], min_gap: float, low: float, high: float) -> list[float]:
    """Move label baselines apart (keeping their order) so no two are closer than
    ``min_gap``, within [low, high]."""
    order = sorted(range(len(wanted)), key=lambda i: wanted[i])
    placed = [0.0] * len(wanted)
    last = -math.inf
    for i in order:
        y = max(wanted[i], last + min_gap, low)
        placed[i] = y
        last = y
    # pushed past the bottom: shift the run back up
    overflow = max(0.0, (max(placed) if placed else 0.0) - high)
    return [y - overflow for y in placed]


def line_chart(
    chart_id: str,
    points: Sequence[Point],
    *,
    title: str,
    desc: str,
    y_title: str,
    x_title: str,
    fmt: Callable[[float], str],
    refs: Sequence[RefLine] = (),
    width: int = 640,
    height: int = 220,
    y_floor: float = 0.0,
    y_cap: float | None = None,
) -> str:
    """A trend: one line over equally spaced periods, gaps where a period has no figure,
    the latest figure labelled, and reference lines (England, target) named at the right.

    ``fmt`` turns a value into its label (e.g. 0.125 -> "12.5%"). The y axis starts at 0
    and stops at ``y_cap`` (e.g. 1.0 = 100%) when every value fits under it.
    """
    if not any(p.value is not None for p in points):
        raise ValueError(f"{chart_id}: no period has a figure; show 'not available' instead")
    ref_labels = [f"{r.label} {fmt(r.value)}" for r in refs]
    right = int(max([text_width(t) for t in ref_labels] + [text_width("00.0%")]) + 14)
    top_pad, bottom_pad = 30, 44
    y_max, y_step = nice_axis([p.value for p in points] + [r.value for r in refs]
                              + [y_floor], cap=y_cap)
    y_ticks = ticks(y_max, y_step)
    left = int(max(text_width(fmt(t)) for t in y_ticks) + 12)
    plot_w, plot_h = width - left - right, height - top_pad - bottom_pad
    n = len(points)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top_pad + plot_h * (1 - v / y_max)

    out = _open_svg(chart_id, width, height, title, desc)
    # y axis: title above the axis (horizontal, never under the tick labels), grid, ticks
    out.append(f'<text x="{left}" y="12" fill="{MUTED}" font-weight="600">'
               f'{escape(y_title)}</text>')
    for t in y_ticks:
        yy = y(t)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{yy:.1f}" y2="{yy:.1f}" '
                   f'stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" fill="{MUTED}">'
                   f'{escape(fmt(t))}</text>')
    # x axis: labels thinned so they never overlap, always including the latest period
    widths = [text_width(p.label) for p in points]
    shown = set(visible_labels([x(i) for i in range(n)], widths, 2, width - 2))
    out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top_pad + plot_h}" '
               f'y2="{top_pad + plot_h}" stroke="{MUTED}" stroke-width="1"/>')
    for i, p in enumerate(points):
        xx = x(i)
        out.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top_pad + plot_h}" '
                   f'y2="{top_pad + plot_h + (5 if i in shown else 3)}" stroke="{MUTED}"/>')
        if i in shown:
            lx = max(2, min(xx - widths[i] / 2, width - 2 - widths[i]))
            out.append(f'<text x="{lx:.1f}" y="{top_pad + plot_h + 17}" '
                       f'fill="{MUTED}">{escape(p.label)}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" '
               f'fill="{MUTED}" font-weight="600">{escape(x_title)}</text>')
    # reference lines, labelled in the right margin (moved apart when close)
    if refs:
        wanted = [y(r.value) + 4 for r in refs]
        placed = _place_labels(wanted, FONT_PX + 2, top_pad, top_pad + plot_h + 4)
        for r, text, ly in zip(refs, ref_labels, placed, strict=True):
            colour, dash = r.style
            yy = y(r.value)
            out.append(f'<line class="ref ref-{r.kind}" x1="{left}" x2="{left + plot_w}" '
                       f'y1="{yy:.1f}" y2="{yy:.1f}" stroke="{colour}" stroke-width="1.5" '
                       f'stroke-dasharray="{dash}"/>')
            out.append(f'<text x="{left + plot_w + 6}" y="{ly:.1f}" fill="{colour}">'
                       f'{escape(text)}</text>')
    # the series: one path per run of consecutive figures (a gap is no figure)
    runs: list[list[int]] = []
    for i, p in enumerate(points):
        if p.value is None:
            continue
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    for run in runs:
        if len(run) > 1:
            d = " ".join(f"{'M' if k == 0 else 'L'}{x(i):.1f},{y(points[i].value):.1f}"
                         for k, i in enumerate(run))
            out.append(f'<path class="series" d="{d}" fill="none" stroke="{SERIES}" '
                       f'stroke-width="2" stroke-linejoin="round"/>')
    radius = 2.5 if n > 24 else 3.5
    for i, p in enumerate(points):
        if p.value is None:
            continue
        note = f": {p.note}" if p.note else ""
        out.append(f'<circle class="point" cx="{x(i):.1f}" cy="{y(p.value):.1f}" r="{radius}" '
                   f'fill="{SERIES}"><title>{escape(p.label)} {escape(fmt(p.value))}'
                   f'{escape(note)}</title></circle>')
    last = max(i for i, p in enumerate(points) if p.value is not None)
    lv = points[last].value
    assert lv is not None
    label = fmt(lv)
    lx, ly = x(last), y(lv) - 8
    anchor = "end" if lx + text_width(label) / 2 > left + plot_w else "middle"
    # a white halo keeps the figure readable where it crosses a line
    out.append(f'<text class="latest" x="{lx:.1f}" y="{max(ly, top_pad - 2):.1f}" '
               f'text-anchor="{anchor}" fill="{INK}" font-weight="700" paint-order="stroke" '
               f'stroke="#fff" stroke-width="3" stroke-linejoin="round">{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def bar_chart(
    chart_id: str,
    bars: Sequence[Bar],
    *,
    title: str,
    desc: str,
    x_title: str,
    fmt: Callable[[float], str],
    refs: Sequence[RefLine] = (),
    width: int = 640,
    max_value: float | None = None,
    max_label_chars: int = 34,
    whole: bool = False,
) -> str:
    """Horizontal bars, one per row (teams, checks), the value written at the bar's end; a
    row with no value says why in words. ``max_value`` fixes the axis (e.g. 1.0 for 100%)."""
    if not bars:
        raise ValueError(f"{chart_id}: no rows to draw")
    labels = [b.label if len(b.label) <= max_label_chars else b.label[: max_label_chars - 1]
              + "…" for b in bars]
    left = int(max(text_width(t) for t in labels) + 12)
    right = int(text_width("100.0%") + 12)
    row_h, top_pad, bottom_pad = 20, 10 + 14 * len(refs), 40
    height = top_pad + row_h * len(bars) + bottom_pad
    plot_w = width - left - right
    top, step = nice_axis([b.value for b in bars] + [r.value for r in refs]
                          + ([max_value] if max_value is not None else []), cap=max_value,
                          whole=whole)
    out = _open_svg(chart_id, width, height, title, desc)

    def x(v: float) -> float:
        return left + plot_w * min(v, top) / top

    for t in ticks(top, step):
        xx = x(t)
        out.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top_pad}" '
                   f'y2="{top_pad + row_h * len(bars)}" stroke="{GRID}"/>')
        out.append(f'<text x="{xx:.1f}" y="{top_pad + row_h * len(bars) + 14}" '
                   f'text-anchor="middle" fill="{MUTED}">{escape(fmt(t))}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" '
               f'fill="{MUTED}" font-weight="600">{escape(x_title)}</text>')
    for i, (b, label) in enumerate(zip(bars, labels, strict=True)):
        yy = top_pad + row_h * i
        out.append(f'<text x="{left - 6}" y="{yy + 14}" text-anchor="end" fill="{INK}">'
                   f'<title>{escape(b.label)}</title>{escape(label)}</text>')
        if b.value is None:
            out.append(f'<text class="no-figure" x="{left + 4}" y="{yy + 14}" fill="{MUTED}" '
                       f'font-style="italic">{escape(b.note or "no figure")}</text>')
            continue
        w = max(x(b.value) - left, 1.0)
        out.append(f'<rect class="bar" x="{left}" y="{yy + 3}" width="{w:.1f}" '
                   f'height="{row_h - 6}" fill="{SERIES}"><title>{escape(b.label)}: '
                   f'{escape(fmt(b.value))}{escape(" - " + b.note if b.note else "")}'
                   f'</title></rect>')
        out.append(f'<text x="{left + w + 4:.1f}" y="{yy + 14}" fill="{INK}">'
                   f'{escape(fmt(b.value))}</text>')
    for k, r in enumerate(refs):
        colour, dash = r.style
        xx = x(r.value)
        out.append(f'<line class="ref ref-{r.kind}" x1="{xx:.1f}" x2="{xx:.1f}" '
                   f'y1="{10 + 14 * k}" y2="{top_pad + row_h * len(bars)}" stroke="{colour}" '
                   f'stroke-width="1.5" stroke-dasharray="{dash}"/>')
        text = f"{r.label} {fmt(r.value)}"
        anchor = "end" if xx + 3 + text_width(text) > width else "start"
        out.append(f'<text x="{xx + 3:.1f}" y="{10 + 14 * k + 8}" text-anchor="{anchor}" '
                   f'fill="{colour}">{escape(text)}</text>')
    out.append("</svg>")
    return "\n".join(out)
