"""Model ids in narrow columns: drop the vendor before eliding, so variants stay apart."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QStyledItemDelegate


def fit_model_name(name: str, metrics: QFontMetrics, width: int) -> str:
    """`name` as it fits in `width` pixels.

    'meta-llama/llama-3.1-8b-instruct' and 'meta-llama/llama-3.3-70b-instruct' cut at the
    right (or in the middle) both read 'meta-llama/llama-…': first the vendor goes
    ('llama-3.1-8b-instruct'), then the middle of what is left.
    """
    if metrics.horizontalAdvance(name) <= width:
        return name
    _vendor, slash, model = name.partition("/")
    short = model if slash and model else name
    return metrics.elidedText(short, Qt.TextElideMode.ElideMiddle, width)


class ModelNameDelegate(QStyledItemDelegate):
    """Shows a model id cell with `fit_model_name` (the full id stays in the item)."""

    def initStyleOption(self, option, index) -> None:  # noqa: N802 (Qt API)
        super().initStyleOption(option, index)
        if option.text:
            option.text = fit_model_name(option.text, option.fontMetrics, text_room(option))


def text_room(option) -> int:
    """Pixels the style leaves for the text of an item drawn in `option.rect`."""
    # here, not at the top: QStyle's ~600 enum values cost ~12 ms to build, before the first
    # paint if this module's import built them; the first cell drawn builds them instead
    from PySide6.QtWidgets import QStyle

    style = option.widget.style() if option.widget is not None else None
    if style is None:
        return max(0, option.rect.width() - 6)
    margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, option.widget) + 1
    return max(0, option.rect.width() - 2 * margin)
