"""Server-side SVG charts for the statistics page: heat map, confusion matrix, distribution bars.

Pure: plain lists in, an SVG string out, no Django and no JavaScript. Every piece of text is
escaped here, so callers may mark the result safe. Colours come from a small fixed palette that
stays readable for the common colour-vision deficiencies.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

CELL = 44
LABEL_WIDTH = 130
# Okabe-Ito: distinguishable with deuteranopia and protanopia.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def _text(x: float, y: float, content: str, **attributes: str) -> str:
    extra = "".join(
        f' {name.replace("_", "-")}="{escape(value)}"' for name, value in attributes.items()
    )
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(content)}</text>'


def _open(width: float, height: float, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )


def _diverging(value: float) -> str:
    """-1 orange, 0 white, 1 blue: kappa below zero is worse than chance."""
    value = max(-1.0, min(1.0, value))
    end = (0, 114, 178) if value >= 0 else (213, 94, 0)
    weight = abs(value)
    red, green, blue = (round(255 + (e - 255) * weight) for e in end)
    return f"rgb({red},{green},{blue})"


def _ink(value: float) -> str:
    return "#fff" if abs(value) > 0.55 else "#111"


def heat_map(names: Sequence[str], values: Sequence[Sequence[float | None]], *, title: str) -> str:
    """A square matrix of pairwise figures (e.g. Cohen's kappa); None cells show a dash."""
    size = len(names)
    width = LABEL_WIDTH + size * CELL + 10
    height = LABEL_WIDTH + size * CELL + 10
    parts = [_open(width, height, title)]
    for i, name in enumerate(names):
        x = LABEL_WIDTH + i * CELL + CELL / 2
        parts.append(
            _text(
                x,
                LABEL_WIDTH - 6,
                name,
                transform=f"rotate(-45 {x:.1f} {LABEL_WIDTH - 6})",
                class_="axis",
            )
        )
        parts.append(
            _text(LABEL_WIDTH - 6, LABEL_WIDTH + i * CELL + CELL / 2 + 4, name, text_anchor="end")
        )
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            x, y = LABEL_WIDTH + j * CELL, LABEL_WIDTH + i * CELL
            if value is None:
                fill, label, ink = "#eee", "–", "#555"
            else:
                fill, label, ink = _diverging(value), f"{value:.2f}", _ink(value)
            tip = f"{names[i]} × {names[j]}: {label}"
            parts.append(
                f'<rect x="{x}" y="{y}" width="{CELL - 2}" height="{CELL - 2}" fill="{fill}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            parts.append(
                _text(x + CELL / 2 - 1, y + CELL / 2 + 3, label, text_anchor="middle", fill=ink)
            )
    parts.append("</svg>")
    return "".join(parts)


def confusion_matrix(
    row_name: str,
    column_name: str,
    categories: Sequence[str],
    counts: Sequence[Sequence[int]],
) -> str:
    """Rows: the first annotator's labels; columns: the second's. Shade grows with the count."""
    size = len(categories)
    top = LABEL_WIDTH + 18
    width = LABEL_WIDTH + size * CELL + 10
    height = top + size * CELL + 10
    largest = max((max(row, default=0) for row in counts), default=0) or 1
    title = f"Confusion matrix: {row_name} (rows) against {column_name} (columns)"
    parts = [_open(width, height, title)]
    parts.append(_text(LABEL_WIDTH, 12, f"columns: {column_name}", class_="axis-title"))
    parts.append(_text(4, 12, f"rows: {row_name}", class_="axis-title"))
    for i, category in enumerate(categories):
        x = LABEL_WIDTH + i * CELL + CELL / 2
        parts.append(
            _text(x, top - 6, category, transform=f"rotate(-45 {x:.1f} {top - 6})", class_="axis")
        )
        parts.append(
            _text(LABEL_WIDTH - 6, top + i * CELL + CELL / 2 + 4, category, text_anchor="end")
        )
    for i, row in enumerate(counts):
        for j, count in enumerate(row):
            x, y = LABEL_WIDTH + j * CELL, top + i * CELL
            share = count / largest
            fill = _diverging(share) if count else "#f6f6f6"
            tip = f"{row_name}: {categories[i]}, {column_name}: {categories[j]}: {count}"
            stroke = ' stroke="#222" stroke-width="1.5"' if i == j else ""
            parts.append(
                f'<rect x="{x}" y="{y}" width="{CELL - 2}" height="{CELL - 2}" '
                f'fill="{fill}"{stroke}><title>{escape(tip)}</title></rect>'
            )
            parts.append(
                _text(
                    x + CELL / 2 - 1,
                    y + CELL / 2 + 3,
                    str(count),
                    text_anchor="middle",
                    fill=_ink(share),
                )
            )
    parts.append("</svg>")
    return "".join(parts)


def distribution_bars(
    annotators: Sequence[str], categories: Sequence[str], counts: Sequence[Sequence[int]]
) -> str:
    """One bar per annotator, split into the shares of each category, with a legend."""
    bar_width, bar_height, gap = 360, 20, 8
    legend_height = 22 * ((len(categories) + 2) // 3)
    width = LABEL_WIDTH + bar_width + 70
    height = legend_height + len(annotators) * (bar_height + gap) + 10
    parts = [_open(width, height, "Label distribution per annotator")]
    for index, category in enumerate(categories):
        x: float = 4 + (index % 3) * 170
        y = 4 + (index // 3) * 22
        parts.append(
            f'<rect x="{x}" y="{y}" width="14" height="14" fill="{PALETTE[index % len(PALETTE)]}"/>'
        )
        parts.append(_text(x + 20, y + 12, category))
    for row, (annotator, row_counts) in enumerate(zip(annotators, counts, strict=True)):
        y = legend_height + row * (bar_height + gap)
        total = sum(row_counts)
        parts.append(_text(LABEL_WIDTH - 6, y + 15, annotator, text_anchor="end"))
        x = float(LABEL_WIDTH)
        for index, count in enumerate(row_counts):
            if not count:
                continue
            share = count / total
            tip = f"{annotator}: {categories[index]} {count} ({share:.0%})"
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{share * bar_width:.1f}" height="{bar_height}" '
                f'fill="{PALETTE[index % len(PALETTE)]}"><title>{escape(tip)}</title></rect>'
            )
            x += share * bar_width
        parts.append(_text(LABEL_WIDTH + bar_width + 6, y + 15, str(total)))
    parts.append("</svg>")
    return "".join(parts)


def daily_bars(days: Sequence[str], counts: Sequence[int], *, title: str) -> str:
    """A small bar per day (a sparkline with a baseline), the highest bar labelled; each bar's
    tooltip gives its day and count. Days without any count draw a flat line, so a stop shows."""
    bar, gap, height, top = 6, 2, 36, 12
    width = max(len(days), 1) * (bar + gap) + 40
    largest = max(counts, default=0)
    total = sum(counts)
    parts = [_open(width, height + top + 4, f"{title}: {total} in {len(days)} days")]
    for index, (day, count) in enumerate(zip(days, counts, strict=True)):
        x = index * (bar + gap)
        tall = round(height * count / largest) if largest else 0
        parts.append(
            f'<rect x="{x}" y="{top + height - max(tall, 1)}" width="{bar}" '
            f'height="{max(tall, 1)}" fill="{PALETTE[0] if count else "#bbb"}">'
            f"<title>{escape(day)}: {count}</title></rect>"
        )
    parts.append(_text(len(days) * (bar + gap) + 4, top + height, str(total), class_="axis"))
    parts.append(_text(0, top - 3, f"max {largest}/day", class_="axis"))
    parts.append("</svg>")
    return "".join(parts)
