"""Invoice-number normalisation, so ``"СФ-000123"`` in a purchase book meets ``"cф 123"`` in a sales book.

Buyers retype the seller's invoice number into their purchase book; case, spaces, separators, leading zeros and
Cyrillic letters that look like Latin ones are the usual differences (ASK NDS-2 compares the invoice number and
date among the invoice's details, Tax Code of the Russian Federation art. 169 p. 5). The rules are configurable
and exist twice: as an Ibis expression for the engines and as a Python function for tests and single values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ibis.expr import types as ir

# Upper-case Cyrillic letters that are drawn like Latin capitals, and the Latin letters they are mistaken for.
CYRILLIC_LOOKALIKES = "АВЕКМНОРСТХ"
LATIN_LOOKALIKES = "ABEKMHOPCTX"
# The spaces ignored or trimmed, spelled out: "\\s" means different sets in RE2 (DuckDB), java.util.regex (Spark)
# and Python, and SQL's TRIM differs between the engines too.
WHITESPACE = " \t\n\x0b\f\r\u00a0"
_SPACE_CLASS = "\\t\\n\\x0B\\f\\r \u00a0"  # WHITESPACE as members of a regex class, read alike by all three


@dataclass(frozen=True)
class NumberNormalization:
    """Which differences between two spellings of one invoice number are ignored."""

    ignore_case: bool = True
    ignore_spaces: bool = True
    separators: str = "-/\\._#№"
    ignore_leading_zeros: bool = True
    fold_lookalikes: bool = True


def normalize_invoice_no(number: str, rules: NumberNormalization = NumberNormalization()) -> str:
    """Return the matching key of one invoice number under ``rules`` (same result as :func:`invoice_key`)."""
    key = number.strip(WHITESPACE)
    if rules.ignore_case:
        key = key.upper()
    if rules.fold_lookalikes:
        key = key.translate(str.maketrans(CYRILLIC_LOOKALIKES, LATIN_LOOKALIKES))
    if rules.ignore_spaces:
        key = "".join(ch for ch in key if ch not in WHITESPACE)
    if rules.separators:
        key = re.sub("[" + re.escape(rules.separators) + "]", "", key)
    if rules.ignore_leading_zeros and key:
        key = re.sub("^0+", "", key) or "0"
    return key


def invoice_key(number: ir.StringValue, rules: NumberNormalization = NumberNormalization()) -> ir.StringValue:
    """Return the Ibis expression of the matching key of an invoice-number column under ``rules``.

    Each step reads the previous one exactly once, so the compiled SQL stays one chain of calls (an expression
    used twice is repeated in full by Ibis and evaluated twice by the engine). Spaces and separators go in one
    pass: deleting two sets of characters one after the other equals deleting their union.
    """
    key = number
    if not rules.ignore_spaces:  # (with ignore_spaces every space goes below, the edges' too)
        key = key.re_replace("^[" + _SPACE_CLASS + "]+|[" + _SPACE_CLASS + "]+$", "")
    if rules.ignore_case:
        key = key.upper()
    if rules.fold_lookalikes:
        key = key.translate(CYRILLIC_LOOKALIKES, LATIN_LOOKALIKES)
    deleted = (_SPACE_CLASS if rules.ignore_spaces else "") + _class_escape(rules.separators)
    if deleted:
        key = key.re_replace("[" + deleted + "]+", "")
    if rules.ignore_leading_zeros:
        # The shortest run of leading zeros that leaves at least one character: "000" -> "0", "0012" -> "12".
        # (?s): a newline kept under ignore_spaces=False is a character like any other. No match (the empty
        # string) extracts "" on both engines, as the Python function keeps it.
        key = key.re_extract("(?s)^0*(.+)$", 1)
    return key


def _class_escape(chars: str) -> str:
    """Escape characters for a regex character class in both RE2 (DuckDB) and java.util.regex (Spark)."""
    return "".join("\\" + ch if ch in "\\]^-[" else ch for ch in chars)
