"""Issue desk-audit documents from the case: the request for explanations (НК РФ ст. 88 п. 3; приложение 4 к
приказу ФНС ММВ-7-2/628@), the request for documents (ст. 88 пп. 6-8.7, ст. 93; приложение 17) and the
desk-audit act (ст. 100), in Russian and English, as HTML and PDF in the case's ``reports/`` folder.

A request for documents is refused unless an article 88 ground applies, and the refusal names every ground
that was checked. Every issued document is hashed and logged in the custody chain.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from taxaudit import __version__
from taxaudit.cases.deadlines import compute_deadline
from taxaudit.cases.errors import DocumentRefused
from taxaudit.cases.grounds import check_grounds
from taxaudit.cases.lifecycle import _flow_row, ensure_tables
from taxaudit.cases.ratios import failed_findings
from taxaudit.ingest.returns import ensure_table
from taxaudit.report.html import render_html, write_pdf
from taxaudit.rules.loader import load_pack
from taxaudit.store.case import Case, sha256_file

REQUEST_STATES = ("checks_done", "request_sent", "answer_received", "overdue")
KINDS = {
    "explanations": {"template": "request_explanations", "rule": "ru.explanations", "code": "ТП",
                     "states": REQUEST_STATES},
    "documents": {"template": "request_documents", "rule": "ru.documents", "code": "ТД", "states": REQUEST_STATES},
    "act": {"template": "act", "rule": "ru.objections", "code": "АКТ", "states": ("audit_completed", "act_drawn")},
}
LANGUAGES = ("ru", "en")
RETURN_TITLES = {"RU-VAT": ("Налоговая декларация по налогу на добавленную стоимость", "VAT return (KND 1151001)")}
QUARTERS_RU = {"1": "1 квартал", "2": "2 квартал", "3": "3 квартал", "4": "4 квартал"}

DOCUMENTS_TABLE = """
CREATE TABLE IF NOT EXISTS case_documents (
    document_id VARCHAR PRIMARY KEY, flow_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, number VARCHAR NOT NULL,
    issued_on DATE NOT NULL, deadline_rule VARCHAR, due DATE, details JSON)
