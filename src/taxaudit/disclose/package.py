"""Release packages: redacted documents, redaction log, response letter and a SHA-256 manifest."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from taxaudit import __version__
from taxaudit.disclose.authorization import AuthorizationDecision, require_authorization
from taxaudit.disclose.consistency import list_findings, review_consistency
from taxaudit.disclose.errors import DisclosureError, ReleaseBlockedError
from taxaudit.disclose.redact import list_documents, list_redactions
from taxaudit.disclose.register import REQUEST_TYPES, get_request
from taxaudit.disclose.rules import RulePack, load_rule_pack
from taxaudit.disclose.tables import ensure_tables, new_id
from taxaudit.report.html import render_html, write_pdf
from taxaudit.store import Case
from taxaudit.store.case import sha256_file

LOG_COLUMNS = ["document", "page", "x0", "y0", "x1", "y1", "line", "char_start", "char_end", "exemption",
               "citation", "rule_id", "reviewer", "reason"]


@dataclass(frozen=True)
class ReleasePackage:
    """A release written to ``directory`` with its manifest hash."""

    release_id: str
    request_id: str
    directory: Path
    manifest_sha256: str
    files: list[dict[str, Any]]
    exemptions: dict[str, int]
    overrides: list[dict[str, Any]]
    authorization: dict[str, Any]
    closure_code: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def redaction_log(case: Case, request_id: str, pack: RulePack) -> list[dict[str, Any]]:
    """Return the releasable redaction log: where, which exemption and why; never the redacted values."""
    log = []
    for r in list_redactions(case, request_id):
        exemption = pack.exemptions.get(r["exemption"] or "")
        log.append({"document": r["document"], "page": r["page"], "x0": _round(r["x0"]), "y0": _round(r["y0"]),
                    "x1": _round(r["x1"]), "y1": _round(r["y1"]), "line": r["line_no"],
                    "char_start": r["char_start"], "char_end": r["char_end"], "exemption": r["exemption"],
                    "citation": exemption.citation if exemption else None, "rule_id": r["rule_id"],
                    "reviewer": r["reviewer"], "reason": r["reason"]})
    return log


def _release_dir(case: Case, request_id: str) -> Path:
    base = case.reports_dir / "disclose" / request_id
    number = 1
    while (base / f"release-{number:03d}").exists():
        number += 1
    return base / f"release-{number:03d}"


def build_release_package(case: Case, request_id: str, *, pack: RulePack | None = None, on: date | None = None,
                          signer: str = "Disclosure Office", pdf_letter: bool = True) -> ReleasePackage:
    """Write the release package of ``request_id`` and log ``release_made`` with the manifest's SHA-256.

    Refused (:class:`ReleaseBlockedError`) while any consistency finding is open and not overridden with a
    reason, and (:class:`~taxaudit.disclose.errors.AuthorizationError`) when no authorization covers a
    third-party requester. The consistency review is run afresh here, so a stale review cannot be used.
    """
    ensure_tables(case)
    pack = pack or load_rule_pack()
    on = on or date.today()
    request = get_request(case, request_id)
    documents = list_documents(case, request_id)
    if not documents:
        raise DisclosureError(f"request {request_id} has no documents to release",
                              hint="redact documents first with: taxaudit disclose redact")
    decision: AuthorizationDecision = require_authorization(case, request_id, on=on)
    review_consistency(case, request_id, pack, on=on)
    still_open = list_findings(case, request_id, status="open")
    if still_open:
        listing = "; ".join(f"{f.key} {f.kind}: {f.message}" for f in still_open)
        raise ReleaseBlockedError(f"{len(still_open)} consistency finding(s) are open: {listing}",
                                  where=f"request {request_id}",
                                  hint="fix the redactions and redact again, or override each finding with a "
                                       "reason: taxaudit disclose review override KEY --reason TEXT")
    for doc in documents:
        copy = case.root / doc["redacted_path"]
        if not copy.is_file() or sha256_file(copy) != doc["redacted_sha256"]:
            raise ReleaseBlockedError(f"the redacted copy of {doc['name']} is missing or changed since redaction",
                                      where=str(copy), hint="redact the document again")
    overrides = [{"key": f.key, "kind": f.kind, "reason": f.override_reason, "by": f.overridden_by}
                 for f in list_findings(case, request_id, status="overridden")]
    directory = _release_dir(case, request_id)
    (directory / "documents").mkdir(parents=True)
    released_docs = []
    for doc in documents:
        target = directory / "documents" / Path(doc["redacted_path"]).name
        shutil.copyfile(case.root / doc["redacted_path"], target)
        released_docs.append({"name": target.name, "pages": doc["pages"], "redactions": doc["redactions"],
                              "sha256": doc["redacted_sha256"]})
    log = redaction_log(case, request_id, pack)
    with (directory / "redaction_log.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=LOG_COLUMNS)
        writer.writeheader()
        writer.writerows(log)
    (directory / "redaction_log.json").write_text(json.dumps(log, indent=2, ensure_ascii=False), encoding="utf-8")
    counts = Counter(entry["exemption"] for entry in log if entry["exemption"])
    exemptions = [{"code": code, "citation": pack.exemptions[code].citation if code in pack.exemptions else "",
                   "description": pack.exemptions[code].description if code in pack.exemptions else "",
                   "count": count} for code, count in sorted(counts.items())]
    closure_code = "partially denied" if log else "granted"
    html = render_html("response_letter.html.j2", {
        "title": "Response to your request", "request": request, "letter_date": on.isoformat(),
        "request_type_title": REQUEST_TYPES[request.request_type], "documents": released_docs,
        "page_count": sum(d["pages"] for d in released_docs), "redaction_count": len(log),
        "exemptions": exemptions, "closure_code": closure_code, "signer": signer,
        "taxaudit_version": __version__, "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }, templates="disclose/templates")
    (directory / "response_letter.html").write_text(html, encoding="utf-8")
    if pdf_letter:
        write_pdf(html, directory / "response_letter.pdf")
    files = [{"path": str(path.relative_to(directory)), "sha256": sha256_file(path), "bytes": path.stat().st_size}
             for path in sorted(directory.rglob("*")) if path.is_file()]
    manifest = {"request_id": request_id, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "release_date": on.isoformat(), "rule_pack": pack.version, "authorization": decision.to_dict(),
                "closure_code": closure_code, "exemptions": dict(sorted(counts.items())),
                "overrides": overrides, "files": files}
    manifest_bytes = json.dumps(manifest, indent=2, ensure_ascii=False, default=str).encode("utf-8")
    (directory / "manifest.json").write_bytes(manifest_bytes)
    manifest_sha = hashlib.sha256(manifest_bytes).hexdigest()
    release_id = new_id("REL")
    with case.unit_of_work() as work:
        work.on_rollback.append(lambda: shutil.rmtree(directory, ignore_errors=True))
        case.con.execute("INSERT INTO disclose_releases VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         [release_id, request_id, str(directory.relative_to(case.root)), manifest_sha, len(files),
                          json.dumps(dict(counts)), json.dumps(overrides), datetime.now(UTC).replace(tzinfo=None)])
        work.log("release_made", request_id, manifest_sha, release_id=release_id,
                 directory=str(directory.relative_to(case.root)), files=len(files), exemptions=dict(counts),
                 overrides=len(overrides), authorization=decision.authorization_id or decision.basis)
    return ReleasePackage(release_id, request_id, directory, manifest_sha, files, dict(counts), overrides,
                          decision.to_dict(), closure_code)
