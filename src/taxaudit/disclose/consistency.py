"""Consistency review of a request's whole case file, as TIGTA reviews it (seed 000, TIGTA 2023-10-055 p. 6).

TIGTA found information "withheld in one part of the case file but released in another" in 13 of 83 cases.
The review here reads the *redacted* copies (what the requester would get) and reports:

- ``redacted_elsewhere_in_clear``: a value redacted somewhere is still readable elsewhere in the file;
- ``mixed_exemptions``: the same value withheld under different exemption codes;
- ``protected_in_clear``: a redaction rule still matches released text (e.g. a DIF score left in clear);
- ``no_exemption``: a redaction without an exemption code;
- ``over_redaction``: a redaction of something the sources say must be released (the label "DIF Score").

Each finding has a stable key so a reviewer's override with a reason survives re-running the review.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from taxaudit.disclose.errors import DisclosureError
from taxaudit.disclose.pdf_layout import analyze_pdf
from taxaudit.disclose.redact import list_documents, list_redactions, release_allowlist
from taxaudit.disclose.register import get_request
from taxaudit.disclose.rules import (
    RulePack,
    Terms,
    find_matches,
    load_rule_pack,
    normalize_value,
    occurs_in,
    over_redaction,
)
from taxaudit.disclose.tables import ensure_tables, rows
from taxaudit.store import Case

# Values this short ("27", "Q") recur by chance all over a file; they are checked through the rules instead.
MIN_LITERAL_LENGTH = 4


@dataclass(frozen=True)
class ConsistencyFinding:
    """One inconsistency with the pages it concerns; ``status`` is open, overridden or resolved."""

    key: str
    kind: str
    message: str
    pages: list[dict[str, Any]]
    status: str = "open"
    override_reason: str | None = None
    overridden_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def mask(value: str) -> str:
    """Return ``value`` with all but its first and last characters hidden, for messages and logs."""
    value = " ".join(value.split())
    if len(value) <= 2:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 2) + value[-1]


def _key(kind: str, *parts: Any) -> str:
    text = json.dumps([kind, *parts], sort_keys=True, default=str)
    return f"{kind[:4].upper()}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def released_lines(case: Case, document: dict[str, Any]) -> list[tuple[int, str]]:
    """Return (page, line text) of a document's redacted copy, as the requester would read it."""
    path = case.root / document["redacted_path"]
    if document["kind"] == "pdf":
        return [(page.number, line.text) for page in analyze_pdf(path) for line in page.lines]
    text = path.read_text(encoding="utf-8")
    return [(number, line) for number, page in enumerate(text.split("\f"), start=1) for line in page.split("\n")]


def _where(document: str, page: int) -> dict[str, Any]:
    return {"document": document, "page": page}


def find_inconsistencies(case: Case, request_id: str, pack: RulePack | None = None, *,
                         on: date | None = None) -> list[ConsistencyFinding]:
    """Return every inconsistency in the case file of ``request_id`` (see the module docstring), unsorted."""
    request = get_request(case, request_id)
    pack = pack or load_rule_pack()
    documents = list_documents(case, request_id)
    redactions = list_redactions(case, request_id)
    allow = release_allowlist(request)
    findings: list[ConsistencyFinding] = []
    released = {doc["name"]: released_lines(case, doc) for doc in documents}

    by_value: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for redaction in redactions:
        where = _where(redaction["document"], redaction["page"])
        if not redaction["exemption"]:
            findings.append(ConsistencyFinding(
                _key("no_exemption", redaction["document"], redaction["page"], redaction["x0"], redaction["y0"],
                     redaction["line_no"], redaction["char_start"]),
                "no_exemption", f"a redaction on {redaction['document']} page {redaction['page']} has no exemption "
                                "code; every withholding must cite its exemption", [where]))
        value = redaction["value"] or ""
        if not value.strip():
            continue
        item = over_redaction(value, pack)
        if item is not None:
            findings.append(ConsistencyFinding(
                _key("over_redaction", redaction["document"], redaction["page"], normalize_value(value)),
                "over_redaction", f"{item.title} was withheld on {redaction['document']} page {redaction['page']} "
                                  f"but must be released ({item.citation})", [where]))
        by_value[normalize_value(value)].append(redaction)

    for value, places in sorted(by_value.items()):
        codes = sorted({p["exemption"] for p in places if p["exemption"]})
        pages = [_where(p["document"], p["page"]) for p in places]
        if len(codes) > 1:
            findings.append(ConsistencyFinding(
                _key("mixed_exemptions", value, codes), "mixed_exemptions",
                f"value {mask(value)} is withheld under different exemptions ({', '.join(codes)})", pages))
        if len(value.replace(" ", "")) < MIN_LITERAL_LENGTH:
            continue
        clear = [_where(name, page) for name, lines in released.items() for page, text in lines
                 if occurs_in(places[0]["value"], text)]
        if clear:
            spots = ", ".join(f"{spot['document']} p.{spot['page']}" for spot in clear)
            findings.append(ConsistencyFinding(
                _key("redacted_elsewhere_in_clear", value, clear), "redacted_elsewhere_in_clear",
                f"value {mask(value)} is redacted on {len(pages)} page(s) but left in clear on {spots}",
                pages + clear))

    names = sorted({n for doc in documents for n in (json.loads(doc["terms"]) if doc["terms"] else [])})
    terms = Terms({"names": names}, allow=allow)
    for document in documents:
        for page, text in released[document["name"]]:
            for match in find_matches(text, pack, terms, on=on):
                findings.append(ConsistencyFinding(
                    _key("protected_in_clear", document["name"], page, match.rule_id, normalize_value(match.value)),
                    "protected_in_clear",
                    f"{pack.rule(match.rule_id).title} {mask(match.value)} is in clear on {document['name']} "
                    f"page {page} (rule {match.rule_id}, exemption {match.exemption})",
                    [_where(document["name"], page)]))
    unique = {finding.key: finding for finding in findings}
    return list(unique.values())


