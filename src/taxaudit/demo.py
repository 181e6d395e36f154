"""The demo: a synthetic company's year of books with planted irregularities, written as SAF-T plus a
QuickBooks Audit Trail export of the altered entries, ingested into a fresh case, checked and reported.

Later stages add steps to :data:`STEPS`; each receives the open case and the demo context and returns a small
dict that goes into the summary under its name; its ``headline`` (one sentence) is what the CLI prints.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taxaudit.errors import CaseError
from taxaudit.ingest.pipeline import IngestOptions, Progress, ingest_files
from taxaudit.model.finding import Finding
from taxaudit.store import Case, init_case, open_case, verify_case
from taxaudit.synth import CompanySpec, generate_ledger, write_saft
from taxaudit.synth.plants import Plant, PlantedBooks, plant_irregularities
from taxaudit.synth.qb_audit_trail import write_audit_trail

DEMO_TITLE = "taxaudit demo"


@dataclass
class DemoContext:
    """What the demo has produced so far, for later steps to build on."""

    case_dir: Path
    seed: int
    spec: CompanySpec
    saft_path: Path
    summary: dict[str, Any] = field(default_factory=dict)
    books: PlantedBooks | None = None
    source_ids: dict[str, str] = field(default_factory=dict)  # "saft" / "audit_trail" -> source_id


Step = Callable[[Case, DemoContext], dict[str, Any]]


def _desk_audit(case: Case, context: DemoContext) -> dict[str, Any]:
    from taxaudit.cases.demo import run_demo_step

    result = run_demo_step(case)
    ratios = result["ratios"]
    due = next((d["due"] for d in result["deadlines"] if d["rule"] == "ru.explanations"), None)
    result["headline"] = (
        f"VAT return {result['return'].get('period')}: {len(ratios['failed'])} of {ratios['checked']} control ratios "
        f"broken ({', '.join(ratios['failed'])}); request for explanations issued"
        + (f", answer due {due}" if due else "") + f"; act drawn up; flow now '{result['state']}'"
    )
    return result


def reveals(plant: Plant, finding: Finding, source_id: str) -> bool:
    """Return True when ``finding`` is the one the answer key expects for ``plant`` (check, source, subject or
    evidence values)."""
    if finding.check_id != plant.check_id or finding.evidence.get("source_id", source_id) != source_id:
        return False
    if plant.subject_key is not None and finding.subject_key != plant.subject_key:
        return False
    return all(finding.evidence.get(key) == value for key, value in plant.evidence)


def _checks_step(case: Case, context: DemoContext) -> dict[str, Any]:
    """Run every registered check and score the planted irregularities against the findings."""
    from taxaudit.checks import run_checks

    runs = run_checks(case)
    assert context.books is not None
    findings = [f for run in runs for f in run.findings]
    plants = [(p, context.source_ids[p.source]) for p in context.books.plants]
    found = {p.kind: any(reveals(p, f, source) for f in findings) for p, source in plants}
    return {
        "findings": len(findings),
        "by_check": {run.check_id: len(run.findings) for run in runs if run.findings},
        "planted": len(found),
        "planted_found": sum(found.values()),
        "planted_missed": [kind for kind, hit in found.items() if not hit],
        "other_findings": sum(1 for f in findings if not any(reveals(p, f, source) for p, source in plants)),
    }


def _report_step(case: Case, context: DemoContext) -> dict[str, Any]:
    """Write the books report as HTML and XLSX into the case's reports directory."""
    from taxaudit.report.books import write_books_html, write_books_xlsx

    return {"html": str(write_books_html(case)), "xlsx": str(write_books_xlsx(case))}


STEPS: list[tuple[str, Step]] = [("checks", _checks_step), ("desk_audit", _desk_audit), ("report", _report_step)]


def _prepare(case_dir: Path) -> None:
    """Replace an earlier demo case in ``case_dir``; refuse to touch anything that is not one."""
    if not case_dir.exists() or not any(case_dir.iterdir()):
        return
    try:
        with open_case(case_dir, read_only=True) as existing:
            row = existing.con.execute("SELECT title FROM case_info").fetchone()
    except CaseError:
        row = None
    if not row or row[0] != DEMO_TITLE:
        raise CaseError("the demo would overwrite a directory that is not an earlier demo case",
                        where=str(case_dir), hint="choose another --case directory for the demo")
    shutil.rmtree(case_dir)


def run_demo(case_dir: str | Path = "demo-case", seed: int = 42, progress: Progress | None = None) -> dict[str, Any]:
    """Generate the synthetic company for ``seed`` with planted irregularities, ingest its SAF-T file and its
    QuickBooks Audit Trail export into a new case, run the later stages' steps and return the summary."""
    case_dir = Path(case_dir)
    _prepare(case_dir)
    spec = CompanySpec(seed=seed)
    ledger = generate_ledger(spec)
    with init_case(case_dir, country="NO", title=DEMO_TITLE) as case:
        sources = case_dir / "sources"
        sources.mkdir()
        books = plant_irregularities(ledger)
        saft_path = write_saft(ledger, sources / f"SAF-T_{ledger.org_number}_{spec.year}.xml",
                               transactions=books.transactions)
        trail_path = write_audit_trail(books.altered, sources / f"AuditTrail_{spec.year + 1}Q1.csv",
                                       company=spec.name, year=spec.year)
        context = DemoContext(case_dir, seed, spec, saft_path, books=books)
        [result] = ingest_files(case, [saft_path], IngestOptions(format="saft"), progress)
        [trail] = ingest_files(case, [trail_path], IngestOptions(format="qb_audit_trail"), progress)
        context.source_ids = {"saft": result.source_id, "audit_trail": trail.source_id}
        context.summary["company"] = spec.name
        context.summary["org_number"] = ledger.org_number
        context.summary["ingest"] = result.to_dict()
        context.summary["audit_trail"] = trail.to_dict()
        for name, step in STEPS:
            context.summary[name] = step(case, context)
    verdict = verify_case(case_dir)
    context.summary["case"] = str(case_dir)
    context.summary["custody"] = {"ok": verdict.ok, "events": verdict.events}
    return context.summary
