"""Verify a case: recompute the custody hash chain and the SHA-256 of every evidence file."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from taxaudit.store.case import DB_NAME, EVIDENCE_DIR, LOG_NAME, sha256_file
from taxaudit.store.custody import EVENT_FIELDS, GENESIS, event_hash

# Actions whose ``sha256`` names a file that must be present, unchanged, in evidence/.
EVIDENCE_ACTIONS = frozenset({"source_added"})


@dataclass
class Break:
    seq: int
    reason: str


@dataclass
class VerifyResult:
    """Outcome of :func:`verify_case`: ``ok`` only when the chain and every evidence file check out."""

    ok: bool
    events: int
    first_break: Break | None = None
    evidence_files: int = 0
    problems: list[Break] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "first_break": None if self.first_break is None else vars(self.first_break),
            "evidence_files": self.evidence_files,
            "problems": [vars(p) for p in self.problems],
        }


def _chain_problems(log_path: Path) -> tuple[list[Break], list[dict[str, Any]]]:
    problems: list[Break] = []
    events: list[dict[str, Any]] = []
    if not log_path.exists():
        return [Break(0, f"custody log {LOG_NAME} is missing")], events
    prev_hash = GENESIS
    expected_seq = 1
    with log_path.open("r", encoding="utf-8", errors="replace", newline="\n") as handle:
        text = handle.read()
    if text and not text.endswith("\n"):
        problems.append(Break(expected_seq, "custody log does not end with a newline (a partial write or an edit)"))
    for number, line in enumerate(text.split("\n")[:-1] if text else [], start=1):
        try:
            event = json.loads(line)
            if not isinstance(event, dict) or any(k not in event for k in (*EVENT_FIELDS, "hash")):
                raise ValueError("missing fields")
        except ValueError:
            problems.append(Break(expected_seq, f"log line {number} is not a complete custody event"))
            return problems, events
        seq = event["seq"]
        if seq != expected_seq:
            what = "removed or reordered" if isinstance(seq, int) and seq > expected_seq else "inserted or reordered"
            problems.append(Break(expected_seq, f"log line {number} has seq {seq}, expected {expected_seq}: "
                                                f"an event was {what}"))
            return problems, events
        if event["prev_hash"] != prev_hash:
            problems.append(Break(seq, f"event {seq} does not chain to the event before it "
                                       "(prev_hash differs): an event was inserted, removed or reordered"))
            return problems, events
        if event_hash(event) != event["hash"]:
            problems.append(Break(seq, f"event {seq} was edited: its content does not match its hash"))
            return problems, events
        events.append(event)
        prev_hash = event["hash"]
        expected_seq += 1
    return problems, events


def _head(db_path: Path) -> tuple[int, str] | None:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        row = con.execute("SELECT seq, hash FROM custody_head").fetchone()
    finally:
        con.close()
    return (int(row[0]), str(row[1])) if row else None


def verify_case(directory: str | os.PathLike[str]) -> VerifyResult:
    """Return whether a case's custody chain and evidence are intact, and the first break if not.

    Detects an evidence file changed or removed, and a log line edited, removed (including the last ones,
    via the head the database keeps), inserted or reordered.
    """
    root = Path(directory)
    problems, events = _chain_problems(root / LOG_NAME)
    db_path = root / DB_NAME
    if not db_path.is_file():
        problems.append(Break(0, f"case database {DB_NAME} is missing"))
    elif not problems:
        head = _head(db_path)
        last_seq = events[-1]["seq"] if events else 0
        last_hash = events[-1]["hash"] if events else GENESIS
        if head is None and events:
            problems.append(Break(1, "the case database records no custody head"))
        elif head is not None and head[0] > last_seq:
            problems.append(Break(last_seq + 1,
                                  f"events {last_seq + 1}..{head[0]} were removed from the end of the log"))
        elif head is not None and head[0] < last_seq:
            problems.append(Break(head[0] + 1, f"events {head[0] + 1}..{last_seq} were appended outside taxaudit"))
        elif head is not None and head[1] != last_hash:
            problems.append(Break(last_seq, f"event {last_seq} differs from the head the database recorded"))
    checked = 0
    for event in events:
        if event["action"] not in EVIDENCE_ACTIONS or not event.get("sha256"):
            continue
        checked += 1
        path = root / EVIDENCE_DIR / event["sha256"]
        if not path.is_file():
            problems.append(Break(event["seq"], f"evidence file {event['sha256']} ({event['subject']}) is missing"))
        elif sha256_file(path) != event["sha256"]:
            problems.append(Break(event["seq"], f"evidence file {event['sha256']} ({event['subject']}) was changed: "
                                                "its bytes no longer match their SHA-256"))
    problems.sort(key=lambda b: b.seq)
    return VerifyResult(
        ok=not problems,
        events=len(events),
        first_break=problems[0] if problems else None,
        evidence_files=checked,
        problems=problems,
    )
