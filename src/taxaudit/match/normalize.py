"""Invoice-number normalisation, so ``"СФ-000123"`` in a purchase book meets ``"cф 123"`` in a sales book.

Buyers retype the seller's invoice number into their purchase book; case, spaces, separators, leading zeros and
Cyrillic letters that look like Latin ones are the usual differences (ASK NDS-2 compares the invoice number and
date among the invoice's details, Tax Code of the Russian Federation art. 169 p. 5). The rules are configurable
and exist twice: as an Ibis expression for the engines and as a Python function for tests and single values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ibis
from ibis.expr import types as ir

# Upper-case Cyrillic letters that are drawn like Latin capitals, and the Latin letters they are mistaken for.
CYRILLIC_LOOKALIKES = "АВЕКМНОРСТХ"
LATIN_LOOKALIKES = "ABEKMHOPCTX"
_SPACES = "[\\s\u00a0]+"


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
    key = number.strip()
    if rules.ignore_case:
        key = key.upper()
    if rules.fold_lookalikes:
        key = key.translate(str.maketrans(CYRILLIC_LOOKALIKES, LATIN_LOOKALIKES))
    if rules.ignore_spaces:
        key = re.sub(_SPACES, "", key)
    if rules.separators:
        key = re.sub("[" + re.escape(rules.separators) + "]", "", key)
    if rules.ignore_leading_zeros and key:
        key = re.sub("^0+", "", key) or "0"
    return key


def invoice_key(number: ir.StringValue, rules: NumberNormalization = NumberNormalization()) -> ir.StringValue:
    """Return the Ibis expression of the matching key of an invoice-number column under ``rules``."""
    key = number.strip()
    if rules.ignore_case:
        key = key.upper()
    if rules.fold_lookalikes:
        key = key.translate(CYRILLIC_LOOKALIKES, LATIN_LOOKALIKES)
    if rules.ignore_spaces:
        key = key.re_replace(_SPACES, "")
    if rules.separators:
        key = key.re_replace("[" + _class_escape(rules.separators) + "]", "")
    if rules.ignore_leading_zeros:
        stripped = key.re_replace("^0+", "")
        key = ibis.ifelse((stripped == "") & (key != ""), "0", stripped)
    return key


def _class_escape(chars: str) -> str:
    """Escape characters for a regex character class in both RE2 (DuckDB) and java.util.regex (Spark)."""
    return "".join("\\" + ch if ch in "\\]^-[" else ch for ch in chars)
