"""Findings: what a check (or an ingest) found, with the keys of the evidence behind it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

SEVERITIES = ("info", "low", "medium", "high", "critical")


@dataclass(frozen=True)
class Finding:
    """One finding row; ``finding_id`` is derived from check and subject so a re-run reproduces it."""

    check_id: str
    severity: str
    message: str
    subject_table: str | None = None
    subject_key: str | None = None
    amount: Decimal | None = None
    citation: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    check_version: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")

    @property
    def finding_id(self) -> str:
        key = f"{self.check_id}|{self.subject_table}|{self.subject_key}|{self.message}"
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]

    def row(self) -> list[Any]:
        """Return the values in the column order of the ``findings`` table."""
        return [
            self.finding_id, self.check_id, self.check_version, self.severity, self.subject_table, self.subject_key,
            self.amount, self.message, self.citation, json.dumps(self.evidence, default=str, ensure_ascii=False),
            datetime.now(UTC).replace(tzinfo=None),
        ]


def insert_findings(con: Any, findings: list[Finding]) -> int:
    """Insert findings into the ``findings`` table (replacing rows with the same id); return how many."""
    if not findings:
        return 0
    con.executemany("INSERT OR REPLACE INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [f.row() for f in findings])
    return len(findings)
