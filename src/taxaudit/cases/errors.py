"""Errors of the case stage: each says what went wrong, where, and what to do about it."""

from __future__ import annotations

from taxaudit.errors import TaxauditError


class CalendarError(TaxauditError):
    """A working-day calendar cannot be built: unknown country, or transfer data that contradicts itself."""


class DeadlineError(TaxauditError):
    """A deadline cannot be computed: unknown rule, a date outside the rule's effective dates, bad options."""


class LifecycleError(TaxauditError):
    """A case transition is not allowed by the lifecycle (wrong state, a guard not met, unknown flow)."""


class DocumentRefused(TaxauditError):
    """A document may not be issued: e.g. a request for documents with no article 88 ground."""
