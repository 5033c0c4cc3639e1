"""The report's statistics as bar charts (PNG bytes): incidents per class, per month, per area.

matplotlib's object API on the Agg canvas: no pyplot state, no display needed.
"""

import io

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

#: One colour per class of the rules; any other class is drawn grey.
CLASS_COLOURS = {"routine": "#6a9f58", "serious": "#e69b2e", "high-risk": "#c0392b"}
OTHER_COLOUR = "#8c8c8c"


def class_colour(severity: str) -> str:
    return CLASS_COLOURS.get(severity, OTHER_COLOUR)


def counts_by_class_png(counts: dict[str, int], dpi: int = 110) -> bytes:
    """Incidents per class (one bar each, coloured by class)."""
    figure, axes = _figure(dpi)
    names = list(counts)
    bars = axes.bar(names, [counts[n] for n in names], color=[class_colour(n) for n in names])
    axes.bar_label(bars, fontsize=8)
    _finish(axes, "Incidents per class", "incidents")
    return _png(figure)


def counts_by_month_png(table: dict[str, dict[str, int]], dpi: int = 110) -> bytes:
    """Incidents per month, stacked by class."""
    figure, axes = _figure(dpi, width=6.4)
    months = list(table)
    classes = list(next(iter(table.values()))) if table else []
    bottoms = [0] * len(months)
    for severity in classes:
        heights = [table[month][severity] for month in months]
        axes.bar(months, heights, bottom=bottoms, color=class_colour(severity), label=severity)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    if classes:
        axes.legend(fontsize=7, frameon=False)
    axes.tick_params(axis="x", labelrotation=45 if len(months) > 6 else 0)
    _finish(axes, "Incidents per month", "incidents")
    return _png(figure)


def counts_by_area_png(counts: dict[str, int], dpi: int = 110) -> bytes:
    """Incidents per sea area (horizontal bars, most first from the top)."""
    figure, axes = _figure(dpi, height=max(1.8, 0.45 * len(counts) + 1.0))
    names = list(counts)[::-1]
    bars = axes.barh(names, [counts[n] for n in names], color="#4a7aa8")
    axes.bar_label(bars, fontsize=8)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.margins(x=0.12)
    axes.spines[["top", "right"]].set_visible(False)
    axes.set_title("Incidents per area", fontsize=10)
    axes.set_xlabel("incidents", fontsize=8)
    axes.tick_params(labelsize=8)
    return _png(figure)


def _figure(dpi: int, width: float = 4.6, height: float = 2.8) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _finish(axes: Axes, title: str, ylabel: str) -> None:
    axes.set_title(title, fontsize=10)
    axes.set_ylabel(ylabel, fontsize=8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.margins(y=0.15)  # room for the bar labels
    axes.tick_params(labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


__all__ = [
    "CLASS_COLOURS",
    "class_colour",
    "counts_by_area_png",
    "counts_by_class_png",
    "counts_by_month_png",
]
