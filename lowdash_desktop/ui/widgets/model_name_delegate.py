"""Model ids in narrow columns: drop the vendor before eliding, so variants stay apart."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QStyledItemDelegate

NOISE_SUFFIXES = ("-instruct", "-chat", "-it", "-preview", "-latest")


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
    if metrics.horizontalAdvance(short) <= width:
        return short
    # then the suffix most variants share ('-instruct'): 'llama-…struct' three times told
    # nothing; 'llama-3.1-8b' and 'llama-3.3-70b' are what sets them apart
    for suffix in NOISE_SUFFIXES:
        if short.endswith(suffix) and len(short) > len(suffix):
            short = short[: -len(suffix)]
            break
    return metrics.elidedText(short, Qt.TextElideMode.ElideMiddle, width)


class ModelNameDelegate(QStyledItemDelegate):
    """Shows a model id cell with `fit_model_name` (the full id stays in the item)."""

    def initStyleOption(self, option, index) -> None:  # noqa: N802 (Qt API)
        super().initStyleOption(option, index)
        if option.text:
            option.text = fit_model_name(option.text, option.fontMetrics, text_room(option))


def text_room(option) -> int:
    """Pixels an item view leaves for the text of an item drawn in `option.rect`.

    Qt's styles keep 3 px free on either side (`PM_FocusFrameHMargin` + 1); one more covers
    a platform style with a wider margin, where Qt would otherwise add its own '…'. Asking
    the style would build `QStyle`'s ~600 enum values (~12 ms in one go) while the first
    figures are drawn, the longest pause after the window shows.
    """
    return max(0, option.rect.width() - 2 * 4)
