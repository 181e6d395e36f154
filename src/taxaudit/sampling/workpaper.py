"""The sampling workpaper: plan, draw parameters, selection list, results, evaluation and a conclusion sentence.

Rendered as self-contained HTML (``templates/workpaper.html.j2`` on the report base layout) and as an XLSX
workbook with one sheet per part, so an examiner can file either.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import taxaudit
from taxaudit.report.html import render_html
from taxaudit.report.xlsx import add_table_sheet, new_workbook

PREVIEW_ROWS = 500
HIDDEN_KEYS = {"strata", "taints", "factors"}


@dataclass
class Workpaper:
    """What goes into a workpaper; any part may be missing (e.g. a plan filed before the draw)."""

    title: str
    plan: Mapping[str, Any] | None = None
    selection: Mapping[str, Any] | None = None
    selection_rows: Sequence[Mapping[str, Any]] = field(default_factory=list)
    evaluation: Mapping[str, Any] | None = None
    examiner: str | None = None


def _percent(value: Any) -> str:
    return f"{float(value) * 100:.2f}%"


def _amount(value: Any) -> str:
    return f"{Decimal(str(value)).quantize(Decimal('0.01')):,}"


def conclusion(plan: Mapping[str, Any] | None, evaluation: Mapping[str, Any] | None) -> str:
    """Return the sentence stating what the sample supports, from the evaluation (and the plan's tolerance)."""
    if not evaluation:
        return "The sample has not been evaluated yet."
    method = evaluation.get("method")
    confidence = _percent(evaluation["confidence"]).replace(".00", "")
    if method == "attribute":
        tolerable = (plan or {}).get("tolerable_rate")
        found = (f"{evaluation['deviations']} deviation(s) in {evaluation['n']} items give an upper deviation "
                 f"limit of {_percent(evaluation['upper'])} at {confidence} confidence")
        if tolerable is None:
            return found + "."
        verdict = "does not exceed" if float(evaluation["upper"]) <= float(tolerable) else "exceeds"
        reliance = "supports" if verdict == "does not exceed" else "does not support"
        return (f"{found}, which {verdict} the tolerable rate of {_percent(tolerable)}: the sample {reliance} "
                "reliance on the control.")
    if method == "mus":
        text = (f"Projected misstatement {_amount(evaluation['projected_misstatement'])}; upper misstatement limit "
                f"{_amount(evaluation['upper_misstatement_limit'])} at {confidence} confidence "
                f"({evaluation['bound']} bound)")
        tolerable = evaluation.get("tolerable_misstatement") or (plan or {}).get("tolerable_misstatement")
        if tolerable is None:
            return text + "."
        supported = Decimal(str(evaluation["upper_misstatement_limit"])) <= Decimal(str(tolerable))
        return text + (f", {'within' if supported else 'above'} the tolerable misstatement of {_amount(tolerable)}: "
                       f"the recorded amount is {'' if supported else 'not '}supported.")
    if method == "stratified-attribute":
        return (f"{evaluation['errors_found']} errors in a sample of {evaluation['sample_size']} project to "
                f"{float(evaluation['point_estimate']):,.0f} of {evaluation['population_size']:,} items "
                f"({confidence} interval {float(evaluation['lower']):,.0f} to {float(evaluation['upper']):,.0f}).")
    if method == "variables":
        text = (f"Estimated audited total {_amount(evaluation['point_estimate'])} against a book value of "
                f"{_amount(evaluation['book_value'])}: misstatement "
                f"{_amount(evaluation['misstatement_point_estimate'])} "
                f"({confidence} limits {_amount(evaluation['misstatement_lower'])} to "
                f"{_amount(evaluation['misstatement_upper'])}).")
        rule = evaluation.get("rev_proc_2011_42")
        if rule:
            text += (f" Under Rev. Proc. 2011-42 (relative precision {_percent(rule['relative_precision'])}) the "
                     f"amount to use is {_amount(rule['amount'])} ({rule['basis']}).")
        return text
    return "Evaluation method not recognised; see the evaluation table."


def _pairs(data: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    if not data:
        return []
    pairs = []
    for key, value in data.items():
        if key in HIDDEN_KEYS:
            continue
        if isinstance(value, Mapping | list):
            text = json.dumps(value, default=str, ensure_ascii=False)
        else:
            text = "" if value is None else str(value)
        pairs.append((key.replace("_", " "), text))
    return pairs


def context(paper: Workpaper) -> dict[str, Any]:
    """Return the template context of a workpaper."""
    rows = list(paper.selection_rows)
    columns = list(rows[0].keys()) if rows else []
    return {
        "title": paper.title,
        "examiner": paper.examiner,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "taxaudit_version": taxaudit.__version__,
        "plan": _pairs(paper.plan),
        "draw": _pairs(paper.selection),
        "columns": columns,
        "rows": rows[:PREVIEW_ROWS],
        "rows_left_out": max(0, len(rows) - PREVIEW_ROWS),
        "evaluation": _pairs(paper.evaluation),
        "conclusion": conclusion(paper.plan, paper.evaluation),
    }


def write_workpaper(paper: Workpaper, html_path: Path) -> tuple[Path, Path]:
    """Write the workpaper as HTML at ``html_path`` and as XLSX beside it; return both paths."""
    data = context(paper)
    html = render_html("workpaper.html.j2", data, templates="sampling/templates")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(html, encoding="utf-8")
    workbook = new_workbook()
    add_table_sheet(workbook, "Conclusion", ("conclusion",), [(data["conclusion"],)], note=paper.title)
    for title, pairs in (("Plan", data["plan"]), ("Draw", data["draw"]), ("Evaluation", data["evaluation"])):
        add_table_sheet(workbook, title, ("item", "value"), pairs)
    rows = list(paper.selection_rows)
    columns = data["columns"]
    add_table_sheet(workbook, "Selection", columns, ([row.get(c) for c in columns] for row in rows),
                    money_columns=("amount", "audited_amount", "stratum_book_value", "sampling_interval"))
    xlsx_path = html_path.with_suffix(".xlsx")
    workbook.save(xlsx_path)
    return html_path, xlsx_path
