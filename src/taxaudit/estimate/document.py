"""The basis-of-estimate document (HTML and PDF): the paper a court reads to judge an estimate.

It sets out the inputs, the method, the legal basis (including the recorded rejection of the books), every
computation step with the evidence items behind it, the sensitivity range, and the examiner's statement of
nexus; each file written is logged in the case's custody chain with its SHA-256.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from taxaudit.estimate.errors import EstimateError
from taxaudit.estimate.records import book_rejections, load_estimate
from taxaudit.report.html import money, render_html, write_pdf
from taxaudit.store.case import Case, sha256_file

METHOD_TITLES = {
    "extrapolation": "Best-judgment extrapolation from a test window",
    "bank_deposits": "Bank deposits and cash expenditures method",
    "net_worth": "Net worth method",
    "markup": "Percentage markup method",
    "source_application": "Source and application of funds method",
    "section_481a": "Section 481(a) adjustment on a change in accounting method",
}
METHOD_TEXT = {
    "extrapolation": (
        "The suppression found in the test window was expressed as a rate per unit of the chosen basis and "
        "carried to the whole assessment period: estimate = observed x (period units / window units). The other "
        "bases, a seasonality allowance and (for a sampled window) a confidence band give the range within which "
        "a reasonable estimate lies."),
    "bank_deposits": (
        "All deposits were totalled; transfers between accounts and other deposits shown not to be income were "
        "eliminated; cash spent without passing through the accounts was added; receipts reported were deducted."),
    "net_worth": (
        "Net worth (assets at cost less liabilities) was established at the start and the end of the period; its "
        "increase, plus nondeductible spending, less nontaxable sources, is corrected income; income reported "
        "was deducted."),
    "markup": ("Receipts were rebuilt as cost of sales plus a markup on cost taken from comparables; receipts "
               "reported were deducted."),
    "source_application": ("Funds applied (asset increases, liability decreases, spending) in excess of funds "
                           "provided from non-income sources are corrected income; income reported was deducted."),
    "section_481a": ("The components of the change were netted to the section 481(a) adjustment and spread over "
                     "the adjustment period of the rule in force for the year of change."),
}


@dataclass(frozen=True)
class IssuedDocument:
    """A document written for an estimate, with its hash as logged in custody."""

    path: Path
    sha256: str
    kind: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "sha256": self.sha256, "kind": self.kind}


def _steps(method: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    if method == "extrapolation":
        unit = "" if result["basis"] == "turnover_ratio" else " per " + result["basis"].replace("_days", " day")
        return [
            {"label": "Suppression observed in the test window", "amount": result["observed"], "items": [],
             "kind": "input"},
            {"label": f"Window units ({result['basis'].replace('_', ' ')})", "amount": None,
             "value": result["window_units"], "items": [], "kind": "input"},
            {"label": f"Rate{unit}", "amount": result["rate_per_unit"], "items": [], "kind": "subtotal"},
            {"label": f"Period units ({result['basis'].replace('_', ' ')})", "amount": None,
             "value": result["period_units"], "items": [], "kind": "input"},
            {"label": "Estimated suppression for the whole period (central)", "amount": result["central"],
             "items": [], "kind": "result"},
            {"label": "of which beyond the proven window", "amount": result["beyond_window"], "items": [],
             "kind": "subtotal"},
        ]
    if method == "section_481a":
        steps = [{"label": step["label"], "amount": step["amount"], "items": [], "kind": "input"}
                 for step in result["steps"]]
        steps.append({"label": "Section 481(a) adjustment", "amount": result["adjustment"], "items": [],
                      "kind": "result"})
        steps.extend({"label": f"Taken into account in {part['year']}", "amount": part["amount"], "items": [],
                      "kind": "subtotal"} for part in result["spread"])
        return steps
    return [dict(line) for line in result["lines"]]


def _inputs(method: str, result: dict[str, Any]) -> list[tuple[str, str]]:
    if method == "extrapolation":
        rows = [("Test window", f"{result['window_start']} to {result['window_end']}"),
                ("Assessment period", f"{result['period_start']} to {result['period_end']}"),
                ("Basis", str(result["basis"]).replace("_", " ")),
                ("Observed suppression", str(result["observed"])),
                ("Country calendar", result.get("country") or "none (weekends only)")]
        return rows
    if method == "section_481a":
        return [("Year of change", str(result["spread"][0]["year"])), ("Regime", result["regime"]),
                ("Adjustment period", f"{result['period_years']} year(s): {result['reason']}")]
    return [("Evidence items", f"{len(result.get('inputs', []))} (listed in the table below)")]


def _scenarios(method: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    if method == "extrapolation":
        return [dict(s) for s in result["scenarios"]]
    if method == "markup":
        return [{"name": s["name"], "amount": s["understatement"], "note": f"receipts {s['receipts']}"}
                for s in result.get("scenarios", [])]
    return []


def range_svg(scenarios: list[dict[str, Any]], central: Decimal | None,
              assessed: list[dict[str, Any]]) -> str:
    """Return an inline SVG strip showing the scenarios' range, the central estimate and any assessed amounts."""
    values = [Decimal(str(s["amount"])) for s in scenarios] + [Decimal(str(a["assessed"])) for a in assessed]
    if central is not None:
        values.append(Decimal(str(central)))
    if not values:
        return ""
    low, high = min([*values, Decimal(0)]), max(values)
    span = (high - low) or Decimal(1)
    width, left, right = 640, 20, 20

    def x(value: Any) -> float:
        return left + float((Decimal(str(value)) - low) / span) * (width - left - right)

    scenario_values = [Decimal(str(s["amount"])) for s in scenarios]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="96" viewBox="0 0 {width} 96" '
             'role="img" aria-label="sensitivity range">',
             f'<line x1="{left}" y1="48" x2="{width - right}" y2="48" stroke="#d8dee6" stroke-width="2"/>']
    if scenario_values:
        x0, x1 = x(min(scenario_values)), x(max(scenario_values))
        parts.append(f'<rect x="{x0:.1f}" y="38" width="{max(x1 - x0, 2):.1f}" height="20" fill="#cfe0f1" '
                     'stroke="#2f5d8a"/>')
        parts.append(f'<text x="{x0:.1f}" y="76" font-size="10" text-anchor="start">{money(min(scenario_values))}'
                     '</text>')
        parts.append(f'<text x="{x1:.1f}" y="76" font-size="10" text-anchor="end">{money(max(scenario_values))}</text>')
    if central is not None:
        cx = x(central)
        parts.append(f'<line x1="{cx:.1f}" y1="30" x2="{cx:.1f}" y2="66" stroke="#2f5d8a" stroke-width="3"/>')
        parts.append(f'<text x="{cx:.1f}" y="24" font-size="10" text-anchor="middle">central {money(central)}</text>')
    for index, item in enumerate(assessed):
        ax = x(item["assessed"])
        y = 90 if index % 2 == 0 else 12
        parts.append(f'<circle cx="{ax:.1f}" cy="48" r="5" fill="#b3261e"/>')
        parts.append(f'<text x="{ax:.1f}" y="{y}" font-size="10" fill="#b3261e" text-anchor="middle">'
                     f'{_escape(item["label"])} {money(item["assessed"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def document_context(case: Case, estimate_id: str, nexus: str, examiner: str | None = None) -> dict[str, Any]:
    """Return the template context of the basis-of-estimate document for a stored estimate."""
    if not nexus or not nexus.strip():
        raise EstimateError("the document needs the examiner's statement of nexus",
                            hint='give --nexus "why this basis fits the facts found"')
    stored = load_estimate(case, estimate_id)
    method, result = stored["method"], stored["result"]
    rejections = [{**r.to_dict(), "recorded_at": f"{r.recorded_at:%Y-%m-%d %H:%M:%S} UTC"}
                  for r in book_rejections(case)]
    legal = [result.get("citation", "")]
    if result.get("rule_ids"):
        legal.append("Rules applied: " + ", ".join(result["rule_ids"]))
    comparisons = result.get("comparisons", [])
    central = result.get("central") if method == "extrapolation" else None
    scenarios = _scenarios(method, result)
    title_row = case.con.execute("SELECT title, country FROM case_info").fetchone()
    return {
        "title": f"Basis of estimate {estimate_id}",
        "case_title": (title_row[0] if title_row else None) or str(case.root.name),
        "country": title_row[1] if title_row else None,
        "estimate_id": estimate_id,
        "estimate_sha256": stored["sha256"],
        "created_at": f"{stored['created_at']:%Y-%m-%d %H:%M:%S} UTC",
        "created_by": stored["created_by"],
        "method": method,
        "method_title": METHOD_TITLES.get(method, method),
        "method_text": METHOD_TEXT.get(method, ""),
        "inputs": _inputs(method, result),
        "items": result.get("inputs", []),
        "legal_basis": [text for text in legal if text],
        "rejections": rejections,
        "steps": _steps(method, result),
        "scenarios": scenarios,
        "low": result.get("low"),
        "high": result.get("high"),
        "comparisons": comparisons,
        "notes": result.get("notes", []),
        "nexus": nexus.strip(),
        "examiner": examiner,
        "chart": range_svg(scenarios, central, comparisons) if (scenarios or comparisons) else "",
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def issue_document(case: Case, estimate_id: str, nexus: str, *, examiner: str | None = None,
                   pdf: bool = True) -> list[IssuedDocument]:
    """Write the basis-of-estimate document as HTML (and PDF) under ``reports/`` and log each in custody."""
    context = document_context(case, estimate_id, nexus, examiner)
    html = render_html("basis_of_estimate.html.j2", context, templates="estimate/templates")
    case.reports_dir.mkdir(exist_ok=True)
    html_path = case.reports_dir / f"basis-of-estimate-{estimate_id}.html"
    html_path.write_text(html, encoding="utf-8")
    written = [IssuedDocument(html_path, sha256_file(html_path), "html")]
    if pdf:
        pdf_path = write_pdf(html, case.reports_dir / f"basis-of-estimate-{estimate_id}.pdf")
        written.append(IssuedDocument(pdf_path, sha256_file(pdf_path), "pdf"))
    for document in written:
        case.record("document_issued", str(document.path.relative_to(case.root)), document.sha256,
                    estimate_id=estimate_id, kind=document.kind, document="basis_of_estimate",
                    estimate_sha256=context["estimate_sha256"])
    return written
