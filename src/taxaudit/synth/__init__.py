"""Seeded synthetic data for demos, tests and benchmarks (``taxaudit.synth``)."""

from taxaudit.synth.company import CompanySpec, Ledger, Line, Txn, generate_ledger
from taxaudit.synth.saft_writer import write_saft

__all__ = ["CompanySpec", "Ledger", "Line", "Txn", "generate_ledger", "write_saft"]
