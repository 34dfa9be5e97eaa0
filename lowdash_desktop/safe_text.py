"""Platform text made safe to write out: to a CSV cell, a PDF or a terminal line.

Strings from the platform (ids, model, provider and region names, invoice lines) are data, never
instructions to whatever shows them:

- control characters (C0 including tab, CR and LF; DEL; C1), the Unicode line and paragraph
  separators and the bidirectional controls (U+061C, U+200E/F, U+202A-U+202E, U+2066-U+2069)
  are each replaced by U+FFFD, visibly, so nothing reorders, hides or breaks what follows;
- a CSV cell that starts with `=`, `+`, `-`, `@`, tab or CR (or their full-width forms) gets a
  single quote in front and is quoted, as OWASP's CSV-injection guidance says, so spreadsheets
  read it as text; numbers in numeric columns are left as they are.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
# one character class, shared by the CSV export's checks
# (and lone surrogates: a file name's undecodable bytes, which no terminal can print)
CONTROL_CLASS = "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
_CONTROL = re.compile(f"[{CONTROL_CLASS}]")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# a CSV field with one of these is quoted (RFC 4180; `;` for spreadsheets set to split on it)
_QUOTE_IF = re.compile('[,";\r\n]')
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def visible(text: str) -> str:
    """`text` with every control and bidi character replaced by U+FFFD."""
    return _CONTROL.sub(REPLACEMENT, text)


def is_decimal(text: str) -> bool:
    """True for a plain decimal number such as `-0.000731` (the cost column's form)."""
    return _DECIMAL.fullmatch(text) is not None


def csv_text_cell(text: str) -> str:
    """One CSV field for a platform string: visible, never a formula, RFC 4180 quoted."""
    text = visible(text)
    neutralised = text.startswith(FORMULA_STARTS)
    if neutralised:
        text = "'" + text
    if neutralised or _QUOTE_IF.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text
