"""``entry_versions``: earlier versions of journal entries, as an accounting system's audit trail keeps them.

``journal_entries``/``journal_lines`` hold each entry as it stands now; this table holds every *prior* version
line by line (version 1 is the first one entered), so a check can show an entry's before and after. Created on
first use by the ingest that fills it (QuickBooks Audit Trail) and by the checks that read it.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from taxaudit.model.schema import AMOUNT

ENTRY_VERSIONS_DDL = f"""
CREATE TABLE IF NOT EXISTS entry_versions (
    source_id VARCHAR NOT NULL,
    entry_id VARCHAR NOT NULL,
    version_no INTEGER NOT NULL,
    state VARCHAR NOT NULL,
    modified_at TIMESTAMP,
    modified_by VARCHAR,
    posting_date DATE,
    doc_num VARCHAR,
    line_no INTEGER NOT NULL,
    account_id VARCHAR,
    party_id VARCHAR,
    debit {AMOUNT} NOT NULL,
    credit {AMOUNT} NOT NULL,
    description VARCHAR
)"""

# Arrow types in table order after source_id, for the batch loader.
ENTRY_VERSION_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("entry_id", pa.string()), ("version_no", pa.int32()), ("state", pa.string()),
    ("modified_at", pa.timestamp("us")), ("modified_by", pa.string()), ("posting_date", pa.date32()),
    ("doc_num", pa.string()), ("line_no", pa.int32()), ("account_id", pa.string()), ("party_id", pa.string()),
    ("debit", pa.decimal128(18, 2)), ("credit", pa.decimal128(18, 2)), ("description", pa.string()),
]


def ensure_entry_versions(con: Any) -> None:
    """Create the ``entry_versions`` table if the case does not have it yet."""
    con.execute(ENTRY_VERSIONS_DDL)
