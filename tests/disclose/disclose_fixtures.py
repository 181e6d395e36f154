"""Shared data of the disclosure tests: the people of a generated exam case file and a PDF writer.

The people are invented; 987-65-4321 lies in the SSN range the SSA reserves for advertising (987-65-4320 to
987-65-4329), so no real person's number is used.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.pdfgen import canvas

REQUESTER = "Jane Roe"
REQUESTER_SSN = "123-45-6789"
THIRD_PARTY = "John Q Public"
THIRD_PARTY_SSN = "987-65-4321"
EMPLOYER_EIN = "12-3456789"
DIF_SCORE = "4321"
TOLERANCE = "adjustments under $2,500 are not pursued"

LETTER_PAGES = [
    [
        f"Examination report for {REQUESTER}, SSN {REQUESTER_SSN}",
        f"Third party contact: {THIRD_PARTY}, SSN {THIRD_PARTY_SSN}",
        f"Employer: Acme Widgets LLC, EIN {EMPLOYER_EIN}",
        "Bank account no. 4400123456 held at First Bank",
    ],
    [
        f"DIF Score: {DIF_SCORE}",
        "Form Code: 27",
        f"Tolerance: {TOLERANCE}",
        "Closing: case closed agreed; end of report",
    ],
]
WORKPAPER_PAGES = [
    [
        f"Interview notes: {THIRD_PARTY} confirmed the rental income.",
        f"His SSN {THIRD_PARTY_SSN} was matched to Form W-2.",
        "Next step: close the interview file.",
    ],
]


def write_pdf(path: Path, pages: list[list[str]], *, font: str = "Helvetica", size: float = 11) -> Path:
    """Write a Letter-size PDF with one drawString per line, 20 pt apart from y = 720."""
    pdf = canvas.Canvas(str(path), pagesize=(612, 792))
    pdf.setTitle("Examination case file")
    for lines in pages:
        pdf.setFont(font, size)
        for number, line in enumerate(lines):
            pdf.drawString(72, 720 - 20 * number, line)
        pdf.showPage()
    pdf.save()
    return path
