"""Redact a document of a request's case file: keep the original as evidence, write and log the release copy."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from taxaudit.disclose.errors import DisclosureError, RedactionError
from taxaudit.disclose.pdf_layout import analyze_pdf
from taxaudit.disclose.pdf_redact import RedactionMark, find_pdf_marks, redact_pdf
from taxaudit.disclose.register import DisclosureRequest, get_request
from taxaudit.disclose.rules import RulePack, Terms, load_rule_pack
from taxaudit.disclose.tables import ensure_tables, new_id, rows
from taxaudit.disclose.text_redact import TextSpan, redact_text
from taxaudit.store import Case
from taxaudit.store.case import sha256_file


@dataclass(frozen=True)
class ManualBox:
    """A reviewer's redaction by coordinates: page (from 1) and box in points from the lower-left corner."""

    page: int
    box: tuple[float, float, float, float]
    exemption: str | None
    reason: str
    reviewer: str | None = None


@dataclass
class RedactedDocument:
    """A document of the case file after redaction."""

    document_id: str
    request_id: str
    name: str
    kind: str
    source_sha256: str
    redacted_path: Path
    redacted_sha256: str
    pages: int
    redactions: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = dict(vars(self))
        data["redactions"] = [{k: v for k, v in r.items() if k != "value"} for r in self.redactions]
        return data


def release_allowlist(request: DisclosureRequest) -> list[str]:
    """Return the identifiers the requester may receive: their own, and the taxpayer's whose records they seek."""
    return [v for v in (request.requester, request.requester_tax_id, request.taxpayer, request.taxpayer_tax_id) if v]


def third_party_names(case: Case, request: DisclosureRequest) -> list[str]:
    """Return names in the case's ``parties`` table other than the requester's and the taxpayer's."""
    allow = {" ".join(v.split()).casefold() for v in release_allowlist(request)}
    found = case.con.execute("SELECT DISTINCT name, tax_id FROM parties WHERE name IS NOT NULL").fetchall()
    return sorted(name for name, tax_id in found
                  if " ".join(name.split()).casefold() not in allow and (tax_id or "") not in allow)


