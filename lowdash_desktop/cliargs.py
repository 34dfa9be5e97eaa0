"""Command-line values checked where argparse reads them: a bad one is one line and exit 2.

Qt-free and light (argparse and math only): the GUI start builds the parser too.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import NoReturn

from .exitcodes import EXIT_USAGE

_SHOWN = 24  # characters of a bad value repeated in the message


def _shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "…")


class Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line saying what is wrong, and exit 2."""

    def error(self, message: str) -> NoReturn:
        from .safe_text import visible

        self.exit(EXIT_USAGE, f"{self.prog}: {visible(message)} (see {self.prog} --help)\n")


def int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`."""

    def whole_number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {_shown(text)}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be from {low:,} to {high:,}, not {_shown(text.strip())}"
            )
        return value

    return whole_number


def float_in(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number from `low` to `high`."""

    def number(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {_shown(text)}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be from {low:g} to {high:g}, not {_shown(text.strip())}"
            )
        return value

    return number


def path_text(text: str) -> str:
    """An argparse type: a file or folder name (not empty, no NUL character)."""
    if not text:
        raise argparse.ArgumentTypeError("is empty; give a file or folder name")
    if "\x00" in text:
        raise argparse.ArgumentTypeError("holds a NUL character")
    return text


def non_empty(text: str) -> str:
    """An argparse type: any text but an empty one, and text that is valid Unicode (bytes
    that are not UTF-8 reach Python as lone surrogates, which nothing can store or compare)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError("is not valid UTF-8 text") from None
    return text


MAX_URL = 2048


def url_text(text: str) -> str:
    """An argparse type: a platform address (not empty, no control character, not huge)."""
    from .safe_text import visible

    if not text.strip():
        raise argparse.ArgumentTypeError("is empty; give the platform address, https://host/v1")
    if visible(text) != text:
        raise argparse.ArgumentTypeError(f"holds control characters: {_shown(text)}")
    if len(text) > MAX_URL:
        raise argparse.ArgumentTypeError(f"is longer than {MAX_URL:,} characters")
    return text
