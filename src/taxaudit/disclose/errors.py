"""Errors of the disclosure stage: each says what failed, where, and what to do."""

from __future__ import annotations

from taxaudit.errors import TaxauditError


class DisclosureError(TaxauditError):
    """A disclosure request, document or rule file cannot be used as given."""


class RuleFileError(DisclosureError):
    """A redaction or authorization rule file is malformed."""


class RedactionError(DisclosureError):
    """A redaction cannot be applied safely; nothing is written (fail closed)."""


class AuthorizationError(DisclosureError):
    """No authorization on file covers the release; ``what`` names the condition that failed."""


class ReleaseBlockedError(DisclosureError):
    """A release package is refused: open consistency findings or a failed authorization check."""