def _kind(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(1024)
    if b"%PDF-" in head:
        return "pdf"
    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RedactionError("the document is neither a PDF nor UTF-8 text", where=str(path),
                             hint="convert it to PDF or UTF-8 text first") from exc
    return "text"


def _exemption_known(code: str | None, pack: RulePack, where: str) -> None:
    if code and code not in pack.exemptions:
        raise RedactionError(f"unknown exemption code {code!r}", where=where,
                             hint=f"use one of: {', '.join(pack.exemptions)}")


def redact_document(case: Case, request_id: str, path: Path, *, pack: RulePack | None = None,
                    names: Sequence[str] = (), manual: Sequence[ManualBox] = (),
                    manual_text: Sequence[TextSpan] = (), use_rules: bool = True,
                    reviewer: str | None = None, on: date | None = None) -> RedactedDocument:
    """Redact ``path`` for ``request_id``: rules (unless ``use_rules`` is False) plus manual redactions.

    The original is kept byte for byte in ``evidence/``; the redacted copy goes to
    ``reports/disclose/<request>/redacted/`` and every redaction to ``disclose_redactions`` with its page,
    box, exemption, rule or reviewer and reason; one ``document_redacted`` custody event carries both hashes.
    Redacting a document of the same name again replaces its earlier redactions (a new version).
    """
    path = Path(path)
    if not path.is_file():
        raise DisclosureError("the document does not exist", where=str(path),
                              hint="give the path of a PDF or text file")
    request = get_request(case, request_id)
    pack = pack or load_rule_pack()
    for box in manual:
        _exemption_known(box.exemption, pack, f"manual box on page {box.page}")
    for span in manual_text:
        _exemption_known(span.exemption, pack, f"manual span on line {span.line}")
    ensure_tables(case)
    kind = _kind(path)
    terms = Terms({"names": list(names)}, allow=release_allowlist(request))
    rule_pack = pack if use_rules else None
    out_dir = case.reports_dir / "disclose" / request_id / "redacted"
    target = out_dir / f"{path.stem}.redacted{path.suffix or ('.pdf' if kind == 'pdf' else '.txt')}"
    records: list[dict[str, Any]] = []
    if kind == "pdf":
        if manual_text:
            raise RedactionError("line/character spans apply to text documents", where=str(path),
                                 hint="give PDF redactions as boxes: --box PAGE:X0,Y0,X1,Y1:EXEMPTION")
        layouts = analyze_pdf(path)
        marks = find_pdf_marks(layouts, rule_pack, terms, on=on) if rule_pack else []
        marks += [RedactionMark(b.page, b.box, b.exemption, b.reason, None, b.reviewer or reviewer) for b in manual]
        applied = redact_pdf(path, target, marks, pages=layouts)
        pages = len(layouts)
        for item in applied:
            m = item.mark
            records.append({"page": m.page, "x0": m.box[0], "y0": m.box[1], "x1": m.box[2], "y1": m.box[3],
                            "line_no": None, "char_start": None, "char_end": None, "exemption": m.exemption,
                            "rule_id": m.rule_id, "reviewer": m.reviewer, "reason": m.reason,
                            "value": m.value or item.removed_text, "glyphs_removed": item.glyphs_removed})
    else:
        if manual:
            raise RedactionError("boxes apply to PDFs", where=str(path),
                                 hint="give text redactions as spans: --span PAGE:LINE:START-END:EXEMPTION")
        text = path.read_text(encoding="utf-8")
        redacted, spans = redact_text(text, rule_pack, terms, manual=manual_text, on=on)
        out_dir.mkdir(parents=True, exist_ok=True)
        target.write_text(redacted, encoding="utf-8")
        pages = text.count("\f") + 1
        for span in spans:
            records.append({"page": span.page, "x0": None, "y0": None, "x1": None, "y1": None,
                            "line_no": span.line, "char_start": span.start, "char_end": span.end,
                            "exemption": span.exemption, "rule_id": span.rule_id,
                            "reviewer": span.reviewer or (reviewer if span.rule_id is None else None),
                            "reason": span.reason, "value": span.value, "glyphs_removed": None})
    source_sha, _, new_evidence = case.store_evidence(path)
    redacted_sha = sha256_file(target)
    previous = rows(case, "SELECT document_id FROM disclose_documents WHERE request_id = ? AND name = ?",
                    [request_id, path.name])
    document_id = previous[0]["document_id"] if previous else new_id("DOC")
    with case.unit_of_work() as work:
        if new_evidence:
            # "source_added" is the action `taxaudit case verify` checks evidence files for
            work.log("source_added", document_id, source_sha, name=path.name, format=f"disclosure-{kind}",
                     request_id=request_id)
        case.con.execute("DELETE FROM disclose_redactions WHERE document_id = ?", [document_id])
        case.con.execute("DELETE FROM disclose_documents WHERE document_id = ?", [document_id])
        case.con.execute(
            "INSERT INTO disclose_documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [document_id, request_id, path.name, kind, source_sha, str(target.relative_to(case.root)), redacted_sha,
             pages, pack.version if use_rules else None, json.dumps(list(names)),
             datetime.now(UTC).replace(tzinfo=None)])
        for record in records:
            case.con.execute(
                "INSERT INTO disclose_redactions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [new_id("RED"), request_id, document_id, record["page"], record["x0"], record["y0"], record["x1"],
                 record["y1"], record["line_no"], record["char_start"], record["char_end"], record["exemption"],
                 record["rule_id"], record["reviewer"], record["reason"], record["value"], record["glyphs_removed"]])
        work.log("document_redacted", document_id, redacted_sha, request_id=request_id, name=path.name,
                 source_sha256=source_sha, redactions=len(records), rules=pack.version if use_rules else None,
                 manual=len(manual) + len(manual_text), replaces_earlier_version=bool(previous))
    return RedactedDocument(document_id, request_id, path.name, kind, source_sha, target, redacted_sha, pages, records)


def list_documents(case: Case, request_id: str) -> list[dict[str, Any]]:
    """Return the documents of a request's case file with their hashes and redaction counts."""
    ensure_tables(case)
    return rows(case, """
        SELECT d.document_id, d.name, d.kind, d.pages, d.source_sha256, d.redacted_sha256, d.redacted_path,
               d.terms, count(r.redaction_id) AS redactions
        FROM disclose_documents d LEFT JOIN disclose_redactions r USING (document_id)
        WHERE d.request_id = ? GROUP BY ALL ORDER BY d.name""", [request_id])


def list_redactions(case: Case, request_id: str) -> list[dict[str, Any]]:
    """Return every redaction of a request (internal: includes the redacted values)."""
    ensure_tables(case)
    return rows(case, """
        SELECT r.*, d.name AS document FROM disclose_redactions r JOIN disclose_documents d USING (document_id)
        WHERE r.request_id = ? ORDER BY d.name, r.page, r.line_no, r.y1 DESC, r.x0""", [request_id])
