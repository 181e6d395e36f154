"""Registered checks over the canonical tables: integrity, audit trail, journal-entry tests, Benford."""

from taxaudit.checks.registry import CheckOptions, CheckRun, CheckSpec, all_checks, check, run_checks

__all__ = ["CheckOptions", "CheckRun", "CheckSpec", "all_checks", "check", "run_checks"]
