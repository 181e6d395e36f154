"""Errors of the estimate stage."""

from __future__ import annotations

from taxaudit.errors import TaxauditError


class EstimateError(TaxauditError):
    """Inputs to an estimate are missing, inconsistent or outside what the method can compute."""


class BooksNotRejectedError(EstimateError):
    """A best-judgment estimate was asked for but the case does not record that the books were rejected."""
