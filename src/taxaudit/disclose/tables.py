"""The disclosure stage's own tables in the case store, created on first use."""

from __future__ import annotations

import uuid
from typing import Any

from taxaudit.store import Case

TABLES: dict[str, str] = {
    "disclose_requests": """
        request_id VARCHAR PRIMARY KEY,
        request_type VARCHAR NOT NULL,
        requester VARCHAR NOT NULL,
        requester_tax_id VARCHAR,
        taxpayer VARCHAR,
        taxpayer_tax_id VARCHAR,
        matter VARCHAR,
        periods JSON,
        records_sought VARCHAR NOT NULL,
        received_date DATE NOT NULL,
        due_date DATE,
        due_rule VARCHAR,
        status VARCHAR NOT NULL,
        closure_code VARCHAR,
        closed_date DATE,
        created_at TIMESTAMP NOT NULL
    """,
    "disclose_authorizations": """
        authorization_id VARCHAR PRIMARY KEY,
        form VARCHAR NOT NULL,
        taxpayer VARCHAR,
        taxpayer_tax_id VARCHAR NOT NULL,
        representative VARCHAR NOT NULL,
        representative_id VARCHAR,
        matters JSON NOT NULL,
        periods JSON NOT NULL,
        signed_date DATE,
        received_date DATE NOT NULL,
        expires_date DATE,
        revoked_date DATE,
        created_at TIMESTAMP NOT NULL
    """,
    "disclose_documents": """
        document_id VARCHAR PRIMARY KEY,
        request_id VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        source_sha256 VARCHAR NOT NULL,
        redacted_path VARCHAR NOT NULL,
        redacted_sha256 VARCHAR NOT NULL,
        pages INTEGER NOT NULL,
        rule_pack_version VARCHAR,
        terms JSON,
        created_at TIMESTAMP NOT NULL
    """,
    "disclose_redactions": """
        redaction_id VARCHAR PRIMARY KEY,
        request_id VARCHAR NOT NULL,
        document_id VARCHAR NOT NULL,
        page INTEGER NOT NULL,
        x0 DOUBLE, y0 DOUBLE, x1 DOUBLE, y1 DOUBLE,
        line_no INTEGER, char_start INTEGER, char_end INTEGER,
        exemption VARCHAR,
        rule_id VARCHAR,
        reviewer VARCHAR,
        reason VARCHAR,
        value VARCHAR,
        glyphs_removed INTEGER
    """,
    "disclose_findings": """
        finding_key VARCHAR NOT NULL,
        request_id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        message VARCHAR NOT NULL,
        pages JSON NOT NULL,
        status VARCHAR NOT NULL,
        override_reason VARCHAR,
        overridden_by VARCHAR,
        overridden_at TIMESTAMP,
        reviewed_at TIMESTAMP NOT NULL,
        PRIMARY KEY (request_id, finding_key)
    """,
    "disclose_releases": """
        release_id VARCHAR PRIMARY KEY,
        request_id VARCHAR NOT NULL,
        directory VARCHAR NOT NULL,
        manifest_sha256 VARCHAR NOT NULL,
        files INTEGER NOT NULL,
        exemptions JSON NOT NULL,
        overrides JSON NOT NULL,
        created_at TIMESTAMP NOT NULL
    """,
    "disclose_review_samples": """
        review_id VARCHAR NOT NULL,
        request_id VARCHAR NOT NULL,
        draw_order INTEGER NOT NULL,
        population INTEGER NOT NULL,
        seed BIGINT NOT NULL,
        drawn_at TIMESTAMP NOT NULL,
        PRIMARY KEY (review_id, request_id)
    """,
    "disclose_review_results": """
        review_id VARCHAR NOT NULL,
        request_id VARCHAR NOT NULL,
        reviewer VARCHAR NOT NULL,
        error BOOLEAN NOT NULL,
        error_kinds JSON NOT NULL,
        note VARCHAR,
        recorded_at TIMESTAMP NOT NULL,
        PRIMARY KEY (review_id, request_id)
    """,
}


def ensure_tables(case: Case) -> None:
    """Create the disclosure tables in ``case`` if they are not there yet."""
    if case.read_only:
        return
    for name, columns in TABLES.items():
        case.con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns})")


def new_id(prefix: str) -> str:
    """Return a short unique id such as ``REQ-1a2b3c4d5e``."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def rows(case: Case, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Return the result of ``sql`` as a list of dicts keyed by column name."""
    cursor = case.con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
