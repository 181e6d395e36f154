"""The desk-audit part of ``taxaudit demo``: a VAT return whose control ratios break, taken from receipt to
the act — ratios, request for explanations with its statutory deadline, the refused request for documents
(no article 88 ground), the overdue answer, the end of the audit and the act, every step logged.
"""

from __future__ import annotations

import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from taxaudit.cases.documents import issue_document
from taxaudit.cases.errors import DocumentRefused
from taxaudit.cases.lifecycle import advance, flow_status, open_flow
from taxaudit.cases.ratios import evaluate_ratios
from taxaudit.cases.vat_return_xml import vat_return_xml
from taxaudit.ingest.returns import load_return
from taxaudit.store.case import Case

# Q1 2025 VAT return. The taxpayer left the VAT on an advance received (line 070: 20 000) out of line 118 and
# carried the short total into lines 200 and 040: line 118 reads 210 000 where lines 010-070 add up to 230 000.
DEMO_LINES = {
    "s3_010_base": Decimal(1000000), "s3_010": Decimal(200000),
    "s3_020_base": Decimal(100000), "s3_020": Decimal(10000),
    "s3_070_base": Decimal(120000), "s3_070": Decimal(20000),
    "s3_118": Decimal(210000), "s3_120": Decimal(150000), "s3_170": Decimal(5000), "s3_190": Decimal(155000),
    "s3_200": Decimal(55000), "s1_040": Decimal(55000),
}
FILED_ON = date(2025, 4, 25)
REQUEST_ON = date(2025, 4, 28)
OVERDUE_ON = date(2025, 5, 12)
AUDIT_END = date(2025, 6, 25)
ACT_ON = date(2025, 7, 2)


def _taxpayer(case: Case) -> tuple[str, str]:
    row = case.con.execute("SELECT company_name, tax_registration_number FROM source_headers "
                           "WHERE company_name IS NOT NULL LIMIT 1").fetchone()
    name = row[0] if row and row[0] else "ООО «Демо»"
    digits = "".join(ch for ch in (row[1] if row and row[1] else "") if ch.isdigit())
    return name, digits if len(digits) in (10, 12) else "7700000000"


def run_demo_step(case: Case, *, pdf: bool = True) -> dict[str, Any]:
    """Run the desk-audit demonstration inside ``case`` and return what it produced (JSON-ready)."""
    name, inn = _taxpayer(case)
    payload = vat_return_xml(inn=inn, kpp="770101001", name=name, year=2025, quarter=1, filed_on=FILED_ON,
                             lines=DEMO_LINES)
    with tempfile.TemporaryDirectory(prefix="taxaudit-demo-") as folder:
        path = Path(folder) / f"NO_NDS_7701_7701_{inn}770101001_{FILED_ON:%Y%m%d}_demo.xml"
        path.write_bytes(payload)
        load = load_return(case, path)
    run = evaluate_ratios(case, source_id=load.source_id)
    flow = open_flow(case, "ru_desk_audit", subject=load.source_id, on=FILED_ON,
                     title=f"КНП: НДС {load.period}, {name}")
    advance(case, flow.flow_id, "run_checks", on=REQUEST_ON)
    request = issue_document(case, flow.flow_id, "explanations", on=REQUEST_ON, languages=("ru", "en"), pdf=pdf)
    advance(case, flow.flow_id, "send_request", on=REQUEST_ON)
    try:
        issue_document(case, flow.flow_id, "documents", on=REQUEST_ON, pdf=pdf)
        refused = None
    except DocumentRefused as refusal:
        refused = refusal.what
    advance(case, flow.flow_id, "mark_overdue", on=OVERDUE_ON)
    advance(case, flow.flow_id, "complete_audit", on=AUDIT_END)
    advance(case, flow.flow_id, "draw_act", on=ACT_ON)
    act = issue_document(case, flow.flow_id, "act", on=ACT_ON, languages=("ru", "en"), by_post=True, pdf=pdf)
    advance(case, flow.flow_id, "deliver_act", on=ACT_ON, by_post=True)
    status = flow_status(case, flow.flow_id)
    return {
        "return": load.to_dict(),
        "ratios": {"pack": run.pack, "version": run.version, "checked": len(run.results),
                   "failed": [result.rule for result in run.failed]},
        "flow_id": flow.flow_id,
        "request": request.to_dict(),
        "documents_request_refused": refused,
        "act": act.to_dict(),
        "state": status.state,
        "deadlines": [deadline.to_dict() for deadline in status.deadlines],
    }
