"""The canonical tables: the contract between stages (see DESIGN.md).

Amounts are DECIMAL(18,2). Every table that holds source data carries ``source_id`` so each row can be
traced to the exact evidence file it came from. Later stages may add tables; they never change these.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

AMOUNT = "DECIMAL(18,2)"

TABLES: dict[str, str] = {
    "case_info": """
        case_id VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        schema_version INTEGER NOT NULL,
        country VARCHAR,
        title VARCHAR
    """,
    "sources": """
        source_id VARCHAR PRIMARY KEY,
        path VARCHAR NOT NULL,
        file_name VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL UNIQUE,
        size_bytes BIGINT NOT NULL,
        format VARCHAR NOT NULL,
        format_version VARCHAR,
        imported_at TIMESTAMP NOT NULL,
        imported_by VARCHAR NOT NULL,
        rows_read BIGINT NOT NULL,
        rows_loaded BIGINT NOT NULL,
        rows_quarantined BIGINT NOT NULL,
        options JSON
    """,
    "source_headers": f"""
        source_id VARCHAR PRIMARY KEY,
        company_name VARCHAR,
        registration_number VARCHAR,
        tax_registration_number VARCHAR,
        country VARCHAR,
        currency VARCHAR,
        period_start DATE,
        period_end DATE,
        period_start_no INTEGER,
        period_start_year INTEGER,
        period_end_no INTEGER,
        period_end_year INTEGER,
        file_created DATE,
        software_company VARCHAR,
        software_id VARCHAR,
        software_version VARCHAR,
        tax_accounting_basis VARCHAR,
        declared_entries BIGINT,
        declared_total_debit {AMOUNT},
        declared_total_credit {AMOUNT}
    """,
    "accounts": f"""
        source_id VARCHAR NOT NULL,
        account_id VARCHAR NOT NULL,
        name VARCHAR,
        type VARCHAR,
        standard_account VARCHAR,
        grouping_category VARCHAR,
        opening_debit {AMOUNT},
        opening_credit {AMOUNT},
        closing_debit {AMOUNT},
        closing_credit {AMOUNT},
        PRIMARY KEY (source_id, account_id)
    """,
    "parties": f"""
        source_id VARCHAR NOT NULL,
        party_id VARCHAR NOT NULL,
        role VARCHAR NOT NULL CHECK (role IN ('customer', 'supplier', 'employee', 'other')),
        name VARCHAR,
        tax_id VARCHAR,
        country VARCHAR,
        account_id VARCHAR,
        opening_debit {AMOUNT},
        opening_credit {AMOUNT},
        closing_debit {AMOUNT},
        closing_credit {AMOUNT},
        PRIMARY KEY (source_id, role, party_id)
    """,
    "tax_codes": """
        source_id VARCHAR NOT NULL,
        tax_type VARCHAR,
        tax_code VARCHAR NOT NULL,
        description VARCHAR,
        percentage DECIMAL(9,4),
        country VARCHAR,
        standard_tax_code VARCHAR,
        effective_date DATE,
        expiration_date DATE,
        base_rate DECIMAL(9,4)
    """,
    "journal_entries": """
        source_id VARCHAR NOT NULL,
        entry_id VARCHAR NOT NULL,
        journal_id VARCHAR,
        journal_description VARCHAR,
        period VARCHAR,
        period_year INTEGER,
        posting_date DATE,
        document_date DATE,
        created_at TIMESTAMP,
        created_by VARCHAR,
        changed_at TIMESTAMP,
        changed_by VARCHAR,
        status VARCHAR NOT NULL CHECK (status IN ('posted', 'changed', 'deleted', 'voided')),
        description VARCHAR,
        source_ref VARCHAR,
        voucher_type VARCHAR,
        PRIMARY KEY (source_id, entry_id)
    """,
    "journal_lines": f"""
        source_id VARCHAR NOT NULL,
        entry_id VARCHAR NOT NULL,
        line_no INTEGER NOT NULL,
        account_id VARCHAR NOT NULL,
        party_id VARCHAR,
        debit {AMOUNT} NOT NULL,
        credit {AMOUNT} NOT NULL,
        currency VARCHAR,
        tax_code VARCHAR,
        tax_amount {AMOUNT},
        description VARCHAR
    """,
    "invoices": f"""
        source_id VARCHAR NOT NULL,
        book VARCHAR NOT NULL CHECK (book IN ('sales', 'purchases')),
        seller_tax_id VARCHAR,
        buyer_tax_id VARCHAR,
        invoice_no VARCHAR NOT NULL,
        invoice_date DATE,
        net_amount {AMOUNT},
        vat_amount {AMOUNT},
        vat_rate DECIMAL(9,4),
        currency VARCHAR,
        period VARCHAR
    """,
    "return_lines": f"""
        source_id VARCHAR NOT NULL,
        return_type VARCHAR NOT NULL,
        period VARCHAR NOT NULL,
        line_code VARCHAR NOT NULL,
        amount {AMOUNT}
    """,
    "quarantine": """
        source_id VARCHAR NOT NULL,
        locator VARCHAR NOT NULL,
        reason_code VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        raw VARCHAR
    """,
    "findings": f"""
        finding_id VARCHAR PRIMARY KEY,
        check_id VARCHAR NOT NULL,
        check_version VARCHAR,
        severity VARCHAR NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
        subject_table VARCHAR,
        subject_key VARCHAR,
        amount {AMOUNT},
        message VARCHAR NOT NULL,
        citation VARCHAR,
        evidence JSON,
        created_at TIMESTAMP NOT NULL
    """,
    "custody_head": """
        seq BIGINT NOT NULL,
        hash VARCHAR NOT NULL
    """,
}

# Tables whose rows come from one source; removing a source would remove its rows from each.
SOURCE_TABLES = (
    "source_headers",
    "accounts",
    "parties",
    "tax_codes",
    "journal_entries",
    "journal_lines",
    "invoices",
    "return_lines",
    "quarantine",
)


def create_statements() -> list[str]:
    """Return the CREATE TABLE statements of every canonical table."""
    return [f"CREATE TABLE IF NOT EXISTS {name} ({body.strip()})" for name, body in TABLES.items()]
