"""Loading returns: the FNS VAT XML layout (КНД 1151001), CSV and JSON; quarantine and fatal errors."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import GOOD_LINES, write_return

from taxaudit.errors import HostileXMLError, IngestError
from taxaudit.ingest.returns import load_return, parse_vat_xml, period_bounds, return_lines
from taxaudit.store import verify_case
from taxaudit.store.case import Case


def test_vat_xml_lines_header_and_due_date(case: Case, good_return: Path) -> None:
    load = load_return(case, good_return)
    assert (load.return_type, load.period, load.kind, load.correction_no) == ("RU-VAT", "2025-Q1", "original", 0)
    # Due 25 April 2025 (НК РФ ст. 174 п. 5), a Friday: filed on 25 April is on time.
    assert load.due_on == date(2025, 4, 25)
    assert load.filed_late is False
    lines = return_lines(case, load.source_id)
    assert lines == {code: Decimal(value).quantize(Decimal("0.01")) for code, value in GOOD_LINES.items()}
    facts = case.con.execute("SELECT taxpayer_tax_id, taxpayer_name, form_version FROM returns").fetchone()
    assert facts == ("7701234567", "ООО «Ромашка»", "5.08")
    actions = [event.action for event in case.events()]
    assert actions[-2:] == ["source_added", "rows_loaded"]
    case.close()
    assert verify_case(case.root).ok


def test_refund_return_maps_negative_totals_to_lines_210_and_050(case: Case, tmp_path: Path) -> None:
    lines = dict(GOOD_LINES, s3_120=Decimal(300000), s3_190=Decimal(305000), s3_200=Decimal(0),
                 s3_210=Decimal(75000), s1_040=Decimal(0), s1_050=Decimal(75000))
    load = load_return(case, write_return(tmp_path, "refund.xml", lines))
    loaded = return_lines(case, load.source_id)
    assert loaded["s3_210"] == Decimal("75000.00") and "s3_200" not in loaded
    assert loaded["s1_050"] == Decimal("75000.00") and "s1_040" not in loaded


def test_corrective_return_is_recorded(case: Case, good_return: Path, tmp_path: Path) -> None:
    load_return(case, good_return)
    corrected = write_return(tmp_path, "corr1.xml", GOOD_LINES, correction_no=1, filed_on=date(2025, 6, 2))
    load = load_return(case, corrected)
    assert (load.kind, load.correction_no, load.filed_late) == ("corrective", 1, True)


def test_same_file_twice_is_refused(case: Case, good_return: Path) -> None:
    load_return(case, good_return)
    with pytest.raises(IngestError, match="already loaded"):
        load_return(case, good_return)


def test_bad_amount_is_quarantined(case: Case, good_return: Path, tmp_path: Path) -> None:
    text = good_return.read_bytes().replace(b'\xcd\xe0\xeb\xc2\xfb\xf7\xce\xe1\xf9="155000"',
                                            b'\xcd\xe0\xeb\xc2\xfb\xf7\xce\xe1\xf9="155 000 rub"')
    broken = tmp_path / "broken.xml"
    broken.write_bytes(text)
    load = load_return(case, broken)
    assert load.rows_quarantined == 1
    locator, reason_code = case.con.execute("SELECT locator, reason_code FROM quarantine").fetchone()
    assert reason_code == "bad_amount"
    assert locator.endswith("СумНалВыч/@НалВычОбщ")


@pytest.mark.parametrize(("payload", "error", "message"), [
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', HostileXMLError, "DOCTYPE"),
    (b"<\xd4\xe0\xe9\xeb><unclosed>", IngestError, "not well-formed"),
    (b'<?xml version="1.0" encoding="utf-8"?><root/>', IngestError, "not an FNS return"),
])
def test_hostile_or_wrong_xml_is_refused(payload: bytes, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        parse_vat_xml(payload, "test.xml")


def test_other_form_and_bad_period_are_refused(good_return: Path) -> None:
    text = good_return.read_bytes()
    with pytest.raises(IngestError, match="1151001"):
        parse_vat_xml(text.replace(b'="1151001"', b'="1152016"'), "x.xml")
    with pytest.raises(IngestError, match="tax period code"):
        parse_vat_xml(text.replace('Период="21"'.encode("cp1251"), 'Период="99"'.encode("cp1251")), "x.xml")


def test_csv_return_with_quarantined_rows(case: Case, tmp_path: Path) -> None:
    path = tmp_path / "profit.csv"
    path.write_text(
        "return_type,period,correction_no,filed_on,line_code,amount\n"
        "RU-PROFIT,2025,0,2026-03-25,l02_010,5000000.00\n"
        "RU-PROFIT,2025,0,2026-03-25,l02_020,abc\n"
        "RU-PROFIT,2025,0,2026-03-25,l02_010,1.00\n"
        "RU-PROFIT,2024,0,2026-03-25,l02_030,1.00\n"
        "RU-PROFIT,2025,0,2026-03-25,bad code,1.00\n", encoding="utf-8")
    load = load_return(case, path)
    assert (load.lines_loaded, load.rows_quarantined, load.due_on) == (1, 4, None)
    reasons = [row[0] for row in case.con.execute("SELECT reason_code FROM quarantine ORDER BY locator").fetchall()]
    assert reasons == ["bad_amount", "duplicate_line", "other_return", "bad_line_code"]


def test_json_return(case: Case, tmp_path: Path) -> None:
    path = tmp_path / "vat.json"
    path.write_text(json.dumps({"return_type": "RU-VAT", "period": "2025-Q4", "correction_no": 0,
                                "filed_on": "2026-01-26", "taxpayer": {"tax_id": "7701234567"},
                                "lines": {"s3_118": "100.00", "s3_190": "40.00", "s3_200": "60.00"}}))
    load = load_return(case, path)
    # Q4 2025 due 25 Jan 2026, a Sunday -> Monday 26 Jan 2026 (art. 6.1 p. 7): filed on time.
    assert (load.due_on, load.filed_late, load.lines_loaded) == (date(2026, 1, 26), False, 3)


@pytest.mark.parametrize("content", ["[]", "{}", '{"return_type": "RU-VAT", "period": "2025-Q5", "lines": {}}',
                                     '{"return_type": "RU-VAT", "period": "2025-Q1"}', "not json"])
def test_bad_json_is_fatal(case: Case, tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(IngestError):
        load_return(case, path)
    assert case.con.execute("SELECT count(*) FROM sources").fetchone()[0] == 0


def test_csv_missing_columns_and_missing_file(case: Case, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("period,amount\n2025,1\n")
    with pytest.raises(IngestError, match="lacks columns"):
        load_return(case, path)
    with pytest.raises(IngestError, match="not found"):
        load_return(case, tmp_path / "missing.xml")


def test_period_bounds() -> None:
    assert period_bounds("2025-Q1", "x") == (date(2025, 1, 1), date(2025, 3, 31))
    assert period_bounds("2024-02", "x") == (date(2024, 2, 1), date(2024, 2, 29))
    assert period_bounds("2025", "x") == (date(2025, 1, 1), date(2025, 12, 31))
