"""The demo: a synthetic company's year of books, written as SAF-T, ingested into a fresh case, summarised.

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
from taxaudit.store import Case, init_case, open_case, verify_case
from taxaudit.synth import CompanySpec, generate_ledger, write_saft

DEMO_TITLE = "taxaudit demo"


@dataclass
class DemoContext:
    """What the demo has produced so far, for later steps to build on."""

    case_dir: Path
    seed: int
    spec: CompanySpec
    saft_path: Path
    summary: dict[str, Any] = field(default_factory=dict)


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


STEPS: list[tuple[str, Step]] = [("desk_audit", _desk_audit)]


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
    """Generate the synthetic company for ``seed``, ingest it into a new case and return the summary."""
    case_dir = Path(case_dir)
    _prepare(case_dir)
    spec = CompanySpec(seed=seed)
    ledger = generate_ledger(spec)
    with init_case(case_dir, country="NO", title=DEMO_TITLE) as case:
        sources = case_dir / "sources"
        sources.mkdir()
        saft_path = write_saft(ledger, sources / f"SAF-T_{ledger.org_number}_{spec.year}.xml")
        context = DemoContext(case_dir, seed, spec, saft_path)
        [result] = ingest_files(case, [saft_path], IngestOptions(format="saft"), progress)
        context.summary["company"] = spec.name
        context.summary["org_number"] = ledger.org_number
        context.summary["ingest"] = result.to_dict()
        for name, step in STEPS:
            context.summary[name] = step(case, context)
    verdict = verify_case(case_dir)
    context.summary["case"] = str(case_dir)
    context.summary["custody"] = {"ok": verdict.ok, "events": verdict.events}
    return context.summary