def review_consistency(case: Case, request_id: str, pack: RulePack | None = None, *,
                       on: date | None = None) -> list[ConsistencyFinding]:
    """Run the review, store its findings (overrides of unchanged findings kept) and log it; return them all."""
    ensure_tables(case)
    if not list_documents(case, request_id):
        raise DisclosureError(f"request {request_id} has no documents to review",
                              hint="redact documents first with: taxaudit disclose redact")
    current = find_inconsistencies(case, request_id, pack, on=on)
    stored = {r["finding_key"]: r for r in rows(case, "SELECT * FROM disclose_findings WHERE request_id = ?",
                                                 [request_id])}
    now = datetime.now(UTC).replace(tzinfo=None)
    with case.unit_of_work() as work:
        for finding in current:
            old = stored.get(finding.key)
            if old is not None and old["status"] == "overridden":
                case.con.execute("UPDATE disclose_findings SET reviewed_at = ?, message = ?, pages = ? "
                                 "WHERE request_id = ? AND finding_key = ?",
                                 [now, finding.message, json.dumps(finding.pages), request_id, finding.key])
                continue
            case.con.execute("DELETE FROM disclose_findings WHERE request_id = ? AND finding_key = ?",
                             [request_id, finding.key])
            case.con.execute("INSERT INTO disclose_findings VALUES (?, ?, ?, ?, ?, 'open', NULL, NULL, NULL, ?)",
                             [finding.key, request_id, finding.kind, finding.message, json.dumps(finding.pages), now])
        gone = set(stored) - {f.key for f in current}
        for key in gone:
            case.con.execute("UPDATE disclose_findings SET status = 'resolved', reviewed_at = ? "
                             "WHERE request_id = ? AND finding_key = ?", [now, request_id, key])
        result = list_findings(case, request_id)
        counts: dict[str, int] = defaultdict(int)
        for finding in result:
            counts[finding.status] += 1
        work.log("consistency_reviewed", request_id, None, findings=len(current), open=counts["open"],
                 overridden=counts["overridden"], resolved=counts["resolved"],
                 rules=(pack or load_rule_pack()).version)
    return [f for f in result if f.status != "resolved"]


def list_findings(case: Case, request_id: str, *, status: str | None = None) -> list[ConsistencyFinding]:
    """Return the stored findings of a request (all, or only one ``status``)."""
    ensure_tables(case)
    found = rows(case, "SELECT * FROM disclose_findings WHERE request_id = ? ORDER BY kind, finding_key",
                 [request_id])
    return [ConsistencyFinding(r["finding_key"], r["kind"], r["message"], json.loads(r["pages"]), r["status"],
                               r["override_reason"], r["overridden_by"])
            for r in found if status is None or r["status"] == status]


def override_finding(case: Case, request_id: str, key: str, reason: str, *, by: str) -> ConsistencyFinding:
    """Mark an open finding overridden with the reviewer's reason and log ``finding_overridden``."""
    if not reason.strip():
        raise DisclosureError("an override needs a reason", hint="say why the finding does not block release")
    found = [f for f in list_findings(case, request_id) if f.key == key]
    if not found:
        raise DisclosureError(f"no finding {key!r} for request {request_id}",
                              hint="list findings with: taxaudit disclose review consistency")
    if found[0].status != "open":
        raise DisclosureError(f"finding {key} is {found[0].status}, not open")
    with case.unit_of_work() as work:
        case.con.execute("UPDATE disclose_findings SET status = 'overridden', override_reason = ?, "
                         "overridden_by = ?, overridden_at = ? WHERE request_id = ? AND finding_key = ?",
                         [reason.strip(), by, datetime.now(UTC).replace(tzinfo=None), request_id, key])
        work.log("finding_overridden", key, None, request_id=request_id, kind=found[0].kind, reason=reason.strip(),
                 by=by)
    return next(f for f in list_findings(case, request_id) if f.key == key)
