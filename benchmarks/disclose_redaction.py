"""Benchmark: destructive PDF redaction against the obvious alternative, black boxes drawn over the text.

Generates a case file of ``--pages`` Letter pages (reportlab), each with third-party names, SSNs, EINs, a DIF
score and tolerance text, then

* ``taxaudit``: layout analysis + rule matching + content-stream rewrite + verification (``redact_pdf``);
* ``cover_only``: the same boxes drawn on top with pikepdf and nothing removed (what a careless tool does).

For each it reports seconds, pages per second and how many protected strings pdfminer can still extract.
Writes ``benchmarks/results/disclose_redaction.json``.

    PYTHONPATH=src python benchmarks/disclose_redaction.py --pages 200
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import pikepdf
from pdfminer.high_level import extract_text
from reportlab.pdfgen import canvas

from taxaudit.disclose.pdf_layout import analyze_pdf
from taxaudit.disclose.pdf_redact import find_pdf_marks, redact_pdf
from taxaudit.disclose.rules import Terms, load_rule_pack

NAMES = ["John Q Public", "Mary Major", "Richard Miles"]


def make_case_file(path: Path, pages: int) -> list[str]:
    """Write the PDF and return the protected strings it contains."""
    secrets: set[str] = set()
    pdf = canvas.Canvas(str(path), pagesize=(612, 792))
    for page in range(pages):
        pdf.setFont("Helvetica", 10)
        y = 740
        for line in range(30):
            serial = (page * 30 + line) % 10000
            name = NAMES[line % len(NAMES)]
            ssn = f"987-65-{serial:04d}"
            ein = f"12-{serial:07d}"
            if line % 5 == 0:
                text = f"DIF Score: {1000 + serial % 9000}   Tolerance: items under ${serial} are not pursued"
                secrets |= {str(1000 + serial % 9000)}
            else:
                text = f"Contact {name}, SSN {ssn}, employer EIN {ein}, interview line {line} of page {page + 1}"
                secrets |= {name, ssn, ein}
            pdf.drawString(54, y, text)
            y -= 22
        pdf.showPage()
    pdf.save()
    return sorted(secrets)


def leaked(path: Path, secrets: list[str]) -> int:
    text = extract_text(path)
    return sum(1 for secret in secrets if secret in text)


def cover_only(source: Path, target: Path, marks: list) -> None:
    """Draw opaque boxes over the marks without touching the text (the unsafe alternative)."""
    with pikepdf.open(source) as pdf:
        for mark in marks:
            x0, y0, x1, y1 = mark.box
            page = pdf.pages[mark.page - 1]
            page.contents_add(pdf.make_stream(f"q 0 g {x0} {y0} {x1 - x0} {y1 - y0} re f Q".encode()), prepend=False)
        pdf.save(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "disclose_redaction.json")
    args = parser.parse_args()
    pack = load_rule_pack()
    terms = Terms({"names": NAMES})
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        source = work / "case_file.pdf"
        secrets = make_case_file(source, args.pages)

        start = time.perf_counter()
        layouts = analyze_pdf(source)
        analysed = time.perf_counter()
        marks = find_pdf_marks(layouts, pack, terms)
        redacted = work / "redacted.pdf"
        applied = redact_pdf(source, redacted, marks, pages=layouts)
        done = time.perf_counter()

        covered = work / "covered.pdf"
        cover_start = time.perf_counter()
        cover_only(source, covered, marks)
        cover_done = time.perf_counter()

        result = {
            "benchmark": "disclose_redaction",
            "pages": args.pages,
            "protected_strings": len(secrets),
            "redactions": len(marks),
            "glyphs_removed": sum(a.glyphs_removed for a in applied),
            "taxaudit": {
                "seconds": round(done - start, 3),
                "analysis_seconds": round(analysed - start, 3),
                "pages_per_second": round(args.pages / (done - start), 2),
                "leaked_strings": leaked(redacted, secrets),
                "bytes": redacted.stat().st_size,
            },
            "cover_only": {
                "seconds": round(cover_done - cover_start, 3),
                "pages_per_second": round(args.pages / (cover_done - cover_start), 2),
                "leaked_strings": leaked(covered, secrets),
                "bytes": covered.stat().st_size,
                "note": "boxes drawn from taxaudit's own marks; finding the marks is not timed here",
            },
            "source_bytes": source.stat().st_size,
            "python": platform.python_version(),
            "machine": platform.machine(),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