"""


@dataclass
class IssuedDocument:
    """A document issued in a case: its number, deadline and the files written (with SHA-256)."""

    document_id: str
    flow_id: str
    kind: str
    number: str
    issued_on: date
    due: date | None
    files: list[dict[str, str]] = field(default_factory=list)
    grounds: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ru_date(day: date | None) -> str:
    return "" if day is None else day.strftime("%d.%m.%Y")


def _return_context(facts: dict[str, Any]) -> dict[str, Any]:
    title_ru, title_en = RETURN_TITLES.get(facts["return_type"], (facts["return_type"], facts["return_type"]))
    year, _, part = facts["period"].partition("-")
    period_ru = f"{QUARTERS_RU[part[1]]} {year} г." if part.startswith("Q") else f"{facts['period']} г."
    period_en = f"{part} {year}" if part else year
    return {"title_ru": title_ru, "title_en": title_en, "period_ru": period_ru, "period": period_en,
            "correction_no": facts["correction_no"], "filed_on": facts["filed_on"],
            "filed_on_text": _ru_date(facts["filed_on"])}


def _findings_context(case: Case, source_id: str) -> list[dict[str, Any]]:
    packs: dict[str, Any] = {}
    result = []
    for finding in failed_findings(case, source_id):
        evidence = finding["evidence"]
        pack = packs.setdefault(evidence["pack"], load_pack(evidence["pack"]))
        rule = pack.rules.get(evidence["rule"], {})
        result.append({
            "check_id": finding["check_id"], "title": rule.get("title", finding["message"]),
            "title_ru": rule.get("title_ru", rule.get("title", finding["message"])),
            "formula": evidence.get("formula", ""), "left": Decimal(evidence["left"]),
            "right": Decimal(evidence["right"]), "difference": Decimal(evidence["difference"]),
            "amount": finding["amount"], "citation": finding["citation"],
            "consequence": evidence.get("consequence", ""),
            "consequence_ru": " ".join(str(rule.get("consequence_ru", evidence.get("consequence", ""))).split()),
            "severity": finding["severity"]})
    return result


def _deadline_context(rule: str, on: date, by_post: bool) -> dict[str, Any]:
    deadline = compute_deadline(rule, on, by_post=by_post)
    return {"rule": rule, "due": deadline.due, "due_text": _ru_date(deadline.due), "received": deadline.received,
            "received_text": _ru_date(deadline.received), "citation": deadline.citation}


def issue_document(case: Case, flow_id: str, kind: str, *, on: date, languages: tuple[str, ...] = ("ru",),
                   by_post: bool = False, pdf: bool = True) -> IssuedDocument:
    """Render, write and log one desk-audit document of ``kind`` (explanations | documents | act) for a flow.

    Raises :class:`DocumentRefused` when the document may not be issued: no discrepancy to explain or to act
    on, or — for a request for documents — no article 88 ground (the message lists the grounds checked).
    """
    if kind not in KINDS:
        raise DocumentRefused(f"unknown document kind {kind!r}", where="--kind", hint=f"use one of: {', '.join(KINDS)}")
    unknown = [language for language in languages if language not in LANGUAGES]
    if unknown or not languages:
        raise DocumentRefused(f"no template in language(s) {unknown or languages}", where="--lang",
                              hint="use ru and/or en")
    ensure_tables(case)
    ensure_table(case, "case_documents", DOCUMENTS_TABLE)
    flow = _flow_row(case, flow_id)
    if flow["flow"] != "ru_desk_audit":
        raise DocumentRefused(f"{flow_id} is a {flow['flow']} flow; these are desk-audit documents", where=flow_id,
                              hint="issue them on a ru_desk_audit flow")
    if flow["state"] not in KINDS[kind]["states"]:
        raise DocumentRefused(f"a {kind} document cannot be issued while the case is in state {flow['state']!r}",
                              where=flow_id, hint=f"it belongs to states {', '.join(KINDS[kind]['states'])} "
                                                  "(no request before the checks, no act before the audit ends)")
    source_id = flow["subject"]
    facts_cursor = case.con.execute("SELECT * FROM returns WHERE source_id = ?", [source_id])
    facts = dict(zip([d[0] for d in facts_cursor.description], facts_cursor.fetchone(), strict=True))
    findings = _findings_context(case, source_id)
    grounds = check_grounds(case, source_id) if kind == "documents" else []
    if kind == "documents" and not any(ground.applies for ground in grounds):
        checked = "; ".join(f"{g.citation} ({g.title}): {g.reason}" for g in grounds)
        case.record("document_refused", flow_id, None, kind=kind, grounds=[g.to_dict() for g in grounds])
        raise DocumentRefused(f"no article 88 ground allows a request for documents; grounds checked: {checked}",
                              where=flow_id, hint="request explanations instead (НК РФ ст. 88 п. 3, п. 7)")
    if kind in ("explanations", "act") and not findings:
        raise DocumentRefused(f"no discrepancy is recorded for this return; a {kind} document has nothing to state",
                              where=flow_id, hint="run taxaudit ratios first; close the audit if nothing is found")
    count = case.con.execute("SELECT count(*) FROM case_documents WHERE flow_id = ? AND kind = ?",
                             [flow_id, kind]).fetchone()[0]
    case_label = f"КНП-{flow_id.rsplit('-', 1)[-1]}"
    number = f"{case_label}/{KINDS[kind]['code']}-{count + 1}"
    document_id = f"{flow_id}:{kind}:{count + 1}"
    deadline = _deadline_context(KINDS[kind]["rule"], on, by_post)
    context: dict[str, Any] = {
        "title": number, "number": number, "flow_id": flow_id, "case_label": case_label,
        "taxaudit_version": __version__, "generated_at": date.today().isoformat(),
        "issued_on": on, "issued_on_text": _ru_date(on),
        "taxpayer": {"name": facts["taxpayer_name"] or "—", "inn": facts["taxpayer_tax_id"] or "—", "kpp": None},
        "authority": {"code": facts["tax_authority"] or "—",
                      "name": f"Налоговый орган, код {facts['tax_authority'] or '—'}",
                      "name_en": f"Tax authority, code {facts['tax_authority'] or '—'}",
                      "place": f"Налоговый орган, код {facts['tax_authority'] or '—'}",
                      "place_en": f"Tax authority, code {facts['tax_authority'] or '—'}"},
        "ret": _return_context(facts), "findings": findings, "deadline": deadline,
        "grounds": grounds, "applying": [g for g in grounds if g.applies],
    }
    if kind == "act":
        prior = case.con.execute(
            "SELECT number, issued_on FROM case_documents WHERE flow_id = ? AND kind = 'explanations' "
            "ORDER BY issued_on DESC LIMIT 1", [flow_id]).fetchone()
        answered = case.con.execute("SELECT count(*) FROM case_transitions WHERE flow_id = ? AND "
                                    "action = 'receive_answer'", [flow_id]).fetchone()[0] > 0
        audit_end = case.con.execute("SELECT max(on_date) FROM case_transitions WHERE flow_id = ? AND action = "
                                     "'complete_audit'", [flow_id]).fetchone()[0] or on
        delivery = compute_deadline("ru.act_delivery", on).due
        pack = load_pack("ru_vat_ratios")
        context |= {
            "objections": deadline, "total": sum((f["amount"] for f in findings), Decimal("0")),
            "request": {"number": prior[0], "issued_on": _ru_date(prior[1])} if prior else None,
            "answered": answered, "audit_end": audit_end, "audit_end_text": _ru_date(audit_end),
            "delivery_due": delivery, "delivery_due_text": _ru_date(delivery),
            "pack": {"title": pack.title, "version": pack.version}}
    files = _write_files(case, KINDS[kind]["template"], context, document_id, languages, pdf)
    with case.unit_of_work() as work:
        for item in files:
            work.on_rollback.append(lambda path=item["path"]: (case.root / path).unlink(missing_ok=True))
        details = {"files": files, "grounds": [g.to_dict() for g in grounds], "by_post": by_post,
                   "findings": [f["check_id"] for f in findings], "received": str(deadline["received"] or "")}
        case.con.execute("INSERT INTO case_documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         [document_id, flow_id, kind, number, on, deadline["rule"], deadline["due"],
                          json.dumps(details, ensure_ascii=False, default=str)])
        work.log("document_issued", document_id, files[0]["sha256"], kind=kind, number=number, on=on.isoformat(),
                 due=deadline["due"].isoformat(), deadline_rule=deadline["rule"], files=files)
    return IssuedDocument(document_id, flow_id, kind, number, on, deadline["due"], files,
                          [g.to_dict() for g in grounds])


def _write_files(case: Case, template: str, context: dict[str, Any], document_id: str,
                 languages: tuple[str, ...], pdf: bool) -> list[dict[str, str]]:
    stem = document_id.replace(":", "_").replace("/", "_")
    files = []
    case.reports_dir.mkdir(exist_ok=True)
    for language in languages:
        html = render_html(f"{template}.{language}.html.j2", context | {"lang": language},
                           templates="cases/templates")
        html_path = case.reports_dir / f"{stem}.{language}.html"
        html_path.write_text(html, encoding="utf-8")
        files.append({"language": language, "path": str(html_path.relative_to(case.root)),
                      "sha256": sha256_file(html_path)})
        if pdf:
            pdf_path = write_pdf(html, case.reports_dir / f"{stem}.{language}.pdf")
            files.append({"language": language, "path": str(pdf_path.relative_to(case.root)),
                          "sha256": sha256_file(pdf_path)})
    return files
