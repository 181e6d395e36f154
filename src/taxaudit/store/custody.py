"""The custody log: an append-only JSON-lines hash chain of everything done to a case.

Each line is one event ``{seq, ts, actor, action, subject, sha256, details, prev_hash, hash}``. ``hash`` is the
SHA-256 of the canonical JSON of every other field, and ``prev_hash`` is the previous event's ``hash``
(``GENESIS`` for the first), so editing, removing, inserting or reordering any line breaks the chain.
The case database keeps the head (last seq and hash) so a truncated tail is detected too.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
EVENT_FIELDS = ("seq", "ts", "actor", "action", "subject", "sha256", "details", "prev_hash")


def current_actor() -> str:
    """Return who is acting: ``TAXAUDIT_ACTOR`` if set, else the operating-system user."""
    actor = os.environ.get("TAXAUDIT_ACTOR")
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return f"uid:{os.getuid()}"


def canonical_json(value: Any) -> str:
    """Return the canonical JSON text used for hashing: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(event: dict[str, Any]) -> str:
    """Return the SHA-256 of an event's canonical JSON, excluding its own ``hash`` field."""
    body = {key: event.get(key) for key in EVENT_FIELDS}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Event:
    """One custody event as written to the log."""

    seq: int
    ts: str
    actor: str
    action: str
    subject: str
    sha256: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "ts": self.ts,
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "sha256": self.sha256,
            "details": self.details,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


class CustodyLog:
    """Append-only writer and reader of ``custody.jsonl``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read_raw(self) -> Iterator[tuple[int, str]]:
        """Yield (line number, text) of every line in the log."""
        if not self.path.exists():
            return
        with self.path.open("r", encoding="utf-8", newline="\n") as handle:
            for number, line in enumerate(handle, start=1):
                yield number, line.rstrip("\n")

    def tail(self) -> tuple[int, str]:
        """Return (seq, hash) of the last event, or (0, GENESIS) for an empty log."""
        last = None
        for _, text in self.read_raw():
            if text:
                last = text
        if last is None:
            return 0, GENESIS
        data = json.loads(last)
        return int(data["seq"]), str(data["hash"])

    def make_events(
        self, items: list[tuple[str, str, str | None, dict[str, Any]]], *, actor: str | None = None
    ) -> list[Event]:
        """Return chained events for (action, subject, sha256, details) items following the current tail."""
        seq, prev = self.tail()
        actor = actor or current_actor()
        events = []
        for action, subject, sha256, details in items:
            seq += 1
            body = {
                "seq": seq,
                "ts": datetime.now(UTC).isoformat(timespec="microseconds"),
                "actor": actor,
                "action": action,
                "subject": subject,
                "sha256": sha256,
                # As the log holds them (Decimals, dates, paths as text): the event returned is the event read.
                "details": json.loads(canonical_json(details)),
                "prev_hash": prev,
            }
            digest = event_hash(body)
            events.append(Event(hash=digest, **body))
            prev = digest
        return events

    def append(self, events: list[Event]) -> int:
        """Append events durably; return the byte size of the log before appending (for rollback)."""
        before = self.path.stat().st_size if self.path.exists() else 0
        with self.path.open("a", encoding="utf-8", newline="\n") as handle:
            for event in events:
                handle.write(canonical_json(event.to_dict()) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return before

    def truncate(self, size: int) -> None:
        """Undo an append whose database transaction failed, restoring the log to ``size`` bytes."""
        with self.path.open("r+b") as handle:
            handle.truncate(size)
            handle.flush()
            os.fsync(handle.fileno())
