"""The case directory: DuckDB store, evidence copies, custody log."""

from taxaudit.store.case import Case, init_case, open_case
from taxaudit.store.verify import VerifyResult, verify_case

__all__ = ["Case", "VerifyResult", "init_case", "open_case", "verify_case"]
