"""Redaction of plain-text documents: protected spans are replaced by the exemption code, line by line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from taxaudit.disclose.errors import RedactionError
from taxaudit.disclose.rules import RulePack, Terms, find_matches


@dataclass(frozen=True)
class TextSpan:
    """A manual redaction in a text document: 1-based page (form-feed separated) and line, [start, end) chars."""

    page: int
    line: int
    start: int
    end: int
    exemption: str | None
    reason: str
    reviewer: str | None = None


@dataclass(frozen=True)
class TextRedaction:
    """A span removed from a text document and why (``value`` is kept in the case only, never released)."""

    page: int
    line: int
    start: int
    end: int
    exemption: str | None
    rule_id: str | None
    reviewer: str | None
    reason: str
    value: str


def marker(exemption: str | None) -> str:
    """Return the text put in place of a redacted span."""
    return f"[REDACTED {exemption}]" if exemption else "[REDACTED]"


def redact_text(text: str, pack: RulePack | None, terms: Terms | None = None, *,
                manual: Sequence[TextSpan] = (), on: date | None = None) -> tuple[str, list[TextRedaction]]:
    """Return (redacted text, redactions): rule matches (unless ``pack`` is None) and manual spans replaced."""
    pages = text.split("\f")
    for span in manual:
        if not 1 <= span.page <= len(pages):
            raise RedactionError(f"page {span.page} does not exist (the text has {len(pages)} pages)")
        lines = pages[span.page - 1].split("\n")
        if not 1 <= span.line <= len(lines) or not 0 <= span.start < span.end <= len(lines[span.line - 1]):
            raise RedactionError(f"manual span page {span.page} line {span.line} [{span.start}, {span.end}) "
                                 "is outside the text", hint="lines count from 1, characters from 0")
    redactions: list[TextRedaction] = []
    out_pages = []
    for page_no, page in enumerate(pages, start=1):
        out_lines = []
        for line_no, line in enumerate(page.split("\n"), start=1):
            spans: list[TextRedaction] = []
            if pack is not None:
                spans = [TextRedaction(page_no, line_no, m.start, m.end, m.exemption, m.rule_id, None, m.reason,
                                       m.value) for m in find_matches(line, pack, terms, on=on)]
            for span in manual:
                if (span.page, span.line) == (page_no, line_no):
                    spans = [s for s in spans if s.end <= span.start or s.start >= span.end]
                    spans.append(TextRedaction(page_no, line_no, span.start, span.end, span.exemption, None,
                                               span.reviewer, span.reason, line[span.start:span.end]))
            spans.sort(key=lambda s: s.start)
            pieces, cursor = [], 0
            for span in spans:
                if span.start < cursor:
                    continue
                pieces += [line[cursor:span.start], marker(span.exemption)]
                cursor = span.end
                redactions.append(span)
            pieces.append(line[cursor:])
            out_lines.append("".join(pieces))
        out_pages.append("\n".join(out_lines))
    return "\f".join(out_pages), redactions
