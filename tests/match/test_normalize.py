"""Invoice-number normalisation: the Ibis expression and the Python function agree, and known spellings meet."""

from __future__ import annotations

import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxaudit import engine
from taxaudit.match.normalize import NumberNormalization, invoice_key, normalize_invoice_no


@pytest.mark.parametrize(("a", "b"), [
    ("СФ-0000123", "сф 0000123"),     # Cyrillic, case and a space instead of the hyphen
    ("0000123", "123"),               # leading zeros dropped by the buyer
    ("A/17.3", "a 17-3"),
    ("СТ-5", "CT5"),                  # Cyrillic С, Т typed as Latin C, T
    ("№ 42", "42"),
])
def test_spellings_of_one_number_meet(a: str, b: str) -> None:
    assert normalize_invoice_no(a) == normalize_invoice_no(b)


def test_rules_can_be_switched_off() -> None:
    strict = NumberNormalization(ignore_leading_zeros=False)
    assert normalize_invoice_no("0012", strict) != normalize_invoice_no("12", strict)
    assert normalize_invoice_no("000") == "0"


ALPHABET = "0123456789AaBbZzСсфФТт -/._#№\\\t\n\x0b\u00a0"
RULES = st.builds(NumberNormalization, ignore_case=st.booleans(), ignore_spaces=st.booleans(),
                  separators=st.sampled_from(["-/\\._#№", "", "-"]), ignore_leading_zeros=st.booleans(),
                  fold_lookalikes=st.booleans())


def _keys(con, numbers: list[str], rules: NumberNormalization) -> list[str]:
    table = ibis.memtable(pa.table({"no": pa.array(numbers, pa.string())}))
    return engine.to_arrow(con, table.select(key=invoice_key(table.no, rules))).column("key").to_pylist()


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet=ALPHABET, max_size=12), min_size=1, max_size=25), RULES)
def test_expression_equals_python(numbers: list[str], rules: NumberNormalization) -> None:
    assert _keys(engine.connect(), numbers, rules) == [normalize_invoice_no(n, rules) for n in numbers]


# Numbers where the engines' regex dialects and whitespace sets could part ways with Python's.
EDGE_NUMBERS = ["", "0", "000", "00 0", " 0012 ", "\t7\n", "\x0b5\x0b", "\u00a0№ 0042\u00a0", "0\n0", "A00",
                "0-0-1", "\\0\\", "ТС-01", "сф/000", "0\n", "\n"]


@pytest.mark.spark
@pytest.mark.parametrize("rules", [NumberNormalization(), NumberNormalization(ignore_spaces=False, separators=""),
                                   NumberNormalization(ignore_case=False, fold_lookalikes=False)])
def test_spark_expression_equals_python(spark, rules: NumberNormalization) -> None:
    assert _keys(engine.connect("spark"), EDGE_NUMBERS, rules) == [normalize_invoice_no(n, rules) for n in EDGE_NUMBERS]
