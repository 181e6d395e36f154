"""Errors of the sampling stage: bad plans, populations that cannot be sampled, results that cannot be evaluated."""

from __future__ import annotations

from taxaudit.errors import TaxauditError


class SamplingError(TaxauditError):
    """A sampling plan, population, selection or result set is invalid; the message says what to change."""
